"""What a runbook declares: parameters, read-only checks and ordered steps.

Nothing here runs anything. A runbook module builds a ``Runbook`` with decorators; the engine's readers
(``runner`` for run and dry-run, ``docs`` for Markdown) walk the same definition.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

if TYPE_CHECKING:
    from mediaops.engine.context import Context

Action = Callable[["Context"], Any]
Condition = Callable[["Context"], "str | None"]
Template = str | Callable[["Context"], str]


class Concern(str):
    """What a check returns when it found bad news that is no reason to stop ("Connection refused" for a
    NAS that is down during an outage): shown as a concern, not as a green tick."""


class CheckFailed(Exception):
    """Raised by a check (or a step's ``when``) to say a precondition does not hold."""


class Param(msgspec.Struct, frozen=True):
    """A runbook parameter; becomes a CLI argument (``required``) or option."""

    name: str
    help: str
    required: bool = True
    default: Any = None
    flag: bool = False
    choices: tuple[str, ...] | None = None
    secret: bool = False
    complete: str | None = None  # what shell completion offers: "app" or None
    kind: str = ""  # how the value is checked before anything runs: a key of PARAM_KINDS, or "" (any text)

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> str | None:
        """Why ``value`` cannot be this parameter's, or None; checked before the run starts (exit 2)."""
        if value is None or self.flag or not self.kind:
            return None
        pattern, expected = PARAM_KINDS[self.kind]
        return None if re.fullmatch(pattern, str(value)) else f"{self.option.lstrip('-')}: {value!r} is not {expected}"


_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?"
# What a parameter may be (patterns as Kubernetes and the OCI distribution spec define them).
PARAM_KINDS: dict[str, tuple[str, str]] = {
    "name": (r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a Kubernetes name (lower-case letters, digits and -)"),
    "seconds": (r"[0-9]+(\.[0-9]+)?", "a number of seconds"),
    "days": (r"[0-9]+(\.[0-9]+)?", "a number of days"),
    "duration": (r"([0-9]+(\.[0-9]+)?(h|m|s|ms))+", "a duration such as 720h or 90m"),
    "semver": (r"v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", "a chart version (semver, 1.2.3)"),
    "image-tag": (rf"([a-z0-9][a-z0-9_.-]*=)?{_TAG}", "an image tag (TAG or CONTAINER=TAG, optionally @sha256:…)"),
}


class FileChange(msgspec.Struct, frozen=True):
    """One file's content before and after; ``None`` means absent."""

    path: str  # relative to Changes.root, with forward slashes
    before: str | None
    after: str | None
    moved_from: str | None = None  # this new file is that (removed) file, renamed

    def diff(self) -> str:
        import difflib  # only where a change is shown

        before = [] if self.before is None else self.before.splitlines(keepends=True)
        after = [] if self.after is None else self.after.splitlines(keepends=True)
        old = "/dev/null" if self.before is None else f"a/{self.path}"
        new = "/dev/null" if self.after is None else f"b/{self.path}"
        lines = list(difflib.unified_diff(before, after, old, new))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def content_digest(text: str | None) -> str | None:
    """What the journal keeps of a file's content: its SHA-256 (never the content; None when absent)."""
    import hashlib

    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


class Changes(msgspec.Struct, frozen=True):
    """File edits a step wants; the engine shows them as a diff and is the only one that writes them."""

    root: Path
    files: tuple[FileChange, ...]
    summary: str = ""

    def diff(self) -> str:
        """A unified diff; a rename with unchanged content is shown as git shows it."""
        renamed = {c.moved_from: c for c in self.files if c.moved_from and c.before is None}
        parts = []
        for change in self.files:
            if change.path in renamed and change.after is None:
                continue
            if change.moved_from and change.before is None:
                old = next((c for c in self.files if c.path == change.moved_from), None)
                if old is not None and old.before == change.after:
                    parts.append(f"rename from {change.moved_from}\nrename to {change.path}\n")
                    continue
            parts.append(change.diff())
        return "".join(parts)

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.files]

    def __bool__(self) -> bool:
        return any(change.before != change.after for change in self.files)


class Operation(Protocol):
    """One thing a step does to one object, that renders as the command a human could paste.

    The engine builds a step's operations once, shows their ``render()`` in the preview, the prompt and the
    journal, then calls ``run()`` on those very objects: what is shown cannot drift from what runs."""

    def render(self) -> str: ...

    def run(self, ctx: Context) -> str: ...


class Ops(msgspec.Struct, frozen=True):
    """How a step finds its operations from the run's values (``build``), the form the docs print (``doc``),
    what the step says when there is nothing to act on (``empty``), and, where the repository alone names the
    objects, the command a preview without a cluster shows (``offline``; else ``doc``, filled from the run)."""

    build: Callable[[Context], Sequence[Operation]]
    doc: str
    empty: str = "nothing to act on"
    offline: Callable[[Context], str] | None = None


class Check(msgspec.Struct):
    """A read-only precondition. Returns a short detail, raises ``CheckFailed`` when it does not hold."""

    title: str
    fn: Action
    needs_cluster: bool = False


class Step(msgspec.Struct):
    """One step of the procedure, as an operator would write it down."""

    title: str
    why: str
    command: Template = ""
    action: Action | None = None
    mutates: bool = True
    edit: bool = False  # the action returns Changes, which the engine writes
    manual: str | None = None  # instructions for a step a human does
    blocking: bool = True  # a manual step the run cannot go past without a human (refuses --yes)
    needs_cluster: bool = False
    needs_terminal: bool = False  # the operator answers a program's own prompts (refuses --yes up front)
    when: Condition | None = None  # returns why the step is not needed, or None to run it
    # Like ``when``, decided by the run's parameters and facts alone (never the cluster or the files), so a
    # preview evaluates it even after a would-be change: "not needed with K8up" is known before anything runs.
    skip_if: Condition | None = None
    verify_fn: Action | None = None
    verify_doc: str = ""
    undo_fn: Action | None = None
    undo_doc: str = ""
    undo_command: Template = ""
    after: tuple[Step, ...] = ()  # steps it depends on: when one was skipped, this one says so and asks
    nothing_to_undo: str = ""  # why the step needs no undo (it is then reversible: undoing it does nothing)
    ops: Ops | None = None  # the operations it performs; then its command is their rendering
    disrupts: bool = False  # the apps the runbook ``takes_down`` stop serving from this step on
    # Once this step ran, undoing the steps before it would do harm (why, in words): the way back is forward.
    no_way_back: str = ""

    def __post_init__(self) -> None:
        if self.ops is not None and not self.command:
            ops = self.ops
            self.command = Live(lambda ctx: render_ops(ops.build(ctx)) or ops.empty, doc=ops.doc)

    @property
    def is_manual(self) -> bool:
        return self.manual is not None

    def verifier(self, doc: str) -> Callable[[Action], Action]:
        """Decorate the function that proves the step worked (it may wait); raising fails the step."""

        def register(fn: Action) -> Action:
            self.verify_fn, self.verify_doc = fn, doc
            return fn

        return register

    def undoer(self, doc: str, command: Template = "") -> Callable[[Action], Action]:
        """Decorate the function that reverses the step when an operator aborts."""

        def register(fn: Action) -> Action:
            self.undo_fn, self.undo_doc, self.undo_command = fn, doc, command
            return fn

        return register

    def skip_when(self, fn: Condition) -> Condition:
        """Decorate a read-only test returning why the step has nothing to do (idempotent re-runs)."""
        self.when = fn
        return fn

    @property
    def reversible(self) -> bool:
        return self.undo_fn is not None or self.edit or bool(self.nothing_to_undo)


class Runbook(msgspec.Struct):
    """A procedure: parameters, read-only checks, then ordered steps."""

    name: str
    summary: str
    params: list[Param] = msgspec.field(default_factory=list)
    lock: Callable[[Mapping[str, Any]], str] | None = None  # the Lease name for this target
    apps: list[str] | None = None  # the apps it is about (docs draw their graph); None: any app
    epilogue: Callable[[Context], list[str]] | None = None  # warnings for however the run ended
    # The apps (namespace, name) a run takes down: alerts about them are silenced from the first step that
    # ``disrupts`` until the run ends (the maintenance bracket, mediaops/maintenance.py).
    takes_down: Callable[[Context], list[tuple[str, str]]] | None = None
    # Why these parameters together cannot make a run (exit 2 before anything), or None.
    # (The parameters, with ``_unattended`` True under --yes: some are needed only without a human.)
    validate: Callable[[Mapping[str, Any]], str | None] | None = None
    doc: str = ""
    source: str = ""
    checks: list[Check] = msgspec.field(default_factory=list)
    steps: list[Step] = msgspec.field(default_factory=list)

    def check(self, title: str, *, needs_cluster: bool = False) -> Callable[[Action], Action]:
        def register(fn: Action) -> Action:
            self.checks.append(Check(title, fn, needs_cluster))
            return fn

        return register

    def step(
        self,
        title: str,
        *,
        why: str,
        command: Template = "",
        mutates: bool = True,
        edit: bool = False,
        needs_cluster: bool = False,
        needs_terminal: bool = False,
        after: tuple[Step, ...] = (),
        nothing_to_undo: str = "",
        disrupts: bool = False,
    ) -> Callable[[Action], Step]:
        def register(fn: Action) -> Step:
            step = Step(
                title, why, command, fn, mutates=mutates, edit=edit, needs_cluster=needs_cluster,
                needs_terminal=needs_terminal, after=after, nothing_to_undo=nothing_to_undo, disrupts=disrupts,
            )
            self.steps.append(step)
            return step

        return register

    def add(self, step: Step) -> Step:
        """Append a step declared whole elsewhere (a shared declaration from ``mediaops.steps``)."""
        self.steps.append(step)
        return step

    def manual(
        self, title: str, *, why: str, instructions: str, blocking: bool = True, command: Template = ""
    ) -> Step:
        """A step a human does; the tool says exactly what and waits for "done"."""
        step = Step(title, why, command, manual=instructions, blocking=blocking)
        self.steps.append(step)
        return step

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)


class _Placeholders(dict[str, Any]):
    """format_map source for a run: a name the run has no value for shows as <name>, a bug the tests look for."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


# How a runbook page names a value it cannot know: a word in capitals, as the flux and kubectl docs write
# NAME and NAMESPACE, never an angle-bracket placeholder.
DOC_WORDS = {"ns": "NAMESPACE", "ks": "KUSTOMIZATION", "hr": "HELMRELEASE",
             "ns_file": "NAMESPACE_KUSTOMIZATION", "names": "NAMES", "nas": "NAS", "login_pod": "LOGIN_POD",
             "restore": "RESTORE", "backup": "BACKUP", "run_id": "RUN", "volumes": "CLAIMS"}


class _DocWords(dict[str, Any]):
    """format_map source for a runbook page: every value it cannot know as a word in capitals."""

    def __missing__(self, key: str) -> str:
        return doc_word(key)


def doc_word(key: str) -> str:
    """The capitalised word a page prints for a value only a run knows (``ns`` -> NAMESPACE)."""
    return DOC_WORDS.get(key, key.upper())


class Live(msgspec.Struct, frozen=True):
    """A command written from the run's own values (``fn``), with the form the docs print (``doc``, a template)."""

    fn: Callable[[Context], str]
    doc: str = ""

    def __call__(self, ctx: Context) -> str:
        return self.fn(ctx)


def render_ops(ops: Sequence[Operation]) -> str:
    """A step's operations as the lines a human would paste, one per object, in the order they run."""
    return "\n".join(op.render() for op in ops)


def render(template: Template, ctx: Context | None, values: Mapping[str, Any]) -> str:
    """Fill a command template from params and facts; callables get the context (in docs, a ``Live`` command
    prints its ``doc`` form, other callables nothing)."""
    if callable(template):
        if ctx is None:
            doc = template.doc if isinstance(template, Live) else ""
            return render(doc, None, values) if doc else ""
        return template(ctx)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    source = _Placeholders if ctx is not None else _DocWords
    known = source({k: v for k, v in values.items() if k in names and v not in (None, "")})
    return template.format_map(known)
