"""The run journal: one JSON-lines file per run under ``<state dir>/runs/``.

The journal receives the same events as the terminal (less live progress), written and flushed line
by line, so an interrupted run leaves everything up to its last event on disk. ``RunRecord`` reads a
file back for ``mediaops runs``, ``runs show`` and ``resume``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from mediaops.errors import MediaopsError, UsageError

_NOT_JOURNALED = {"wait_progress", "step_plan"}
DONE_OUTCOMES = {"done", "not_needed", "skipped", "todo"}


def new_run_id(runbook: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{runbook}-{os.urandom(2).hex()}"  # what secrets.token_hex(2) is, without importing it


class JournalSink:
    """Appends events to the run's file; fsyncs at the end of each step and of the run."""

    def __init__(self, directory: Path, run_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{run_id}.jsonl"
        self._file: IO[str] = self.path.open("a", encoding="utf-8")

    def handle(self, event: dict[str, Any]) -> None:
        if event["event"] in _NOT_JOURNALED:
            return
        self._file.write(json.dumps(event, sort_keys=False) + "\n")
        self._file.flush()
        if event["event"] in ("step_end", "run_end"):
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class StepRecord(msgspec.Struct):
    """One step of a run as its journal tells it."""

    index: int
    title: str
    outcome: str = "pending"
    started: str = ""
    ended: str = ""
    duration: float | None = None
    summary: str = ""
    error: str = ""
    undone: bool = False
    commands: list[str] = msgspec.field(default_factory=list)  # what its operations rendered, as run (step_intent)


class RunRecord(msgspec.Struct):
    """A run as the journal tells it: parameters, who and where, each step's last outcome."""

    run_id: str
    path: Path
    runbook: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    user: str = ""
    host: str = ""
    target: dict[str, Any] = msgspec.field(default_factory=dict)
    started: str = ""
    ended: str = ""
    status: str = "running"
    exit_code: int | None = None
    facts: dict[str, Any] = msgspec.field(default_factory=dict)
    steps: dict[int, StepRecord] = msgspec.field(default_factory=dict)
    sessions: int = 0
    events: list[dict[str, Any]] = msgspec.field(default_factory=list)
    pid: int | None = None
    edits: dict[str, str | None] = msgspec.field(default_factory=dict)  # path -> digest the run wrote (step_intent)
    step_edits: dict[int, dict[str, str | None]] = msgspec.field(default_factory=dict)  # the same, per step

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        record = cls(run_id=path.stem, path=path)
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    # A line cut short by a crash ends the readable journal; what came before stands.
                    if number > 1:
                        break
                    raise UsageError(f"journal {path} is not readable JSON lines") from None
                record._apply(event)
        if record.status == "running" and record.gone():
            record.status = "abandoned"
        return record

    def gone(self) -> bool:
        """Whether the process that wrote this run is known to be gone (same host, no such process): it was
        killed or the machine went down; it can be resumed."""
        import socket

        return bool(self.pid) and self.host == socket.gethostname() and not process_alive(int(self.pid or 0))

    def _apply(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        kind = event["event"]
        if kind == "run_start":
            self.sessions += 1
            if self.sessions == 1:
                self.runbook = event.get("runbook", "")
                self.params = event.get("params", {})
                self.started = event["ts"]
            self.user, self.host, self.pid = event.get("user", ""), event.get("host", ""), event.get("pid")
            self.target = event.get("target", {})
            self.status, self.exit_code, self.ended = "running", None, ""
        elif kind == "step_start":
            step = self.steps.setdefault(event["index"], StepRecord(event["index"], event["title"]))
            step.started, step.outcome, step.error = event["ts"], "running", ""
        elif kind == "step_end":
            step = self.steps.setdefault(event["index"], StepRecord(event["index"], event["title"]))
            step.outcome = event["outcome"]
            step.ended = event["ts"]
            step.duration = event.get("duration")
            step.summary = event.get("summary", "")
            step.error = event.get("error", "")
            self.facts.update(event.get("facts", {}))
        elif kind == "step_intent":
            written = {e["path"]: e.get("after") for e in event.get("edits") or []}
            self.edits.update(written)
            self.step_edits.setdefault(event["index"], {}).update(written)
            if event.get("commands") and event["index"] in self.steps:
                self.steps[event["index"]].commands = list(event["commands"])
        elif kind == "undo_end" and event.get("outcome") == "done":
            if event["index"] in self.steps:
                self.steps[event["index"]].undone = True
        elif kind == "facts":
            self.facts.update(event.get("facts", {}))
        elif kind == "run_end":
            self.status = event["status"]
            self.exit_code = event.get("exit_code")
            self.ended = event["ts"]

    def first_step_not_done(self) -> int:
        """Index of the first step a resumed run must (re)do."""
        index = 0
        while index in self.steps and self.steps[index].outcome in DONE_OUTCOMES and not self.steps[index].undone:
            index += 1
        return index

    @property
    def duration(self) -> float | None:
        if not (self.started and self.ended):
            return None
        start = datetime.fromisoformat(self.started.replace("Z", "+00:00"))
        end = datetime.fromisoformat(self.ended.replace("Z", "+00:00"))
        return round((end - start).total_seconds(), 3)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "runbook": self.runbook,
            "params": self.params,
            "user": self.user,
            "host": self.host,
            "started": self.started,
            "ended": self.ended,
            "status": self.status,
            "exit_code": self.exit_code,
        }

    def to_dict(self) -> dict[str, Any]:
        data = self.summary()
        data["target"] = self.target
        data["facts"] = self.facts
        data["steps"] = [msgspec.structs.asdict(step) for _, step in sorted(self.steps.items())]
        return data


def process_alive(pid: int) -> bool:
    """Whether the process runs on this host (a zombie nobody has reaped yet has stopped)."""
    import os
    from pathlib import Path

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


class Journal:
    """The directory of run files."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "runs"

    def sink(self, run_id: str) -> JournalSink:
        return JournalSink(self.directory, run_id)

    def runs(self) -> list[RunRecord]:
        if not self.directory.is_dir():
            return []
        records = []
        for path in self.directory.glob("*.jsonl"):
            try:
                records.append(RunRecord.load(path))
            except (MediaopsError, OSError, ValueError, KeyError, TypeError) as exc:
                # One damaged journal never hides the others: say which, list the rest.
                print(f"mediaops: warning: skipped {path.name}: "
                      f"{exc.message if isinstance(exc, MediaopsError) else type(exc).__name__}", file=sys.stderr)
        return sorted(records, key=lambda record: record.started, reverse=True)

    def get(self, run_id: str) -> RunRecord:
        """A run by its ID, a unique part of one, or ``last`` (the newest)."""
        if run_id == "last":
            records = self.runs()
            if not records:
                raise UsageError(f"no runs in {self.directory}", hint="`mediaops runs` lists the runs")
            return records[0]
        path = self.directory / f"{run_id}.jsonl"
        if not path.is_file():
            matches = sorted(self.directory.glob(f"*{run_id}*.jsonl")) if self.directory.is_dir() else []
            if len(matches) > 1:
                names = ", ".join(m.stem for m in matches[:4]) + (", …" if len(matches) > 4 else "")
                raise UsageError(f"{run_id!r} matches {len(matches)} runs: {names}", hint="give more of the run ID")
            if not matches:
                raise UsageError(
                    f"no run {run_id!r} in {self.directory}",
                    hint="`mediaops runs` lists the runs",
                )
            path = matches[0]
        return RunRecord.load(path)
