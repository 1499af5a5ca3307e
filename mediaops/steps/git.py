"""The commit and push steps that repository-changing runbooks share, declared once, and their bodies.

A runbook adds ``commit_step(...)`` and ``push_step(...)``, so it still reads like the procedure while commit,
push and their undo behave the same everywhere. Facts kept in the journal:
``commit`` (the commit made), ``pushed`` (the commit pushed), ``reverted`` (the revert made by undo).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import msgspec

from mediaops.engine.context import Context
from mediaops.engine.model import Live, Ops, Step, content_digest


def revert_line(ctx: Context, then: str = "") -> str:
    """``git revert`` of the commit the run made, ``then`` the commands that follow; before the commit is
    known (a preview), it says in words which commit."""
    sha = ctx.facts.get("commit")
    line = f"git revert --no-edit {sha[:12] if sha else 'COMMIT'}" + (f" && {then}" if then else "")
    return line if sha else f"{line}  # COMMIT: the commit this run makes"


# The undo commands of a commit and a push, with the commit the run made once it is known.
REVERT = Live(revert_line, doc="git revert --no-edit COMMIT  # the commit this run made")
REVERT_AND_PUSH = Live(lambda ctx: revert_line(ctx, "git push"),
                       doc="git revert --no-edit COMMIT && git push  # the commit this run made")


def can_commit_and_push(ctx: Context) -> str:
    """A check for runbooks that commit: found before the first change, not at push time after a commit
    (a commit on a detached HEAD is easily lost; one with no identity fails after the files changed)."""
    from mediaops.engine import CheckFailed
    from mediaops.repo.git import GitError

    branch = ctx.git.branch()
    if branch == "HEAD":
        raise CheckFailed("HEAD is detached: a commit made here is easily lost; `git switch` to your branch first")
    try:
        ident = ctx.git.query("var", "GIT_COMMITTER_IDENT")
    except GitError:
        raise CheckFailed("git has no identity to commit with: `git config user.name` and "
                          "`git config user.email` first") from None
    who = ident.rsplit(">", 1)[0] + ">" if ">" in ident else ident
    if ctx.params.get("no_push"):
        return f"on {branch}, committing as {who} (--no-push)"
    upstream = ctx.git.upstream()
    if upstream is None:
        raise CheckFailed(f"branch {branch} tracks no remote branch, so the commit could not be pushed: "
                          f"`git push --set-upstream origin {branch}` once, or --no-push")
    return f"on {branch}, committing as {who}, pushing to {upstream[0]}/{upstream[1]}"


def foreign_changes(ctx: Context, paths: list[str]) -> list[str]:
    """Of ``paths``, those with uncommitted changes the run did not make itself. Its own edits were journaled
    (as digests) before they were written, so a run stopped between its edit and its commit resumes."""
    own = ctx.own_edits
    foreign = []
    for path in ctx.git.changed(paths):
        if path in own:
            target = ctx.git.root / path
            current = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
            if content_digest(current) == own[path]:
                continue
        foreign.append(path)
    return foreign


def uncommitted(ctx: Context, paths: list[str]) -> str | None:
    """For a commit step's ``skip_when``: say so when the paths have nothing to commit."""
    if ctx.git.changed(paths):
        return None
    return "nothing to commit: the repository already has these files as they should be"


def commit(ctx: Context, message: str, paths: list[str]) -> str:
    trailer = f"\n\nMediaops-Run: {ctx.run_id}"
    sha = ctx.git.commit(message + trailer, paths)
    ctx.facts["commit"] = sha
    return f"committed {sha[:10]}: {message}"


def undo_commit(ctx: Context) -> None:
    sha = ctx.facts.get("commit")
    if sha and not ctx.facts.get("reverted"):
        ctx.facts["reverted"] = ctx.git.revert(sha, f"Revert \"{ctx.git.subject(sha)}\"")


def not_ahead(ctx: Context) -> str | None:
    """For a push step's ``skip_when``: nothing to push, or pushing was declined."""
    if ctx.params.get("no_push"):
        return "--no-push given: the commit stays local"
    if ctx.git.upstream() is not None and ctx.git.ahead() == 0:
        return "the remote already has this commit"
    return None


def push(ctx: Context) -> str:
    pushed = ctx.git.push()
    ctx.facts["pushed"] = pushed.commit
    return f"pushed {pushed.commit[:10]} to {pushed.remote}/{pushed.branch}"


def undo_push(ctx: Context) -> Any:
    """Push a revert of the commit: the reverse change, committed and pushed."""
    undo_commit(ctx)
    if ctx.facts.get("reverted"):
        ctx.git.push()


# -- the commit and push steps, declared once for every runbook that changes the repository ----------------
class Commit(msgspec.Struct, frozen=True):
    """``git add`` and ``git commit`` of exactly these paths, with the run's ID as a trailer."""

    message: str
    paths: tuple[str, ...]
    run_id: str

    def render(self) -> str:
        files = " ".join(shlex.quote(p) for p in self.paths)
        return (f"git add -A -- {files} && git commit -m {shlex.quote(self.message)} "
                f"-m {shlex.quote('Mediaops-Run: ' + self.run_id)} -- {files}")

    def run(self, ctx: Context) -> str:
        return commit(ctx, self.message, list(self.paths))


class Push(msgspec.Struct, frozen=True):
    """``git push`` of the branch to the branch it tracks; never forced."""

    def render(self) -> str:
        return "git push"

    def run(self, ctx: Context) -> str:
        return push(ctx)


def commit_step(title: str, *, why: str, message: Callable[[Context], str], paths: Callable[[Context], list[str]],
                after: tuple[Step, ...] = (), doc_message: str = "") -> Step:
    """Declare "commit these paths with this message": the command shown and the commit made are the same
    ``Commit``; skipped when the paths hold nothing to commit; undone by a revert."""
    step = Step(title, why, after=after, ops=Ops(
        lambda ctx: [Commit(message(ctx), tuple(paths(ctx)), ctx.run_id)],
        doc=f"git add -A -- FILES && git commit -m '{doc_message}' -m 'Mediaops-Run: RUN' -- FILES  "
            "# the files the edit changed"))
    step.skip_when(lambda ctx: uncommitted(ctx, paths(ctx)))
    step.undoer("revert the commit (a new commit; history is not rewritten)", command=REVERT)(undo_commit)
    return step


def push_step(*, why: str, after: tuple[Step, ...] = (), undo_doc: str = "",
              undo: Callable[[Context], Any] | None = None, then: str | Live = "") -> Step:
    """Declare "push to the tracking branch" (never forced): skipped when there is nothing to push or with
    --no-push; undone by pushing a revert (and ``undo``, e.g. letting Flux apply it, with ``then`` shown: a
    ``Live`` one written from the run's values, its ``doc`` form in the docs)."""
    step = Step("Push to the tracking branch", why, after=after, ops=Ops(lambda ctx: [Push()], doc="git push"))
    step.skip_when(not_ahead)

    def undo_it(ctx: Context) -> None:
        undo_push(ctx)
        if undo is not None:
            undo(ctx)

    def and_then(ctx: Context | None) -> str:
        said = (then(ctx) if ctx is not None else then.doc) if isinstance(then, Live) else then
        return f" && {said}" if said else ""

    step.undoer(undo_doc or "push a commit that reverts it",
                command=Live(lambda ctx: revert_line(ctx, "git push" + and_then(ctx)),
                             doc=REVERT_AND_PUSH.doc.replace("  #", and_then(None) + "  #")))(undo_it)
    return step
