"""Where nothing is coloured, a run is printed without rich (engine/plainui.py): line for line what the terminal's
view (engine/richui.py) prints there, at any width, from the events of real runs and of every kind."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mediaops.engine.plainui import PlainUI
from mediaops.engine.richui import RichUI
from tests.conftest import Mediaops

LONG = "Wait until every workload of the application is rolled out and its pods are ready " * 2
EVERY_KIND: list[dict[str, Any]] = [
    {"event": "run_start", "runbook": "x", "summary": "S", "params": {"app": "a", "flag": False, "n": None},
     "target": {"repo": "/r", "context": "c"}, "mode": "yes", "run_id": "id", "resumed": True, "resume_at": 2},
    {"event": "check", "status": "concern", "title": "T", "detail": "d\twith a tab"},
    {"event": "check", "status": "would_check", "title": "T2"},
    {"event": "check", "status": "ok", "title": "T3", "detail": "fine"},
    {"event": "step_plan", "index": 0, "total": 3, "title": LONG, "why": "why\twhy", "manual": "do this\nand that",
     "diff": "--- a\n+++ b\n@@\n-x\n+y\n", "verify": "v", "mutates": True, "command": "kubectl a\nkubectl b"},
    {"event": "details", "why": "w", "verify": "v", "undo": "u", "diff": "d\n", "command": "c", "undo_command": "uc"},
    {"event": "step_start", "index": 0, "title": LONG},
    {"event": "wait_start", "label": "Pod media/x [init] [1/1]"},
    {"event": "wait_progress", "status": "containers with unready status: [tautulli]"},
    {"event": "wait_progress", "status": "1/2 ready"}, {"event": "wait_progress", "status": "1/2 ready"},
    {"event": "wait_progress", "status": "2/2 ready"},
    {"event": "wait_end", "outcome": "failed", "label": "L", "duration": 1.234},
    {"event": "log", "message": "m\r\nwith a carriage return, a bell\a and a form feed\f"},
    {"event": "log", "message": "名前\tafter a wide name, a tab"},
    {"event": "step_end", "index": 0, "title": LONG, "outcome": "failed", "duration": 12.5, "error": "boom"},
    {"event": "step_start", "index": 1, "title": "Second [init]"},
    {"event": "step_end", "index": 1, "title": "Second [init]", "outcome": "todo"},
    {"event": "undo_start", "index": 0, "title": LONG},
    {"event": "undo_end", "index": 0, "outcome": "done"},
    {"event": "undo_end", "index": 5, "outcome": "failed", "error": "e"},
    {"event": "step_start", "index": 2, "title": "Third\twith a tab"},
    {"event": "step_end", "index": 2, "title": "Third\twith a tab", "outcome": "done", "duration": 0.5},
    {"event": "warning", "message": "w"},
    {"event": "follow_up", "title": "t", "instructions": "i1\ni2"},
    {"event": "run_end", "status": "failed", "message": "it failed", "resume": "mediaops resume id",
     "undo": "mediaops undo id"},
]
WIDE_CHARACTERS = [{"event": "run_start", "runbook": "x", "params": {}, "mode": "dry-run", "run_id": "id",
                    "undo": True},
                   {"event": "step_end", "index": 9, "title": "名前のステップ", "outcome": "done", "duration": 0.1},
                   {"event": "run_end", "status": "done"}]
OUTCOMES = [{"event": "step_end", "index": i, "title": f"step {i}", "outcome": outcome}
            for i, outcome in enumerate(["done", "not_needed", "skipped", "would_run", "todo", "failed", "interrupted",
                                         "pending", "running", "another"])] + [{"event": "run_end", "status": "done"}]


def _both(events: list[dict[str, Any]], width: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("COLUMNS", str(width))
    rich_out, plain_out = io.StringIO(), io.StringIO()
    rich, plain = RichUI(Console(file=rich_out, width=width, highlight=False, emoji=False)), PlainUI(plain_out)
    for event in events:
        rich.handle(event)
        plain.handle(event)
    return rich_out.getvalue(), plain_out.getvalue()


@pytest.mark.parametrize("width", [20, 38, 80, 140])
@pytest.mark.parametrize("events", [EVERY_KIND, WIDE_CHARACTERS, OUTCOMES], ids=["every-kind", "wide", "outcomes"])
def test_the_plain_view_prints_what_rich_prints_there(events: list[dict[str, Any]], width: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rich, plain = _both(events, width, monkeypatch)
    assert plain == rich


def test_a_real_runs_events_print_the_same(mediaops: Mediaops, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A run with edits, a diff, a failure and its summary (tests/runbooks/files.py), from its JSON stream."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    streams = [mediaops.run("run", "write-files", str(scratch), "--dry-run", "--json").stdout]
    (scratch / "fail").write_text("")  # its third step fails
    streams.append(mediaops.run("run", "write-files", str(scratch), "--yes", "--json").stdout)
    (scratch / "fail").unlink()
    streams.append(mediaops.run("run", "write-files", str(scratch), "--yes", "--json").stdout)
    outcomes = [[e["outcome"] for e in map(json.loads, stream.splitlines()) if e["event"] == "step_end"]
                for stream in streams]
    assert "would_run" in outcomes[0] and "failed" in outcomes[1] and "done" in outcomes[2], outcomes
    for stream in streams:
        events = [json.loads(line) for line in stream.splitlines()]
        assert events and events[-1]["event"] == "run_end"
        for width in (40, 80, 140):
            rich, plain = _both(events, width, monkeypatch)
            assert plain == rich
    piped = mediaops.run("run", "write-files", str(scratch), "--dry-run")  # through a pipe: the plain view
    assert piped.returncode == 0 and "summary" in piped.stdout and "\x1b[" not in piped.stdout
