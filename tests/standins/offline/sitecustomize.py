"""Put on PYTHONPATH by a test that proves a command asks nothing but loopback: a name lookup of any other host, or
a connection to any other address, fails as an offline machine's would and is written to ``$OFFLINE_LOG``."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_lookup, _connect, _connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex


def _loopback(host: Any) -> bool:
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    with open(os.environ["OFFLINE_LOG"], "a") as log:
        log.write(f"{what}\n")
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


socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
socket.socket.connect = connect  # type: ignore[method-assign]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
