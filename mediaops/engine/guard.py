"""The read-only guard: while active in a thread, nothing in that thread can write.

Checks, dry-run previews and ``when`` tests run under it. It is an audit hook (PEP 578), so it holds
whatever the runbook's code does: opening a file for writing, renaming, deleting, creating directories,
spawning a process (unless the caller declared the command read-only) and sending an HTTP request
other than GET/HEAD all raise ``DryRunViolation`` before anything happens.

There is no exempt directory: a wrapper that must write scratch files or run a read-only command
(the Kubernetes client's certificate files, ``git diff``) says so with ``trusted_read()``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mediaops.errors import DryRunViolation

_state = threading.local()
_installed = False
_install_lock = threading.Lock()

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_MUTATING_EVENTS = {
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.chmod",
    "os.chown",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
}
_SPAWN_EVENTS = {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "os.exec"}
_SAFE_HTTP = (b"GET ", b"HEAD ", b"OPTIONS ")


def _count(name: str) -> int:
    return int(getattr(_state, name, 0))


def active() -> bool:
    return bool(_count("depth"))


def _protected(path: str) -> bool:
    return path not in (os.devnull, "/dev/tty", "/dev/stdout", "/dev/stderr")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _count("depth") or _count("allow") or _count("busy"):
        return
    _state.busy = 1
    try:
        _check(event, args)
    finally:
        _state.busy = 0


def _check(event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        path, mode, flags = args
        if not isinstance(path, str | bytes) or isinstance(path, bytes):
            return
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and _protected(path):
            raise DryRunViolation(f"read-only: refused to open {path} for writing")
    elif event in _MUTATING_EVENTS:
        target = args[0] if args and isinstance(args[0], str) else ""
        if not target or _protected(target):
            raise DryRunViolation(f"read-only: refused {event} {target}".rstrip())
    elif event in _SPAWN_EVENTS:
        raise DryRunViolation(f"read-only: refused to start a process ({event} {_describe(args)})")
    elif event == "http.client.send":
        data = bytes(args[1]) if len(args) > 1 and isinstance(args[1], bytes | bytearray) else b""
        method = data[:8].split(b" ")[0]
        if method.isupper() and not data.startswith(_SAFE_HTTP):
            raise DryRunViolation(f"read-only: refused to send an HTTP {method.decode(errors='replace')} request")


def _describe(args: tuple[Any, ...]) -> str:
    if len(args) > 1 and isinstance(args[1], list | tuple):
        return " ".join(str(a) for a in args[1])[:120]
    return ""


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


@contextmanager
def read_only() -> Iterator[None]:
    """Forbid writes, process starts and mutating HTTP requests in this thread for the duration."""
    _install()
    previous_bytecode = sys.dont_write_bytecode
    _state.depth = getattr(_state, "depth", 0) + 1
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        _state.depth -= 1
        sys.dont_write_bytecode = previous_bytecode


@contextmanager
def trusted_read() -> Iterator[None]:
    """Let a wrapper run a command it knows to be read-only (``git diff``, ``kubectl kustomize``)."""
    _state.allow = getattr(_state, "allow", 0) + 1
    try:
        yield
    finally:
        _state.allow -= 1
