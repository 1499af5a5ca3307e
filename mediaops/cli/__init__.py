"""The ``mediaops`` command: parse, call the library, print. One module per command family.

Only click is imported at start-up; everything heavier (rich, the runbooks, the Kubernetes client,
questionary) is imported inside the command that needs it, so ``mediaops --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from mediaops.cli.root import cli  # each command's module is imported when it is named (root.COMMAND_MODULES)
from mediaops.errors import EXIT_INTERRUPTED, EXIT_USAGE, MediaopsError

# The global options, and whether each takes a value: accepted anywhere on the line, as kubectl and flux
# accept theirs (`mediaops run activate x --sim` is `mediaops --sim run activate x`).
GLOBAL_OPTIONS = {"--config": True, "--repo": True, "--cluster": True, "--kubeconfig": True, "--context": True,
                  "--sim": False}
# Never suggested for a mistyped option: a typo must not turn a rehearsal into an unattended run.
MODE_FLAGS = {"--yes", "-y", "--rollback-on-failure"}


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options that come after the command to the front (nothing after ``--`` is touched)."""
    front: list[str] = []
    rest: list[str] = []
    seen_command = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        name = arg.split("=", 1)[0]
        if seen_command and name in GLOBAL_OPTIONS:
            takes_value = GLOBAL_OPTIONS[name] and "=" not in arg
            front += args[index:index + 2] if takes_value else [arg]
            index += 2 if takes_value else 1
            continue
        if not arg.startswith("-"):
            seen_command = True
        elif not seen_command and GLOBAL_OPTIONS.get(name) and "=" not in arg:
            rest += args[index:index + 2]  # a global option's value before the command is not the command
            index += 2
            continue
        rest.append(arg)
        index += 1
    return front + rest


def main() -> None:
    """Entry point: one line on stderr for any error an operator can act on, and the documented code."""
    import gc

    # A command is a short process that allocates much (modules, parsed YAML, API answers) and frees little before
    # it ends: the cyclic collector's default (a pass every 700 allocations) walked the same objects again and
    # again, a tenth of a `run` (callgrind: `run restart --dry-run` 564 → 511 million instructions). It still runs,
    # less often; the process's own objects only, set here and not where the library is imported.
    gc.set_threshold(50_000, 20, 20)
    try:
        code = cli.main(args=hoist_global_options(sys.argv[1:]), prog_name="mediaops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        if isinstance(exc, click.NoSuchOption) and exc.possibilities:
            setattr(exc, "possibilities", [p for p in exc.possibilities if p not in MODE_FLAGS])  # noqa: B010
        exc.show()
        code = EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = EXIT_INTERRUPTED
    except MediaopsError as exc:
        click.echo(f"mediaops: {exc.line()}", err=True)
        code = exc.exit_code
    except OSError as exc:  # the state directory, a cache or a kubeconfig the operator pointed us at
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"mediaops: cannot use {where[2:] or 'a file'}: {exc.strerror or exc}; check the path and its "
                   "permissions (the state directory is MEDIAOPS_STATE_DIR or state_dir in the config)", err=True)
        code = EXIT_USAGE
    end(code if isinstance(code, int) else 0)


def end(code: int) -> NoReturn:
    """End the process with ``code`` once its exit handlers have run and its output is flushed, without Python's
    teardown. A command has nothing left for the teardown but to free every module and object one by one: about a
    tenth of a short command's CPU, paid by every command an operator or a script runs (os._exit after the handlers,
    as a finished child process ends). Python's own exit is kept when it has more to do: a thread that is not a
    daemon to wait for, or output that cannot be flushed (a closed pipe: reported as Python always reports it)."""
    import atexit
    import threading

    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()  # the parse cache's save, logging's shutdown, temporary directories' cleanup
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with the descriptor closed (`>&-`)
                stream.flush()
    except Exception:  # Python's own exit reports it, as it always has
        sys.exit(code)
    os._exit(code)
