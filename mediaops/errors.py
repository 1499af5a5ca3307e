"""Errors that end a command with one clear line and the exit code the README documents."""

from __future__ import annotations

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_USAGE = 2
EXIT_PRECONDITION = 3
EXIT_INTERRUPTED = 130


class MediaopsError(Exception):
    """An error an operator can act on: the message says what is wrong and what to do."""

    exit_code = EXIT_STEP_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(MediaopsError):
    """Bad usage or bad input: nothing was changed."""

    exit_code = EXIT_USAGE


class PreconditionFailed(MediaopsError):
    """A read-only check before the first step did not hold."""

    exit_code = EXIT_PRECONDITION


class StepFailed(MediaopsError):
    """A step's action or verification failed."""

    exit_code = EXIT_STEP_FAILED


class DryRunViolation(MediaopsError):
    """Code tried to write, spawn a mutating command or send a mutating request during a dry run."""

    exit_code = EXIT_STEP_FAILED
