"""The maintenance bracket: Alertmanager silences for the apps a run takes down, the notes on what it suspends,
and the start-and-end webhook. Alertmanager is the rehearsal's stand-in (API v2); the webhook a loopback server."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import Mediaops


def _silences(ops: Mediaops) -> list[dict[str, Any]]:
    state = json.loads((ops.state / "sim" / "state.json").read_text())
    with urllib.request.urlopen(f"{state['alertmanager']}/api/v2/silences", timeout=5) as response:
        return list(json.loads(response.read()))


def _run_id(ops: Mediaops) -> str:
    (run_id,) = [r for r in ops.journals() if "nfs-outage" in r or "backup-before-upgrade" in r][-1:]
    return run_id


def test_a_failed_maintenance_keeps_its_silences_until_the_undo_ends_them(sim: Mediaops) -> None:
    # --planned, but the NAS never goes down: the run fails at the wait, with the apps scaled down.
    failed = sim.run("run", "nfs-outage", "--planned", "--yes", "--down-timeout", "1")
    assert failed.returncode == 1, failed.stdout[-1500:]
    run_id = _run_id(sim)
    ours = [s for s in _silences(sim) if run_id in s["comment"]]
    apps = {m["value"] for s in ours for m in s["matchers"] if m["name"] == "namespace"}
    assert ours and all(s["status"]["state"] == "active" for s in ours) and apps == {"media"}
    assert all(s["createdBy"].startswith("mediaops ") for s in ours)
    assert {m["name"] for s in ours for m in s["matchers"]} == {"namespace", "pod", "deployment", "statefulset",
                                                                 "persistentvolumeclaim"}
    # Whoever looks at the cluster meanwhile sees who suspended what, in which run and why.
    status = sim.run("status", "--failed")
    assert f"run {run_id}: NFS outage maintenance" in " ".join(status.stdout.split()), status.stdout
    undo = sim.run("undo", run_id, "--yes")
    assert undo.returncode == 0, undo.stdout[-1500:]
    assert "alerts are live again" in undo.stdout
    assert all(s["status"]["state"] == "expired" for s in _silences(sim) if run_id in s["comment"])


def test_a_finished_upgrade_silences_only_while_it_runs(sim: Mediaops) -> None:
    preview = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--dry-run")
    assert "amtool silence add" in preview.stdout and _silences(sim) == []
    done = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert done.returncode == 0, done.stdout[-1500:]
    run_id = _run_id(sim)
    ours = [s for s in _silences(sim) if run_id in s["comment"]]
    assert len(ours) == 4 and all(s["status"]["state"] == "expired" for s in ours)
    assert {m["value"] for s in ours for m in s["matchers"] if m["isRegex"]} == {"tautulli(-.*)?"}
    (events,) = [e for r, e in sim.journals().items() if r == run_id]
    order = [e["event"] if e["event"] != "step_start" else e["title"] for e in events]
    silenced = next(i for i, e in enumerate(events) if e["event"] == "facts" and e["facts"].get("silences"))
    assert silenced < order.index("Reconcile the app with source")  # before the step that takes it down
    # Undone later (`mediaops undo`): the restore stops the app again, under silences of its own, expired at the end.
    undone = sim.run("undo", run_id, "--yes")
    assert undone.returncode == 0, undone.stdout[-1500:]
    again = [s for s in _silences(sim) if run_id in s["comment"]]
    assert len(again) == 8 and all(s["status"]["state"] == "expired" for s in again)
    assert "alerts are live again" in undone.stdout
    assert order.index("Back up the app, its volumes' data included") < silenced


@contextmanager
def _webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", posts
    finally:
        server.shutdown()
        server.server_close()


def test_the_webhook_hears_of_each_runs_start_and_end(sim: Mediaops) -> None:
    with _webhook() as (url, posts):
        sim.env["MEDIAOPS_NOTIFY_URL"] = url
        assert sim.run("run", "restart", "tautulli", "--yes").returncode == 0
        assert sim.run("run", "restart", "tautulli", "--dry-run").returncode == 0  # a preview tells no one
        sim.env["MEDIAOPS_NOTIFY_FORMAT"] = "discord"
        assert sim.run("run", "restart", "overseerr", "--yes").returncode == 3
    texts = [p.get("text") or p.get("content") for p in posts]
    assert len(texts) == 4, texts
    assert texts[0].startswith("mediaops started restart") and "ended: done" in texts[1]
    assert set(posts[2]) == {"content"} and "ended: precondition-failed" in texts[3]
    sim.env["MEDIAOPS_NOTIFY_URL"] = "http://127.0.0.1:9/nothing-here"
    quiet = sim.run("run", "restart", "tautulli", "--yes", "--force")
    assert quiet.returncode == 0 and "notification not sent" in quiet.stderr
