"""Git for runbooks: stage only what a step touched, commit with a conventional message, push, never force.

Everything goes through the ``git`` executable so the operator's own configuration, hooks,
credentials and signing apply. Read-only queries are marked as such for the dry-run guard.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from mediaops.engine import guard
from mediaops.errors import MediaopsError, UsageError


class GitError(MediaopsError):
    """A git command failed; the message carries git's own first line of explanation."""

    output = ""


class PushRejected(GitError):
    """The remote moved on; the local commit is kept."""


class Pushed(msgspec.Struct, frozen=True):
    """Where a push went: the remote, the branch and the commit."""

    remote: str
    branch: str
    commit: str


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("hint:")]
    return lines[0] if lines else ""


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _run(self, *args: str, read_only: bool = False) -> str:
        # subprocess, not sh: importing sh (asyncio, importlib.metadata) cost 40 ms of every command that asks git
        # anything, `status` among them; git needs nothing sh adds here. stdin is closed: git never prompts.
        import contextlib
        import subprocess

        # --no-optional-locks (git(1)): a query never writes, not even the index refresh `git status` makes when
        # it can, and never meets the operator's own git holding index.lock meanwhile
        command = ["git", "--no-optional-locks", *args] if read_only else ["git", *args]
        try:
            with guard.trusted_read() if read_only else contextlib.nullcontext():
                result = subprocess.run(command, cwd=self.root, env=self._env(), capture_output=True,
                                        stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise UsageError("git is not installed", hint="install git") from None
        stdout, stderr = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
        if result.returncode != 0:
            why = _first_line(stderr or stdout) or f"exit {result.returncode}"
            error = GitError(f"git {args[0]} failed: {why}")
            error.output = stdout + stderr
            raise error
        return stdout

    @staticmethod
    def _env() -> dict[str, str]:
        import os

        env = dict(os.environ)
        env["LC_ALL"] = "C"
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        return env

    def query(self, *args: str, raw: bool = False) -> str:
        out = self._run(*args, read_only=True)
        return out if raw else out.strip()

    # -- reading ------------------------------------------------------------------------------------
    def head(self) -> str:
        return self.query("rev-parse", "HEAD")

    def branch(self) -> str:
        return self.query("rev-parse", "--abbrev-ref", "HEAD")

    def upstream(self) -> tuple[str, str] | None:
        try:
            ref = self.query("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
        except GitError:
            return None
        remote, _, branch = ref.partition("/")
        return remote, branch

    def tracked(self, path: str) -> bool:
        """Whether HEAD has the file."""
        try:
            self.query("cat-file", "-e", f"HEAD:{path}")
        except GitError:
            return False
        return True

    def restore(self, path: str) -> None:
        """Put the file back as HEAD has it (index and working tree)."""
        self._run("checkout", "HEAD", "--", path)

    def staged(self) -> list[str]:
        return [p for p in self.query("diff", "--cached", "--name-only", "-z", raw=True).split("\0") if p]

    def changed(self, paths: list[str]) -> list[str]:
        """Of ``paths``, those with uncommitted changes (staged, unstaged or untracked)."""
        if not paths:
            return []
        out = self.query("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths, raw=True)
        return [entry[3:] for entry in out.split("\0") if len(entry) > 3]

    def ahead(self) -> int:
        """Commits on HEAD that the upstream does not have."""
        if self.upstream() is None:
            return 0
        return int(self.query("rev-list", "--count", "@{upstream}..HEAD") or 0)

    def subject(self, rev: str = "HEAD") -> str:
        return self.query("log", "-1", "--format=%s", rev)

    # -- writing ------------------------------------------------------------------------------------
    def commit(self, message: str, paths: list[str]) -> str:
        """Stage exactly ``paths`` (additions and deletions) and commit them; refuse foreign staged work."""
        unrelated = sorted(set(self.staged()) - set(paths))
        if unrelated:
            shown = ", ".join(unrelated[:3]) + (" …" if len(unrelated) > 3 else "")
            raise UsageError(f"unrelated changes are staged ({shown})",
                             hint="commit or unstage them (git restore --staged <file>) first")
        self._run("add", "--all", "--", *paths)
        self._run("commit", "--quiet", "--message", message, "--", *paths)
        return self.head()

    def push(self) -> Pushed:
        """Push HEAD to the tracking branch. Never forces; a rejection keeps the local commit."""
        upstream = self.upstream()
        if upstream is None:
            raise GitError(f"branch {self.branch()} has no upstream to push to",
                           hint=f"set one with `git push -u origin {self.branch()}`, or pass --no-push")
        remote, branch = upstream
        try:
            self._run("push", "--porcelain", remote, f"HEAD:refs/heads/{branch}")
        except GitError as exc:
            if "[rejected]" in exc.output or "non-fast-forward" in exc.output or "fetch first" in exc.output:
                raise PushRejected(
                    f"push to {remote}/{branch} was rejected: the remote has commits this checkout does not "
                    "(your commit is kept locally)",
                    hint=f"run `git pull --rebase {remote} {branch}`, then resume the run",
                ) from None
            raise
        return Pushed(remote, branch, self.head())

    def revert(self, commit: str, message: str) -> str:
        """A new commit undoing ``commit`` (history is never rewritten)."""
        self._run("revert", "--no-edit", "--no-commit", commit)
        self._run("commit", "--quiet", "--message", message)
        return self.head()
