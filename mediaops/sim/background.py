"""A rehearsal cluster in a background process: start it, find it, talk to its control endpoint, stop it.

``python -m mediaops.sim`` serves the rehearsal and keeps ``state.json`` (pid, API URL, kubeconfig, progress,
ready) in the state directory's ``sim/``; the functions here are what ``mediaops sim …`` calls.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediaops.errors import MediaopsError, UsageError


def running(directory: Path) -> dict[str, Any]:
    """The state file of the rehearsal running from ``directory``; a usage error when none is."""
    path = directory / "state.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:  # none, or it ended between a look and this read
        raise UsageError("no rehearsal cluster is running", hint="start one with `mediaops sim up`") from None
    except ValueError:  # written whole (``_write``), so damaged by something else
        raise MediaopsError(f"the rehearsal's state file {path} is not what it writes",
                            hint="`mediaops sim down`, or remove the file if no rehearsal runs") from None


def start(directory: Path, repo_root: Path, *, timing: str, timeout: float, nas_port: int,
          progress: Callable[[tuple[int, int] | None], None], env: dict[str, str] | None = None,
          cluster: str = "") -> dict[str, Any]:
    """Start the rehearsal in a new session (with ``env``, else this process's environment) and wait until it
    settles (or says why it did not)."""
    if (directory / "state.json").is_file():
        pid = running(directory).get("pid")
        raise UsageError(f"a rehearsal cluster is already running (pid {pid})", hint="`mediaops sim down` first")
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "sim.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "mediaops.sim", "--repo", str(repo_root), "--dir",
                                    str(directory), "--timing", timing, "--nas-port", str(nas_port),
                                    "--timeout", str(timeout), *(["--cluster", cluster] if cluster else [])],
                                   stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    deadline = time.monotonic() + timeout + 30  # the process gives up at `timeout` and says why
    state: dict[str, Any] = {}
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                reason = log.read_text().strip().splitlines()[-1:] or ["it exited"]
                line = reason[0] if reason[0].startswith("the rehearsal") else \
                    f"the rehearsal did not start: {reason[0]}"
                raise MediaopsError(line, hint=f"the whole log is {log}")
            path = directory / "state.json"
            if path.is_file():
                try:
                    state = json.loads(path.read_text())
                except ValueError:  # caught between its write and its close
                    state = {}
                except FileNotFoundError:  # removed as the process gave up: the next look finds it ended
                    state = {}
                if state.get("progress"):
                    progress(tuple(state["progress"]))
                if state.get("ready"):
                    return state
            time.sleep(0.05)
        process.terminate()
        raise MediaopsError("the rehearsal cluster did not settle in time", hint=f"see {log}")
    finally:
        progress(None)


def serve(rehearsal: Any, directory: Path, timeout: float) -> dict[str, Any]:
    """Serve a rehearsal made in this process, keeping its state file (pid, API URL, kubeconfig, the addresses of
    its stand-ins, progress, ready) in ``directory``, until it settles: ``python -m mediaops.sim`` does this, and
    the tests' rehearsals (tests/conftest.py ``sim``) do it in the test's own process."""
    state_file = directory / "state.json"
    rehearsal.serve()
    state: dict[str, Any] = {
        "pid": os.getpid(), "server": rehearsal.server.url,
        "kubeconfig": str(rehearsal.kubeconfig(directory / "kubeconfig")), "repo": str(rehearsal.repo),
        "ready": False, "ingress": rehearsal.ingress_url,
        "nas": f"{rehearsal.nas_host}:{rehearsal.nas_port}" if rehearsal.nas_host else "",
        "dns": rehearsal.dns_address, "alertmanager": rehearsal.alertmanager_url,
        "overseerr": rehearsal.overseerr_url, "overseerr_api_key": rehearsal.overseerr_api_key}
    _write(state_file, state)

    def progress(ready: int, total: int) -> None:
        state["progress"] = [ready, total]
        _write(state_file, state)

    rehearsal.settle(timeout, progress)
    state["ready"] = True
    state["not_ready"] = rehearsal.not_ready()
    _write(state_file, state)
    return state


def _write(path: Path, state: dict[str, Any]) -> None:
    """The state file written whole: a new file renamed over the old, so a reader never finds half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state))
    os.replace(partial, path)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    from mediaops.engine.journal import process_alive as alive

    return alive(pid)


def stop(directory: Path, *, patience: float = 10) -> tuple[int, str]:
    """SIGTERM the background rehearsal and wait until its process is gone (SIGKILL after ``patience``).

    Returns its pid and how it ended: "stopped", "killed" or "already stopped"."""
    state = running(directory)
    pid = int(state["pid"])
    path = directory / "state.json"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return pid, "already stopped"
    deadline = time.monotonic() + patience
    how = "stopped"
    while process_alive(pid):  # "stopped" only once the process is gone
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            how = "killed"
            break
        time.sleep(0.05)
    path.unlink(missing_ok=True)
    return pid, how


def control(directory: Path, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST ``body`` to) the running rehearsal's control endpoint ``/rehearsal/…``."""
    import urllib.error
    import urllib.request

    state = running(directory)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(state["server"] + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        raise UsageError(json.loads(exc.read() or b"{}").get("message", str(exc))) from None
