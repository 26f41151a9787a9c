"""The network guard the whole suite runs under really blocks, here and in child processes,
and a rendered manuscript that points at the network or at local files fetches nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from conftest import CHILD_PYTHONPATH, GUARD, NETGUARD_LOG


def _attempts_since(size: int) -> str:
    with NETGUARD_LOG.open(encoding="utf-8") as log:
        log.seek(size)
        return log.read()


def test_the_guard_blocks_connections_and_lookups_in_this_process():
    size = NETGUARD_LOG.stat().st_size
    with pytest.raises(GUARD.NetworkBlocked):
        socket.create_connection(("192.0.2.1", 9))  # TEST-NET-1: an address outside this machine
    with pytest.raises(GUARD.NetworkBlocked):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(GUARD.NetworkBlocked):
        socket.getaddrinfo("localhost", 80)  # a name, even this one, could go to a resolver
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with raw, pytest.raises(GUARD.NetworkBlocked):
        raw.connect(("10.0.0.1", 80))
    attempts = _attempts_since(size)
    assert "192.0.2.1" in attempts and "example.org" in attempts and "10.0.0.1" in attempts
    with NETGUARD_LOG.open("r+") as log:  # these attempts were the test's own: forget them
        log.truncate(size)


def test_the_guard_lets_loopback_through_for_the_tests_own_servers():
    """The stand-ins for the model hub listen on 127.0.0.1; reaching them leaves the machine never."""
    size = NETGUARD_LOG.stat().st_size
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = server.accept()
            accepted.close()
    assert _attempts_since(size) == ""


def test_the_guard_blocks_a_child_that_swallows_the_error():
    size = NETGUARD_LOG.stat().st_size
    code = ("import urllib.request\n"
            "try:\n    urllib.request.urlopen('http://example.org/', timeout=2)\n"
            "except Exception as error:\n    print(type(error).__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=CHILD_PYTHONPATH))
    assert result.returncode == 0, result.stderr
    assert "example.org" in _attempts_since(size), "the child reached for the network unguarded"
    with NETGUARD_LOG.open("r+") as log:
        log.truncate(size)
