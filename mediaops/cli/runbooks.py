"""`list`, `show`, `run RUNBOOK`, `resume` and `undo`: the runbooks and their runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from mediaops.cli.root import State, cli, complete_app, new_console, pass_state, state_of
from mediaops.errors import MediaopsError, UsageError

if TYPE_CHECKING:
    from mediaops.engine.model import Param, Runbook


# -- runbooks ---------------------------------------------------------------------------------------
@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_runbooks(state: State, as_json: bool) -> None:
    """List the runbooks."""
    runbooks = state.registry.catalog()
    if as_json:
        import json

        rows = [{"name": r["name"], "summary": r["summary"], "params": [p["name"] for p in r["params"]],
                 "steps": r["steps"], "source": r["source"]} for r in runbooks]
        click.echo(json.dumps(rows, indent=2))
        return
    from mediaops.engine.table import Cell, Column, render

    cells = []
    for r in runbooks:
        usage = " ".join(p["name"].upper() if p["required"] and not p["flag"] else f"[{p['option']}]"
                         for p in r["params"])
        cells.append([Cell(r["name"], "bold"), Cell(usage), Cell(r["summary"])])
    click.echo(render([Column("runbook", wrap=False), Column("usage"), Column("what it does")], cells), nl=False)


def complete_runbook(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    try:
        return [n for n in state_of(ctx).registry.names() if n.startswith(incomplete)]
    except MediaopsError:
        return []


@cli.command("show")
@click.argument("runbook", shell_complete=complete_runbook)
@pass_state
def show(state: State, runbook: str) -> None:
    """Print a runbook as a procedure: steps, why, commands, verification and undo."""
    print_markdown(state.registry.entry(runbook)["page"].split("\n", 1)[1])


class RunGroup(click.Group):
    """``mediaops run RUNBOOK``: one subcommand per runbook, built from its declared parameters."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            return state_of(ctx).registry.names()
        except MediaopsError:
            return []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        registry = state_of(ctx).registry
        if cmd_name not in registry.names():
            registry.get(cmd_name)  # raises with the closest names
        return _runbook_command(registry.get(cmd_name))


def _click_param(p: Param) -> click.Parameter:
    complete = complete_app if p.complete == "app" else None
    if p.flag:
        return click.Option([p.option], is_flag=True, default=bool(p.default), help=p.help)
    if p.required:
        return click.Argument([p.name], shell_complete=complete)
    kind = click.Choice(p.choices) if p.choices else None
    return click.Option([p.option, p.name], type=kind, default=p.default, help=p.help,
                        show_default=p.default is not None, shell_complete=complete)


def _runbook_command(runbook: Runbook) -> click.Command:
    def callback(**kwargs: Any) -> int:
        ctx = click.get_current_context()
        modes = {k: kwargs.pop(k) for k in ("dry_run", "yes", "as_json", "rollback_on_failure")}
        return _execute(state_of(ctx), runbook, kwargs, **modes)

    params: list[click.Parameter] = [_click_param(p) for p in runbook.params]
    params += _mode_options()
    usage_help = f"{runbook.summary}\n\nThe procedure: `mediaops show {runbook.name}`."
    return click.Command(runbook.name, callback=callback, params=params, help=usage_help,
                         short_help=runbook.summary)


def _mode_options() -> list[click.Parameter]:
    return [
        click.Option(["--dry-run"], is_flag=True, help="Preview every step; change nothing."),
        click.Option(["--yes", "-y"], is_flag=True, help="Run without prompts (maintenance windows)."),
        click.Option(["--json", "as_json"], is_flag=True, help="Print one JSON event per line."),
        click.Option(["--rollback-on-failure"], is_flag=True, help="With --yes: undo completed steps on failure."),
    ]


@cli.group("run", cls=RunGroup)
def run_group() -> None:
    """Run a runbook: `mediaops run RUNBOOK [PARAMS] [--dry-run | --yes] [--json]`."""


def _decide_mode(dry_run: bool, yes: bool, as_json: bool) -> str:
    from mediaops.engine.runner import DRY_RUN, INTERACTIVE, YES, is_terminal

    if dry_run and yes:
        raise UsageError("--dry-run and --yes exclude each other", hint="choose one")
    if dry_run:
        return DRY_RUN
    if yes:
        return YES
    if as_json:
        raise UsageError("--json never prompts", hint="add --yes to run unattended or --dry-run to preview")
    if not is_terminal():
        raise UsageError(
            "not at a terminal and --yes not given: refusing to wait for answers",
            hint="pass --yes to run unattended or --dry-run to preview",
        )
    return INTERACTIVE


def _rich_ui() -> Any:
    """The view of a run for people: rich's at a terminal (not imported by a run that prints JSON); where nothing
    is coloured (a pipe, a log), the same lines written without rich (engine/plainui.py)."""
    from mediaops.engine.plainui import PlainUI, plain_output

    if plain_output():
        return PlainUI()
    from mediaops.engine.richui import RichUI

    return RichUI()


def _execute(state: State, runbook: Runbook, params: dict[str, Any], *, dry_run: bool, yes: bool,
             as_json: bool, rollback_on_failure: bool, resume_id: str | None = None, undo: bool = False) -> int:
    from mediaops import services
    from mediaops.engine.journal import Journal
    from mediaops.engine.runner import DRY_RUN, INTERACTIVE, YES, Runner, RunOptions, refuse_unattended
    from mediaops.engine.ui import JsonUI, Prompter

    mode = _decide_mode(dry_run, yes, as_json)
    if rollback_on_failure and not yes:
        raise UsageError("--rollback-on-failure goes with --yes", hint="interactive runs offer the undo on abort")
    # Every parameter is checked before anything happens: no rehearsal, no Lease, no backup, no change.
    for param in runbook.params:
        problem = param.check(params.get(param.name))
        if problem:
            raise UsageError(problem, hint=f"`mediaops run {runbook.name} --help` says what each parameter takes")
    problem = runbook.validate({**params, "_unattended": yes and not dry_run}) if runbook.validate else None
    if problem:
        raise UsageError(problem, hint=f"`mediaops run {runbook.name} --help`")
    journal = Journal(state.config.state_dir)
    record = journal.get(resume_id) if resume_id else None
    if mode == YES and not undo:
        refuse_unattended(runbook, record.first_step_not_done() if record else 0)
    state.rehearse(click.get_current_context())
    env = services.Environment(state.config)
    if env.repo_root is not None and not state.sim:
        # the checkout's parsed files, kept between runs (yamlfiles.DiskCache); not beside a rehearsal in this
        # process, which reads its own copies of the checkout
        from mediaops.repo.yamlfiles import DISK_CACHE

        DISK_CACHE.attach(env.repo_root)
    runner = Runner(
        runbook,
        params,
        RunOptions(mode=mode, rollback_on_failure=rollback_on_failure, resumable=not state.sim),
        sinks=[JsonUI() if as_json else _rich_ui(), *(env.sinks() if mode != DRY_RUN else [])],
        journal=journal,
        services=env.factories(),
        target=env.target(),
        prompter=Prompter() if mode == INTERACTIVE else None,
        locker=env.locker(),
        resume=record,
        silences=env.silences(),
    )
    return runner.undo() if undo else runner.run()


@cli.command("resume", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("run_id", shell_complete=lambda c, p, i: complete_run(c, p, i))
@click.option("--dry-run", is_flag=True, help="Preview what is left; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Run the rest without prompts.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line.")
@click.option("--rollback-on-failure", is_flag=True, help="With --yes: undo completed steps on failure.")
@click.pass_context
def resume(ctx: click.Context, run_id: str, dry_run: bool, yes: bool, as_json: bool,
           rollback_on_failure: bool) -> int:
    """Continue a run at its first step not done, re-running the preconditions first.

    The runbook's own flags may be added (e.g. `--accept-partial` for a backup that ended PartiallyFailed);
    its other parameters are the run's."""
    from mediaops.engine.journal import Journal

    state = state_of(ctx)
    record = Journal(state.config.state_dir).get(run_id)
    if record.status == "done":
        raise UsageError(f"run {record.run_id} already finished", hint="nothing to resume")
    runbook = state.registry.get(record.runbook)
    params = {p.name: record.params.get(p.name, p.default) for p in runbook.params}
    flags = {f"--{p.name.replace('_', '-')}": p.name for p in runbook.params if p.flag}
    for extra in ctx.args:
        if extra not in flags:
            raise UsageError(f"resume takes no {extra!r}", hint=f"{runbook.name}'s flags that resume takes: "
                             f"{', '.join(flags) or 'none'}; its other parameters are the run's")
        params[flags[extra]] = True
    secret = [p.name for p in runbook.params if p.secret and record.params.get(p.name)]
    if secret:
        raise UsageError(f"run {record.run_id} had secret parameters ({', '.join(secret)}) that are never kept",
                         hint="start a new run")
    return _execute(state, runbook, params, dry_run=dry_run, yes=yes, as_json=as_json,
                    rollback_on_failure=rollback_on_failure, resume_id=record.run_id)


@cli.command("undo")
@click.argument("run_id", shell_complete=lambda c, p, i: complete_run(c, p, i))
@click.option("--dry-run", is_flag=True, help="Show what would be undone; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Undo without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line.")
@pass_state
def undo(state: State, run_id: str, dry_run: bool, yes: bool, as_json: bool) -> int:
    """Undo the completed steps of a run (finished, failed, interrupted or abandoned), most recent first.

    RUN_ID is a run ID, a unique part of one, or `last`."""
    from mediaops.engine.journal import Journal

    record = Journal(state.config.state_dir).get(run_id)
    runbook = state.registry.get(record.runbook)
    params = {p.name: record.params.get(p.name, p.default) for p in runbook.params}
    return _execute(state, runbook, params, dry_run=dry_run, yes=yes, as_json=as_json, rollback_on_failure=False,
                    resume_id=record.run_id, undo=True)


def complete_run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Run IDs for shell completion, newest first."""
    from click.shell_completion import CompletionItem

    from mediaops.engine.journal import Journal

    try:
        records = Journal(state_of(ctx).config.state_dir).runs()
    except Exception:  # completion never fails loudly
        return []
    return [CompletionItem(r.run_id, help=f"{r.runbook} {r.status}") for r in records if incomplete in r.run_id]


# What rich's Console decides its output from (rich/console.py: the colour system, the width and height, whether
# it is a terminal): the same page rendered for the same of these is the same text, kept in the cache directory.
RICH_ENVIRON = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
                "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES")
KEPT_PAGES = 256


def print_markdown(text: str) -> None:
    """A Markdown page drawn by rich, or the same drawing kept from an earlier command: importing rich's Markdown and
    rendering a runbook's page took two thirds of `show`."""
    import binascii
    import os

    from mediaops.config import cache_dir, keep, kept

    # the file holds its whole key beside the drawing and is used only for that key (its name is only a checksum)
    key = "\0".join([text, _terminal(), *(repr(os.environ.get(k)) for k in RICH_ENVIRON)])
    path = cache_dir() / "pages" / f"{binascii.crc32(key.encode()):08x}-{len(key)}.page"
    drawn = kept(path, key)
    if isinstance(drawn, str):
        sys.stdout.write(drawn)
        sys.stdout.flush()
        return
    from rich.markdown import Markdown

    console = new_console()
    with console.capture() as captured:
        console.print(Markdown(text))
    drawn = captured.get()
    sys.stdout.write(drawn)
    sys.stdout.flush()
    keep(path, key, drawn, most=KEPT_PAGES, pattern="*")  # older .txt pages too


def _terminal() -> str:
    """The rest of what rich reads: which standard streams are terminals and their size, the output's encoding, the
    platform, and which rich and pygments (their files' size and modification time; importing them to ask is what
    is saved)."""
    import importlib.util
    import os

    sizes = []
    for fd in (0, 1, 2):
        try:
            sizes.append("x".join(map(str, os.get_terminal_size(fd))))
        except (OSError, ValueError):
            sizes.append("-")
    drawers = []
    for package in ("rich", "pygments"):  # pygments colours the code blocks
        spec = importlib.util.find_spec(package)
        origin = os.stat(spec.origin) if spec and spec.origin else None
        drawers.append(f"{origin.st_size}:{origin.st_mtime_ns}" if origin else "-")
    return " ".join([*sizes, str(sys.stdout.isatty()), str(sys.stdout.encoding), sys.platform, *drawers])
