"""Walks a runbook for real, as a preview (dry run) or unattended, and journals every event.

This module alone decides whether a step runs, is previewed or is asked about. Runbook code never
checks for a dry run: read-only work (checks, ``when`` tests, edit planning, previews) runs under
``guard.read_only``, and in a dry run no mutating action is called at all.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from mediaops import __version__
from mediaops.engine import guard
from mediaops.engine.context import Context
from mediaops.engine.events import MASK, Emitter, Sink
from mediaops.engine.journal import Journal, RunRecord, new_run_id
from mediaops.engine.model import (
    Changes,
    CheckFailed,
    Concern,
    Operation,
    Runbook,
    Step,
    content_digest,
    render,
    render_ops,
)
from mediaops.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PRECONDITION,
    EXIT_STEP_FAILED,
    EXIT_USAGE,
    MediaopsError,
    PreconditionFailed,
    StepFailed,
    UsageError,
)

INTERACTIVE, YES, DRY_RUN = "interactive", "yes", "dry-run"


class Aborted(Exception):
    """The operator chose abort."""


@dataclass
class RunOptions:
    """How a run goes: interactive or unattended, whether a failure is rolled back, whether it can be resumed."""

    mode: str = INTERACTIVE
    rollback_on_failure: bool = False
    resumable: bool = True  # False for an in-process rehearsal: its cluster is gone when the run ends


@dataclass
class _Done:
    """A step that ran, with what it changed (undone in reverse when the run is rolled back)."""

    index: int
    step: Step
    changes: Changes | None = None


@dataclass
class Runner:
    """One run (or the resumed continuation of one) of a runbook."""

    runbook: Runbook
    params: Mapping[str, Any]
    options: RunOptions
    sinks: list[Sink]
    journal: Journal | None = None
    services: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    target: Mapping[str, str] = field(default_factory=dict)
    prompter: Any = None
    locker: Callable[..., AbstractContextManager[Any]] | None = None
    resume: RunRecord | None = None
    silences: Any = None  # mediaops.maintenance.Silences when alertmanager_url is set

    def __post_init__(self) -> None:
        self.run_id = self.resume.run_id if self.resume else new_run_id(self.runbook.name)
        self.emitter = Emitter(self.run_id, list(self.sinks))
        self.ctx = Context(
            self.params,
            emitter=self.emitter,
            services=self.services,
            facts=self.resume.facts if self.resume else None,
            run_id=self.run_id,
        )
        if self.resume:
            self.ctx.own_edits.update(self.resume.edits)
        if self.prompter is not None:
            self.ctx.ask = self.prompter.password
        self.start_at = self.resume.first_step_not_done() if self.resume else 0
        # A resumed run that is aborted offers the undo of the earlier sessions' steps too.
        self.done: list[_Done] = self._journaled_done(self.resume, self.start_at) if self.resume else []
        self._current: tuple[int, Step] | None = None
        self._holding: Any = None  # what the locker yields: its check() raises once the lock is lost
        self._previewed_change = False
        self._previewed_silence = False
        self._undone: set[int] = set()
        self._no_more_questions = False
        # Steps the operator skipped (this session and, resumed, earlier ones): later steps may depend on them.
        self._skipped: set[int] = {i for i, r in self.resume.steps.items() if r.outcome == "skipped"} \
            if self.resume else set()

    @property
    def mode(self) -> str:
        return self.options.mode

    # -- the run ------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run and return the exit code; every outcome is journaled and reported as one event."""
        self._refuse_manual_steps_up_front()
        journal_sink = None
        if self.journal is not None and self.mode != DRY_RUN:
            journal_sink = self.journal.sink(self.run_id)
            self.emitter.sinks.append(journal_sink)
        started = time.monotonic()
        previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._emit_start()
            code, status, message = self._run_guarded()
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
        # The bracket closes when the run ends, is aborted (and undone) or is refused; a failed or interrupted
        # run keeps its silences (the app may still be down) until the resume ends or they run out.
        if self.mode != DRY_RUN and status not in ("failed", "interrupted"):
            self._close_bracket()
        if self.runbook.epilogue is not None and self.mode != DRY_RUN and status != "refused":
            try:
                for line in self.runbook.epilogue(self.ctx):
                    self.emitter.emit("warning", message=line)
            except Exception as exc:  # the epilogue must not hide how the run ended
                self.emitter.emit("warning", message=f"could not check what the run left behind: {exc}")
        resume = f"mediaops resume {self.run_id}" if status in ("interrupted", "failed") else None
        if status == "aborted" and any(not d.step.reversible for d in self.done):
            resume = f"mediaops resume {self.run_id}"
        left = [d for d in self.done if d.step.reversible and d.index not in self._undone]
        if self._undone and not left:
            resume = None  # everything it did was undone: there is nothing to continue
        self.emitter.emit(
            "run_end",
            status=status,
            exit_code=code,
            message=message,
            duration=round(time.monotonic() - started, 3),
            resume=resume if self.mode != DRY_RUN and self.options.resumable else None,
            undo=f"mediaops undo {self.run_id}" if left and status in ("interrupted", "failed", "aborted")
            and self.mode != DRY_RUN and self.options.resumable else None,
        )
        if journal_sink:
            journal_sink.close()
        return code

    def undo(self) -> int:
        """Undo the completed steps of a journaled run (finished, failed, interrupted or abandoned), most recent
        first, with the usual prompt (or --yes, or a preview with --dry-run); appended to the run's journal."""
        assert self.resume is not None
        record = self.resume
        self.done = self._journaled_done(record)
        journal_sink = None
        if self.journal is not None and self.mode != DRY_RUN:
            journal_sink = self.journal.sink(self.run_id)
            self.emitter.sinks.append(journal_sink)
        started = time.monotonic()
        self._emit_start(undo=True)
        previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        try:
            code, status, message = self._undo_guarded()
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
        if self.mode != DRY_RUN and status == "undone":
            self._close_bracket()
        self.emitter.emit("run_end", status=status, exit_code=code, message=message,
                          duration=round(time.monotonic() - started, 3),
                          resume=f"mediaops undo {self.run_id}" if status in ("failed", "interrupted") else None)
        if journal_sink:
            journal_sink.close()
        return code

    def _journaled_done(self, record: RunRecord, before: int | None = None) -> list[_Done]:
        """The journal's completed steps, and failed ones that may have half happened and have an undo (as in
        a live run), not undone yet; only those before ``before`` when given."""
        steps = self.runbook.steps
        return [_Done(index, steps[index], None) for index, step in sorted(record.steps.items())
                if index < len(steps) and (before is None or index < before) and steps[index].mutates
                and not step.undone and (step.outcome == "done" or (step.outcome == "failed" and steps[index].undo_fn))]

    def _undo_guarded(self) -> tuple[int, str, str]:
        reversible = [d for d in self.done if d.step.reversible]
        if not reversible:
            return EXIT_OK, "nothing-to-undo", f"run {self.run_id} has no completed step to undo"
        if self.mode == DRY_RUN:
            for done in reversed(self.done):
                step = done.step
                self.emitter.emit("undo_start", index=done.index, title=step.title)
                command = render(step.undo_command, self.ctx, self.ctx.values()) if step.undo_fn else ""
                what = step.undo_doc or ("put its files back as they were" if step.edit else
                                         f"do nothing: {step.nothing_to_undo}" if step.nothing_to_undo else "no undo")
                self.emitter.emit("log", message=f"would {what}" + (f": {command}" if command else ""))
                self.emitter.emit("undo_end", index=done.index, title=step.title, outcome="would_run")
            return EXIT_OK, "dry-run", "dry run complete: nothing was undone"
        try:
            with self._lock():
                if self.mode == INTERACTIVE and not self.prompter.confirm(
                        f"Undo the {len(reversible)} completed step(s) of {self.run_id}, most recent first?",
                        default=False):
                    return EXIT_STEP_FAILED, "aborted", "nothing undone"
                if any(d.step.undo_fn for d in reversible):
                    # An undo puts apps back as they were, stopping them on the way (a restore): silenced too.
                    # A failed run's own silences may have run out by now: replaced by the undo's.
                    self._close_bracket()
                    self._open_bracket()
                if not self._undo_all():
                    return EXIT_STEP_FAILED, "failed", "the undo stopped; what is left is said above"
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED, "interrupted", "interrupted during the undo"
        except MediaopsError as exc:
            return EXIT_PRECONDITION, "precondition-failed", f"precondition not met: {exc.line()}"
        return EXIT_OK, "undone", f"undid {len(reversible)} step(s) of {self.run_id}"

    def _run_guarded(self) -> tuple[int, str, str]:
        try:
            with self._lock():
                self._run_checks()
                self._refuse_conditional_manual_steps()
                return self._run_steps()
        except KeyboardInterrupt:
            if self._current is not None:
                index, step = self._current
                self.emitter.emit(
                    "step_end", index=index, title=step.title, outcome="interrupted", facts=self.ctx.facts
                )
            return EXIT_INTERRUPTED, "interrupted", f"interrupted; run {self.run_id} can be resumed"
        except PreconditionFailed as exc:
            return EXIT_PRECONDITION, "precondition-failed", f"precondition not met: {exc.line()}"
        except UsageError as exc:
            return EXIT_USAGE, "refused", exc.line()
        except Aborted:
            self._current = None
            self._offer_undo()
            return EXIT_STEP_FAILED, "aborted", "aborted by the operator"
        except StepFailed as exc:
            self._current = None
            if self.options.rollback_on_failure:
                self._undo_all()
            return EXIT_STEP_FAILED, "failed", f"failed: {exc.line()}"
        except MediaopsError as exc:
            # Before the first step (the cluster unreachable or refusing us, the Lease): nothing was changed,
            # so it is an unmet precondition (exit 3), and the journal says how the run ended.
            if self._current is None and not self.done:
                return EXIT_PRECONDITION, "precondition-failed", f"precondition not met: {exc.line()}"
            return EXIT_STEP_FAILED, "failed", f"failed: {exc.line()}"

    def _emit_start(self, undo: bool = False) -> None:
        shown = {
            p.name: (MASK if p.secret and self.params.get(p.name) else self.params.get(p.name))
            for p in self.runbook.params
        }
        self.emitter.emit(
            "run_start",
            runbook=self.runbook.name,
            summary=self.runbook.summary,
            params=shown,
            mode=self.mode,
            user=getpass.getuser(),
            host=socket.gethostname(),
            pid=os.getpid(),
            target=dict(self.target),
            version=__version__,
            steps=len(self.runbook.steps),
            resumed=bool(self.resume) or None,
            resume_at=self.start_at if self.resume and not undo else None,
            undo=undo or None,
        )

    @contextmanager
    def _lock(self) -> Iterator[None]:
        if self.runbook.lock is None or self.locker is None or self.mode == DRY_RUN:
            yield
            return
        with self.locker(self.runbook.lock(self.params), self.run_id, self.params) as holding:
            self._holding = holding
            yield

    # -- checks -------------------------------------------------------------------------------------
    def _run_checks(self) -> None:
        if self.resume:
            self.emitter.log("re-running the preconditions before resuming")
        has_cluster = self.ctx.has_service("cluster")
        for check in self.runbook.checks:
            if check.needs_cluster and not has_cluster:
                if self.mode == DRY_RUN:
                    self.emitter.emit("check", title=check.title, status="would_check")
                    continue
                raise UsageError(
                    f"{check.title}: this runbook needs a cluster",
                    hint="pass --kubeconfig/--context, or --sim to rehearse",
                )
            try:
                with self._read_only():
                    detail = check.fn(self.ctx)
            except CheckFailed as exc:
                self.emitter.emit("check", title=check.title, status="failed", detail=str(exc))
                raise PreconditionFailed(f"{check.title}: {exc}") from None
            except UsageError as exc:  # bad input (unknown app, malformed file): exit 2, not 3
                self.emitter.emit("check", title=check.title, status="failed", detail=exc.line())
                raise
            except MediaopsError as exc:
                self.emitter.emit("check", title=check.title, status="failed", detail=exc.line())
                raise PreconditionFailed(f"{check.title}: {exc.line()}") from None
            self.emitter.emit("check", title=check.title, status="concern" if isinstance(detail, Concern) else "ok",
                              detail=str(detail) if detail else None)
        if self.ctx.facts:
            self.emitter.emit("facts", facts=self.ctx.facts)

    def _read_only(self) -> AbstractContextManager[None]:
        return guard.read_only()

    def _refuse_manual_steps_up_front(self) -> None:
        if self.mode == YES:
            refuse_unattended(self.runbook, self.start_at)

    def _refuse_conditional_manual_steps(self) -> None:
        if self.mode != YES:
            return
        for step in self.runbook.steps[self.start_at :]:
            if step.is_manual and step.blocking and step.when is not None:
                with self._read_only():
                    reason = step.when(self.ctx)
                if not reason:
                    raise UsageError(
                        f"this run needs a step a human must do ({step.title!r}); --yes cannot run it",
                        hint="run it interactively at a terminal",
                    )

    # -- steps --------------------------------------------------------------------------------------
    def _run_steps(self) -> tuple[int, str, str]:
        total = len(self.runbook.steps)
        acted = []  # outcomes of the steps that change something: waits and follow-ups do not count
        for index, step in enumerate(self.runbook.steps):
            if index < self.start_at:
                continue
            if self._holding is not None and hasattr(self._holding, "check"):
                try:  # a lost lock stops the run between two steps, never in the middle of one
                    self._holding.check()
                except MediaopsError as exc:
                    raise StepFailed(f"stopped before step {index + 1} ({step.title}): {exc.line()}") from None
            outcome = self._run_step(index, step, total)
            if step.mutates and not step.is_manual:
                acted.append(outcome)
        if self.mode == DRY_RUN:
            return EXIT_OK, "dry-run", "dry run complete: nothing was changed"
        if acted and all(o == "not_needed" for o in acted):
            return EXIT_OK, "done", "nothing to do: every step was already in place"
        return EXIT_OK, "done", "done"

    def _run_step(self, index: int, step: Step, total: int) -> str:
        try:
            return self._plan_and_run(index, step, total)
        except (KeyboardInterrupt, Aborted, StepFailed):
            raise
        except Exception as exc:  # a failing read-only test or preview fails its step
            error = _error_line(exc)
            self.emitter.emit("step_end", index=index, title=step.title, outcome="failed", error=error)
            raise StepFailed(f"step {index + 1} ({step.title}): {error}") from exc

    def _plan_and_run(self, index: int, step: Step, total: int) -> str:
        ctx, emit = self.ctx, self.emitter.emit
        has_cluster = ctx.has_service("cluster")
        cannot_look = step.needs_cluster and not has_cluster and self.mode == DRY_RUN
        # In a preview, once a step would have changed something, later "already done?" tests would
        # look at a state the run would not see; those steps are shown as what they would do.
        stale = self.mode == DRY_RUN and self._previewed_change
        # A step after one the operator skipped, which it depends on, must not judge the world ("nothing to
        # commit", "Ready") as if that step had run: it says so and asks (with --yes it is skipped too).
        positions = {id(s): i for i, s in enumerate(self.runbook.steps)}
        blocked_by = [positions[id(d)] for d in step.after if positions.get(id(d)) in self._skipped]
        if blocked_by:
            first = blocked_by[0]
            emit("warning", message=f"step {first + 1} ({self.runbook.steps[first].title}) was skipped, and "
                                    f"step {index + 1} ({step.title}) depends on it")
            if self.mode != INTERACTIVE:
                return self._skip(index, step, f"skipped: step {first + 1} it depends on was skipped")
        if step.skip_if is not None:
            reason = step.skip_if(ctx)
            if reason:
                emit("step_start", index=index, title=step.title, mutates=step.mutates)
                emit("step_end", index=index, title=step.title, outcome="not_needed", summary=reason, duration=0.0)
                return "not_needed"
        if step.when is not None and not cannot_look and not stale and not blocked_by:
            with self._read_only():
                reason = step.when(ctx)
            if reason:
                emit("step_start", index=index, title=step.title, mutates=step.mutates)
                emit("step_end", index=index, title=step.title, outcome="not_needed", summary=reason, duration=0.0)
                return "not_needed"
        changes: Changes | None = None
        if step.edit and step.action is not None:
            with self._read_only():
                changes = step.action(ctx)
            if not changes:
                emit("step_start", index=index, title=step.title, mutates=step.mutates)
                emit(
                    "step_end", index=index, title=step.title, outcome="not_needed",
                    summary="the files already say so", duration=0.0,
                )
                return "not_needed"
        ops: list[Operation] | None = None
        if step.ops is not None and not cannot_look:
            with self._read_only():
                ops = list(step.ops.build(ctx))
            # "Nothing to act on" judges the world, which a step after a skipped one must not do (it asks), nor
            # one previewed after a would-be change (the world it would see is not this one).
            if not ops and not blocked_by and not stale:
                emit("step_start", index=index, title=step.title, mutates=step.mutates)
                emit("step_end", index=index, title=step.title, outcome="not_needed", summary=step.ops.empty,
                     duration=0.0)
                return "not_needed"
        values = ctx.values()
        plan = {
            "index": index,
            "total": total,
            "title": step.title,
            "why": render(step.why, ctx, values),
            # Operations not found yet (a preview after a would-be change, a step after a skipped one): the
            # declaration's own form, with what the run knows filled in.
            "command": render_ops(ops) if ops else
            step.ops.offline(ctx) if cannot_look and step.ops is not None and step.ops.offline is not None else
            render(step.command, None, values) if ops == [] or cannot_look else render(step.command, ctx, values),
            "mutates": step.mutates,
            "manual": render(step.manual, ctx, values) if step.manual else None,
            "diff": changes.diff() if changes else None,
            "verify": step.verify_doc or None,
        }
        if self.mode == DRY_RUN:
            self._preview_bracket(step)
        emit("step_plan", **plan)
        if self.mode == DRY_RUN:
            outcome = self._preview(index, step, cannot_look, ops)
            self._previewed_change = self._previewed_change or outcome == "would_run"
            return outcome
        if step.is_manual:
            return self._manual(index, step, plan)
        if self.mode == INTERACTIVE and (step.mutates or blocked_by):
            answer = self._ask(plan, step, force=bool(blocked_by))
            if answer == "skip":
                return self._skip(index, step, "skipped by the operator")
        return self._execute(index, step, changes, ops)

    # -- the maintenance bracket ----------------------------------------------------------------------
    def _open_bracket(self) -> None:
        """Silence the alerts of the apps the run takes down, once, before the first step that disrupts them.
        A silence that cannot be made is a warning: the maintenance itself must not wait on Alertmanager."""
        if self.silences is None or self.runbook.takes_down is None or self.ctx.facts.get("silences"):
            return
        apps = self.runbook.takes_down(self.ctx)
        if not apps:
            return
        reason = self._silence_reason()
        try:
            ids = self.silences.open(apps, run_id=self.run_id, user=getpass.getuser(), reason=reason)
        except MediaopsError as exc:
            self.emitter.emit("warning", message=f"alerts not silenced: {exc.line()}")
            return
        self.ctx.facts["silences"] = ids
        self.emitter.emit("facts", facts={"silences": ids})
        names = ", ".join(f"{ns}/{app}" for ns, app in apps)
        self.emitter.log(f"silenced the alerts of {names} in Alertmanager for {self.silences.minutes} min "
                         f"({len(ids)} silences, ended when the run ends)")

    def _preview_bracket(self, step: Step) -> None:
        if not step.disrupts or self.silences is None or self.runbook.takes_down is None or self._previewed_silence:
            return
        self._previewed_silence = True
        apps = self.runbook.takes_down(self.ctx)
        self.emitter.log("before the next step, mediaops would silence the alerts of "
                         + ", ".join(f"{ns}/{app}" for ns, app in apps) + " in Alertmanager until the run ends:\n"
                         + self.silences.command(apps, run_id=self.run_id, user=getpass.getuser(),
                                                 reason=self._silence_reason()))

    def _silence_reason(self) -> str:
        return f"{self.runbook.name}: {self.runbook.summary}"

    def _close_bracket(self) -> None:
        ids = list(self.ctx.facts.get("silences") or [])
        if self.silences is None or not ids:
            return
        try:
            expired = self.silences.expire(ids)
        except MediaopsError as exc:
            self.emitter.emit("warning", message=f"silences left to expire on their own: {exc.line()}")
            return
        self.ctx.facts["silences"] = []
        self.emitter.emit("facts", facts={"silences": []})
        if expired:
            self.emitter.log(f"expired the run's {expired} Alertmanager silence(s): alerts are live again")

    def _skip(self, index: int, step: Step, summary: str) -> str:
        self._skipped.add(index)
        self.emitter.emit("step_start", index=index, title=step.title, mutates=step.mutates)
        self.emitter.emit("step_end", index=index, title=step.title, outcome="skipped", summary=summary)
        return "skipped"

    def _preview(self, index: int, step: Step, cannot_look: bool, ops: list[Operation] | None) -> str:
        emit = self.emitter.emit
        emit("step_start", index=index, title=step.title, mutates=step.mutates)
        # A read-only step after a would-be change would look at a state the run would not see.
        if (step.mutates or step.is_manual or cannot_look or (step.action is None and ops is None)
                or self._previewed_change):
            emit("step_end", index=index, title=step.title, outcome="would_run")
            return "would_run"
        started = time.monotonic()
        with self._read_only():
            result = _perform(self.ctx, ops) if ops is not None else step.action(self.ctx) if step.action else None
        emit("step_end", index=index, title=step.title, outcome="done", summary=_summary(result),
             duration=round(time.monotonic() - started, 3))
        return "done"

    def _ask(self, plan: dict[str, Any], step: Step, force: bool = False) -> str:
        if self._no_more_questions and not force:
            return "run"
        while True:
            answer = str(self.prompter.step())
            if answer == "continue":  # as Ansible's --step `c`: the rest of the run without asking
                self._no_more_questions = True
                self.emitter.log("continuing without asking (manual steps and failures still ask)")
                return "run"
            if answer == "details":
                self.emitter.emit(
                    "details",
                    index=plan["index"],
                    why=plan["why"],
                    command=plan["command"],
                    diff=plan["diff"],
                    verify=step.verify_doc or "no automatic verification",
                    undo=step.undo_doc or ("restore the files" if step.edit
                                           else f"nothing to undo: {step.nothing_to_undo}" if step.nothing_to_undo
                                           else "no automatic undo"),
                    undo_command=render(step.undo_command, self.ctx, self.ctx.values()) or None,
                )
                continue
            if answer == "abort":
                raise Aborted
            return answer

    def _manual(self, index: int, step: Step, plan: dict[str, Any]) -> str:
        emit = self.emitter.emit
        if self.mode == YES:
            emit("step_start", index=index, title=step.title, mutates=step.mutates)
            emit("follow_up", index=index, title=step.title, instructions=plan["manual"])
            emit("step_end", index=index, title=step.title, outcome="todo", summary="left to do by hand")
            return "todo"
        answer = str(self.prompter.manual())
        if answer == "abort":
            raise Aborted
        emit("step_start", index=index, title=step.title, mutates=step.mutates)
        outcome = "done" if answer == "done" else "skipped"
        emit("step_end", index=index, title=step.title, outcome=outcome, summary=f"{outcome} by the operator")
        return outcome

    def _execute(self, index: int, step: Step, changes: Changes | None, ops: list[Operation] | None = None) -> str:
        emit = self.emitter.emit
        if step.disrupts:
            self._open_bracket()
        while True:
            emit("step_start", index=index, title=step.title, mutates=step.mutates)
            self._current = (index, step)
            started = time.monotonic()
            try:
                with nullcontext() if step.mutates else self._read_only():
                    if changes is not None:
                        # The intent is journaled (fsynced) before a byte is written: a run stopped anywhere
                        # after this knows these edits for its own when it resumes.
                        edits = [{"path": c.path, "before": content_digest(c.before), "after": content_digest(c.after)}
                                 for c in changes.files]
                        emit("step_intent", index=index, title=step.title, edits=edits)
                        self.ctx.own_edits.update({c.path: content_digest(c.after) for c in changes.files})
                        _apply(changes)
                        result: Any = changes.summary or "wrote " + ", ".join(changes.paths)
                    elif ops is not None:
                        if step.mutates:  # journaled before the first call, as edits are
                            emit("step_intent", index=index, title=step.title, commands=[o.render() for o in ops])
                        result = _perform(self.ctx, ops) if ops else step.ops.empty if step.ops else ""
                    else:
                        result = step.action(self.ctx) if step.action else None
                if step.verify_fn is not None:
                    step.verify_fn(self.ctx)
            except (KeyboardInterrupt, Aborted):
                raise
            except Exception as exc:  # a step's failure is reported, whatever raised it
                error = _error_line(exc)
                emit("step_end", index=index, title=step.title, outcome="failed", error=error,
                     duration=round(time.monotonic() - started, 3), facts=self.ctx.facts)
                self._current = None
                # A failed step may have half happened (a reconcile that applied, then failed its health
                # check): if it has an undo, an abort or a rollback undoes it too.
                partial = [_Done(index, step, changes)] if step.mutates and step.undo_fn else []
                if self.mode != INTERACTIVE:
                    self.done += partial
                    raise StepFailed(f"step {index + 1} ({step.title}): {error}") from exc
                answer = str(self.prompter.failure())
                if answer == "retry":
                    continue
                if answer == "abort":
                    self.done += partial
                    raise Aborted from exc
                self._skipped.add(index)
                emit("step_end", index=index, title=step.title, outcome="skipped", summary="skipped after failure")
                return "skipped"
            self._current = None
            if step.mutates:
                self.done.append(_Done(index, step, changes))
            emit("step_end", index=index, title=step.title, outcome="done", summary=_summary(result),
                 duration=round(time.monotonic() - started, 3), facts=self.ctx.facts)
            return "done"

    # -- undo ---------------------------------------------------------------------------------------
    def _past_the_point_of_no_return(self) -> bool:
        """Say so when a step after which there is no way back was done: then nothing is undone."""
        done = next((d for d in self.done if d.step.no_way_back and d.index not in self._undone), None)
        if done is None:
            return False
        self.emitter.emit("warning", message=f"nothing undone: step {done.index + 1} ({done.step.title}) was done, "
                                             f"and there is no way back from it: {done.step.no_way_back}; "
                                             f"`mediaops resume {self.run_id}` finishes the run")
        return True

    def _offer_undo(self) -> None:
        reversible = [d for d in self.done if d.step.reversible]
        if not reversible or self._past_the_point_of_no_return():
            return
        if self.mode == INTERACTIVE:
            question = f"Undo the {len(reversible)} completed step(s), most recent first?"
            if not self.prompter.confirm(question, default=True):
                return
        elif not self.options.rollback_on_failure:
            return
        self._undo_all()

    def _undo_all(self) -> bool:
        emit = self.emitter.emit
        if self._past_the_point_of_no_return():
            return False
        for done in reversed(self.done):
            step = done.step
            if not step.reversible:
                emit("warning", message=f"step {done.index + 1} ({step.title}) has no undo; left as it is")
                continue
            if step.nothing_to_undo and step.undo_fn is None and not step.edit:
                self.emitter.log(f"step {done.index + 1} ({step.title}): nothing to undo: {step.nothing_to_undo}")
                self._undone.add(done.index)
                continue
            emit("undo_start", index=done.index, title=step.title)
            try:
                if done.changes is not None:
                    _restore(done.changes)
                elif step.edit and self.resume is not None:
                    self._restore_from_git(done.index)
                if step.undo_fn is not None:
                    step.undo_fn(self.ctx)
            except Exception as exc:  # an undo that fails stops the rollback: what is left is reported
                emit("undo_end", index=done.index, title=step.title, outcome="failed", error=_error_line(exc))
                emit("warning", message="rollback stopped; the steps before this one were not undone")
                return False
            emit("undo_end", index=done.index, title=step.title, outcome="done")
            self._undone.add(done.index)
        return True

    def _restore_from_git(self, index: int) -> None:
        """An edit step of a journaled run: the journal holds digests, not contents, so the files come back
        from the commit the run started on (HEAD, or what a revert made it). Only files that still hold what
        the run wrote are touched; someone else's later change is left and reported."""
        assert self.resume is not None
        git = self.ctx.git
        for path, digest in self.resume.step_edits.get(index, {}).items():
            target = git.root / path
            current = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
            if content_digest(current) != digest:
                if git.changed([path]):
                    self.emitter.emit("warning", message=f"{path} was changed after the run; left as it is")
                continue
            if git.tracked(path):
                git.restore(path)
            else:
                target.unlink(missing_ok=True)


def refuse_unattended(runbook: Runbook, start_at: int = 0) -> None:
    """--yes cannot go past a step a human must do: refused before anything (no rehearsal, no Lease)."""
    for step in runbook.steps[start_at:]:
        if (step.is_manual and step.blocking and step.when is None) or step.needs_terminal:
            raise UsageError(
                f"runbook {runbook.name} has a step a human must do ({step.title!r}); --yes cannot run it",
                hint="run it interactively at a terminal, or --dry-run to preview",
            )


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _summary(result: Any) -> str | None:
    if result is None or result is True:
        return None
    text = str(result).strip().replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, MediaopsError):
        return exc.line()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _apply(changes: Changes) -> None:
    for change in changes.files:
        path = changes.root / change.path
        if change.after is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(change.after, encoding="utf-8")


def _restore(changes: Changes) -> None:
    for change in changes.files:
        path = changes.root / change.path
        if change.before is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(change.before, encoding="utf-8")


def is_terminal() -> bool:
    return os.isatty(0) and os.isatty(1)


def _perform(ctx: Context, ops: list[Operation]) -> str:
    """Run a step's operations in order; the summary names what each did."""
    return "; ".join(op.run(ctx) for op in ops)
