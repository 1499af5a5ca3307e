"""Put on PYTHONPATH by a test that proves a command asks nothing but loopback: a name lookup of any other host, or
a connection to any other address, fails as an offline machine's would and is written to ``$OFFLINE_LOG``."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_lookup, _connect, _connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex
_sendto, _sendmsg = socket.socket.sendto, socket.socket.sendmsg
# Opened now, before the command runs: the engine's read-only sections (checks, previews) refuse to open files.
_LOG = open(os.environ["OFFLINE_LOG"], "a", buffering=1)  # noqa: SIM115 - open for the process's life


def _loopback(host: Any) -> bool:
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    _LOG.write(f"{what}\n")
    raise socket.gaierror(socket.EAI_NONAME, f"offline: {what}")


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _loopback(host):
        _refuse(f"lookup {host}")
    return _lookup(host, *args, **kwargs)


def connect(self: socket.socket, address: Any) -> None:
    if isinstance(address, tuple) and not _loopback(address[0]):
        _refuse(f"connect {address[0]}:{address[1]}")
    _connect(self, address)


def connect_ex(self: socket.socket, address: Any) -> int:
    if isinstance(address, tuple) and not _loopback(address[0]):
        _refuse(f"connect {address[0]}:{address[1]}")
    return _connect_ex(self, address)


def sendto(self: socket.socket, data: Any, *args: Any) -> int:
    address = args[-1]  # sendto(data, address) or sendto(data, flags, address): a UDP query, say
    if isinstance(address, tuple) and not _loopback(address[0]):
        _refuse(f"send to {address[0]}:{address[1]}")
    return int(_sendto(self, data, *args))


def sendmsg(self: socket.socket, buffers: Any, ancdata: Any = (), flags: int = 0, address: Any = None) -> int:
    if isinstance(address, tuple) and not _loopback(address[0]):
        _refuse(f"send to {address[0]}:{address[1]}")
    return int(_sendmsg(self, buffers, ancdata, flags, *([address] if address is not None else [])))


socket.getaddrinfo = getaddrinfo
socket.socket.sendto = sendto  # type: ignore[method-assign, assignment]
socket.socket.sendmsg = sendmsg  # type: ignore[method-assign, assignment]
socket.socket.connect = connect  # type: ignore[method-assign, assignment]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]
