"""Loaded by every Python process the tests start (it is on their PYTHONPATH): no network.

The pipeline must never reach the network while reading untrusted input or rendering. Any
attempt to resolve a name or connect an Internet socket raises, and is also appended to the
file named by PRESS_NETGUARD_LOG, so a test fails even when the code swallowed the exception.
The one exception is a literal loopback address (127.0.0.0/8, ::1; not even the name "localhost",
which a resolver might send out): the tests' own stand-ins for the Hugging Face hub and an Argos
package index listen there, and nothing sent there leaves the machine.
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
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection
_real_gethostbyname = socket.gethostbyname


def _is_loopback(host) -> bool:
    """A literal loopback address (a name, even "localhost", is refused: resolving it may query DNS)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip("[]").lower()
    import ipaddress
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _record(what: str) -> None:
    log = os.environ.get("PRESS_NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"pid {os.getpid()}: {what}\n{''.join(traceback.format_stack(limit=12))}\n")


def _blocked(what: str) -> NetworkBlocked:
    _record(what)
    return NetworkBlocked(f"network access blocked by the test guard: {what}")


def _allowed(family, address) -> bool:
    if family in _LOCAL_FAMILIES:
        return True
    return isinstance(address, tuple) and bool(address) and _is_loopback(address[0])


def _connect(self: socket.socket, address):
    if _allowed(self.family, address):
        return _real_connect(self, address)
    raise _blocked(f"connect {address!r}")


def _connect_ex(self: socket.socket, address):
    if _allowed(self.family, address):
        return _real_connect_ex(self, address)
    raise _blocked(f"connect {address!r}")


def _getaddrinfo(host, *args, **kwargs):
    if _is_loopback(host):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise _blocked(f"resolve {host!r}")


def _gethostbyname(host):
    if _is_loopback(host):
        return _real_gethostbyname(host)
    raise _blocked(f"resolve {host!r}")


def _create_connection(address, *args, **kwargs):
    if isinstance(address, tuple) and address and _is_loopback(address[0]):
        return _real_create_connection(address, *args, **kwargs)
    raise _blocked(f"create_connection {address!r}")


def install() -> None:
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    socket.getaddrinfo = _getaddrinfo
    socket.gethostbyname = _gethostbyname
    socket.create_connection = _create_connection


if os.environ.get("PRESS_NETGUARD_LOG"):
    install()
