"""One stream of run events, fanned out to sinks: the terminal, the JSON stream and the journal.

Every event is a flat JSON object with ``event``, ``ts`` (UTC, ISO 8601) and ``run_id``; the fields of
each kind are listed in ``mediaops/schemas/events.schema.json`` and docs/json-events.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from mediaops.engine.context import Waiting

MASK = "••••"


class Sink(Protocol):
    def handle(self, event: dict[str, Any]) -> None: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Emitter:
    """Builds events, masks secrets in every string, and hands each event to every sink."""

    def __init__(self, run_id: str, sinks: list[Sink]) -> None:
        self.run_id = run_id
        self.sinks = sinks
        self._secrets: set[str] = set()

    def mask(self, value: str) -> None:
        if value and len(value) >= 4:
            self._secrets.add(value)

    def redact(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"event": kind, "ts": now(), "run_id": self.run_id}
        event.update({k: self.redact(v) for k, v in fields.items() if v is not None})
        for sink in self.sinks:
            sink.handle(event)
        return event

    def log(self, message: str) -> None:
        self.emit("log", message=message)

    def progress(self, label: str, status: str, completed: int | None, total: int | None) -> None:
        self.emit("wait_progress", label=label, status=status, completed=completed, total=total)

    @contextmanager
    def waiting(self, label: str) -> Iterator[Waiting]:
        started = time.monotonic()
        self.emit("wait_start", label=label)
        outcome = "failed"
        try:
            yield Waiting(self, label)
            outcome = "done"
        finally:
            self.emit("wait_end", label=label, outcome=outcome, duration=round(time.monotonic() - started, 3))
