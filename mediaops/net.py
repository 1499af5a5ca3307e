"""Reachability as monitoring sees it: a TCP port (the NAS's NFS), an HTTP check of an ingress host."""

from __future__ import annotations

import http.client
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import msgspec

NFS_PORT = 2049


def nas_address(config: Any, server: str) -> str:
    """Where the NFS server ``server`` is asked: in a rehearsal, its NAS on loopback, which stands in for every NFS
    server the repository names (``_nas_address``, set by ``--sim`` and by a ``sim up`` kubeconfig: a name or
    address in a repository is someone else's); else the server itself."""
    return str(config.get("_nas_address") or server)


def tcp_open(host: str, port: int = NFS_PORT, timeout: float = 2.0) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} answers"
    except TimeoutError:
        return False, f"{host}:{port} did not answer within {timeout:.0f}s"
    except OSError as exc:
        return False, f"{host}:{port}: {exc.strerror or type(exc).__name__}"


class NotYet(Exception):
    """``wait_tcp`` ran out of time; the message says what it last saw."""


def wait_tcp(host: str, port: int, *, up: bool, timeout: float, waiting: Any = None,
             interval: float = 1.0) -> str:
    """Wait until ``host:port`` answers (``up``) or stops answering; returns what the last probe said. A TCP
    port has no watch, so it is probed: at once, then after 0.1 s, doubling to ``interval``."""
    started, pause = time.monotonic(), 0.1
    while True:
        answers, detail = tcp_open(host, port, timeout=min(1.0, interval))
        if answers == up:
            return detail
        if time.monotonic() - started > timeout:
            raise NotYet(detail)
        if waiting is not None:
            waiting.update(f"not answering: {detail}" if up else "still answering")
        time.sleep(pause)
        pause = min(interval, pause * 2)


class HttpCheck(msgspec.Struct):
    """An HTTP answer: the URL asked, its status, whether that is a pass, and a note."""

    url: str
    status: int
    ok: bool
    note: str


def http_check_command(host: str, path: str = "/", base_url: str | None = None) -> str:
    """The curl line that asks what ``http_check`` asks (the same URL and Host header)."""
    url = (base_url.rstrip("/") if base_url else f"https://{host}") + path
    return f"curl -s -o /dev/null -w '%{{http_code}}' -H 'Host: {host}' {url}"


_STATUS_CONDITION = re.compile(r"\[STATUS\]\s*(==|!=|<=|>=|<|>)\s*(any\(([^)]*)\)|\d+)")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, ">": lambda a, b: a > b}


def expected_status(endpoint: str) -> tuple[Callable[[int], bool], str] | None:
    """What a gatus-sidecar endpoint annotation (``gatus.home-operations.com/endpoint``, the endpoint's YAML) says
    a healthy answer's status is: each ``[STATUS] OP N`` or ``[STATUS] == any(N, M)`` of its conditions, all of
    which must hold, as Gatus evaluates them (TwiN/gatus config/endpoint/condition.go); None when it says
    nothing of the status (then 200, or 401 behind auth, is up)."""
    found = _STATUS_CONDITION.findall(endpoint)
    if not found:
        return None
    tests: list[tuple[str, set[int] | int]] = []
    for op, value, choices in found:
        tests.append((op, {int(c) for c in re.findall(r"\d+", choices)}) if choices else (op, int(value)))

    def holds(code: int) -> bool:
        for op, wanted in tests:
            if isinstance(wanted, set):
                if (code in wanted) != (op == "=="):
                    return False
            elif not _COMPARE[op](code, wanted):
                return False
        return True

    return holds, ", ".join(f"[STATUS] {op} {value}" for op, value, _ in found)


def http_check(host: str, path: str = "/", base_url: str | None = None, timeout: float = 5.0,
               expect: tuple[Callable[[int], bool], str] | None = None) -> HttpCheck:
    """GET the ingress host as Gatus would: 200 is up, 401 is up behind auth, anything else is down; or, with
    ``expect`` (``expected_status`` of the host's Gatus endpoint), up when its conditions on the status hold.

    ``base_url`` (setting ``ingress_base_url``) sends the request to an address of your choosing with the
    app's host name in the Host header, e.g. the ingress controller's service or a port-forward.
    """
    url = (base_url.rstrip("/") if base_url else f"https://{host}") + path
    request = urllib.request.Request(url, headers={"Host": host, "User-Agent": "mediaops"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:  # ValueError: a bad URL
        reason = getattr(exc, "reason", exc)
        return HttpCheck(url, 0, False, f"no answer from {url} ({reason})")
    if expect is not None:
        up = expect[0](status)
        return HttpCheck(url, status, up, f"HTTP {status} ({'as' if up else 'not as'} its Gatus conditions "
                                          f"expect: {expect[1]})")
    note = {200: "200 OK", 401: "401 behind auth (up)"}.get(status, f"HTTP {status}")
    return HttpCheck(url, status, status in (200, 401), note)
