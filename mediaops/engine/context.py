"""What a runbook's functions receive: parameters, facts, secrets, services and a way to speak."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediaops.engine.events import Emitter


class Waiting:
    """Handle of a wait in progress: ``update`` says, live, why it is still waiting."""

    def __init__(self, emitter: Emitter, label: str) -> None:
        self._emitter = emitter
        self.label = label

    def update(self, status: str, *, completed: int | None = None, total: int | None = None) -> None:
        self._emitter.progress(self.label, status, completed, total)


class Context:
    """Per-run state handed to checks, actions, verifies and undos.

    ``params`` are what the operator passed; ``facts`` are what checks and steps learned and later
    steps (and a resumed run) need: they are journaled, so they must never hold a secret. Secrets
    go in ``secrets``, which is kept in memory only and masked in every output.
    Services (``ctx.repo``, ``ctx.cluster``, ...) are built on first use by factories the CLI provides.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        *,
        emitter: Emitter,
        services: Mapping[str, Callable[[], Any]] | None = None,
        facts: Mapping[str, Any] | None = None,
        run_id: str = "",
    ) -> None:
        self.params: dict[str, Any] = dict(params)
        self.facts: dict[str, Any] = dict(facts or {})
        self.secrets: dict[str, str] = {}
        self.run_id = run_id
        self._emitter = emitter
        self._factories = dict(services or {})
        self._built: dict[str, Any] = {}
        self.ask: Callable[[str], str] | None = None  # set by the runner at a terminal
        # The run's own file edits, path -> digest of the content it wrote (None: it removed the file),
        # journaled before they were written; a resumed run gets them back from the journal.
        self.own_edits: dict[str, str | None] = {}

    def __getattr__(self, name: str) -> Any:
        factories = self.__dict__.get("_factories", {})
        if name in factories:
            built = self.__dict__["_built"]
            if name not in built:
                built[name] = factories[name]()
            return built[name]
        raise AttributeError(name)

    def has_service(self, name: str) -> bool:
        return name in self._factories

    def values(self) -> dict[str, Any]:
        """Params and facts together, for filling command templates."""
        return {**self.params, **self.facts}

    def log(self, message: str) -> None:
        """A line of output under the current step (secrets are masked)."""
        self._emitter.log(message)

    def warn(self, message: str) -> None:
        """A line the operator must not miss (shown in red, journaled)."""
        self._emitter.emit("warning", message=message)

    def waiting(self, label: str) -> AbstractContextManager[Waiting]:
        """A spinner with elapsed time while something is awaited; update it with the live reason."""
        return self._emitter.waiting(label)

    def secret(self, name: str, value: str) -> str:
        """Keep a secret for this run: never journaled, masked wherever it would be printed."""
        self.secrets[name] = value
        self._emitter.mask(value)
        return value

    def ask_secret(self, name: str, question: str) -> str:
        """Ask the operator for a secret without echo; refused without a terminal."""
        from mediaops.errors import UsageError

        if self.ask is None:
            raise UsageError(f"{question}: no terminal to ask at", hint="give it through the runbook's file option")
        return self.secret(name, self.ask(question))

