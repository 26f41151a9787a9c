"""Loaded by every Python process the tests start (it is on their PYTHONPATH): no network.

The pipeline must never reach the network while reading untrusted input or rendering. Any
attempt to resolve a name or connect an Internet socket raises, and is also appended to the
file named by PRESS_NETGUARD_LOG, so a test fails even when the code swallowed the exception.
"""

from __future__ import annotations

import os
import socket
import traceback


class NetworkBlocked(ConnectionRefusedError):
    """Raised instead of any network access during the tests."""


_LOCAL_FAMILIES = {getattr(socket, "AF_UNIX", None)}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _record(what: str) -> None:
    log = os.environ.get("PRESS_NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"pid {os.getpid()}: {what}\n{''.join(traceback.format_stack(limit=12))}\n")


def _blocked(what: str) -> NetworkBlocked:
    _record(what)
    return NetworkBlocked(f"network access blocked by the test guard: {what}")


def _connect(self: socket.socket, address):
    if self.family in _LOCAL_FAMILIES:
        return _real_connect(self, address)
    raise _blocked(f"connect {address!r}")


def _connect_ex(self: socket.socket, address):
    if self.family in _LOCAL_FAMILIES:
        return _real_connect_ex(self, address)
    raise _blocked(f"connect {address!r}")


def _getaddrinfo(host, *args, **kwargs):
    raise _blocked(f"resolve {host!r}")


def _create_connection(address, *args, **kwargs):
    raise _blocked(f"create_connection {address!r}")


def install() -> None:
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    socket.getaddrinfo = _getaddrinfo
    socket.gethostbyname = _getaddrinfo
    socket.create_connection = _create_connection


if os.environ.get("PRESS_NETGUARD_LOG"):
    install()
