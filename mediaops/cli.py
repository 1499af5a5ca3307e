"""The ``mediaops`` command: parse, call the library, print.

Only click is imported at start-up; everything heavier (rich, the runbooks, the Kubernetes client,
questionary) is imported inside the command that needs it, so ``mediaops --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediaops import __version__
from mediaops.errors import EXIT_INTERRUPTED, EXIT_USAGE, MediaopsError, UsageError

if TYPE_CHECKING:
    from mediaops.config import Config
    from mediaops.engine.model import Param, Runbook
    from mediaops.engine.registry import Registry


class State:
    """What the top-level options decided, built on first use."""

    def __init__(self, flags: dict[str, Any], config_file: Path | None) -> None:
        self.flags = flags
        self.config_file = config_file
        self.sim = False
        self._config: Config | None = None
        self._registry: Registry | None = None

    def rehearse(self, ctx: click.Context) -> None:
        """With --sim: start a rehearsal cluster from the repository and point the configuration at it."""
        if not self.sim:
            return
        import os
        import tempfile

        from mediaops.services import repository
        from mediaops.sim.cluster import Rehearsal
        from mediaops.sim.manager import Timing

        repo = repository(self.config)
        fast = os.environ.get("MEDIAOPS_SIM_TIMING") == "fast"
        rehearsal = Rehearsal(repo.root, timing=Timing.fast() if fast else Timing(), nas_port=0)
        scratch = Path(tempfile.mkdtemp(prefix="mediaops-sim-"))
        click.echo(f"starting a rehearsal cluster from {repo.root} …", err=True)
        show = _progress_printer()
        try:
            rehearsal.start(progress=lambda ready, total: show((ready, total)))
        except BaseException:
            rehearsal.stop()
            raise
        finally:
            show(None)
        ctx.call_on_close(rehearsal.stop)
        _warn_not_ready(rehearsal.not_ready())
        if rehearsal.remote_bases:
            click.echo(f"note: the rehearsal leaves out {len(rehearsal.remote_bases)} remote base(s) it would have "
                       f"to fetch from the internet: {rehearsal.remote_bases[0]}"
                       + (" and more" if len(rehearsal.remote_bases) > 1 else ""), err=True)
        kubeconfig = rehearsal.kubeconfig(scratch / "kubeconfig")
        self.config.values.update(kubeconfig=str(kubeconfig), context="rehearsal")
        self.config.sources.update(kubeconfig="--sim", context="--sim")
        if rehearsal.nas_host:
            self.config.values["nas_port"] = str(rehearsal.nas_port)
            self.config.sources["nas_port"] = "--sim"
        if not self.config.get("ingress_base_url"):
            self.config.values["ingress_base_url"] = rehearsal.ingress_url
            self.config.sources["ingress_base_url"] = "--sim"

    @property
    def config(self) -> Config:
        if self._config is None:
            from mediaops import config

            self._config = config.load(self.config_file, self.flags)
            self._adopt_background_rehearsal(self._config)
        return self._config

    @staticmethod
    def _adopt_background_rehearsal(config: Config) -> None:
        """Pointed at the kubeconfig `mediaops sim up` wrote, the HTTP and NFS checks go to that rehearsal's
        ingress and NAS unless set otherwise: one forgotten `export` must not send a check to a real host."""
        import json
        import os

        kubeconfig = config.get("kubeconfig") or os.environ.get("KUBECONFIG", "")
        path = config.state_dir / "sim" / "state.json"
        if not kubeconfig or not path.is_file():
            return
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if Path(kubeconfig).resolve() != Path(str(state.get("kubeconfig", ""))).resolve():
            return
        if not config.get("ingress_base_url") and state.get("ingress"):
            config.values["ingress_base_url"], config.sources["ingress_base_url"] = state["ingress"], "sim up"
        nas = str(state.get("nas") or "")
        if nas and config.sources.get("nas_port", "default") == "default":
            config.values["nas_port"], config.sources["nas_port"] = nas.rpartition(":")[2], "sim up"

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from mediaops.engine.registry import Registry

            self._registry = Registry([Path(p) for p in self.config.get("runbook_paths", [])])
        return self._registry


def _progress_printer() -> Any:
    """Show ``12/57 Kustomizations Ready`` on one rewritten line of a terminal's stderr; nothing in a pipe."""
    interactive = sys.stderr.isatty()
    shown = [False]

    def show(counts: tuple[int, int] | None) -> None:
        if not interactive:
            return
        if counts is None:
            if shown[0]:
                click.echo("\r\033[K", nl=False, err=True)
            return
        shown[0] = True
        click.echo(f"\r\033[K  {counts[0]}/{counts[1]} Kustomizations Ready", nl=False, err=True)

    return show


def _warn_not_ready(names: list[str]) -> None:
    """The rehearsal settled, but some Kustomizations are not Ready: one line saying which and why."""
    if names:
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        click.echo(f"warning: {len(names)} Kustomization(s) not Ready in the rehearsal: "
                   + "; ".join(names[:3]) + more, err=True)


def _state(ctx: click.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):  # shell completion skips callbacks
        params = root.params
        flags = {k: params.get(k) for k in ("repo", "kubeconfig", "context")}
        root.obj = State(flags, params.get("config_file"))
    return root.obj


def _json(data: Any) -> str:
    """Indented for a person at a terminal, compact (and faster) for a pipe."""
    import json

    return json.dumps(data, indent=2 if sys.stdout.isatty() else None)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mediaops")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: mediaops.yaml in the user config directory).")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), envvar="MEDIAOPS_REPO",
              help="Flux repository checkout (default: nearest parent holding kubernetes/).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Path to the kubeconfig file.")
@click.option("--context", help="The kubeconfig context to use.")
@click.option("--sim", is_flag=True, help="Act on a fresh rehearsal cluster built from the repository, in-process.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, repo: Path | None, kubeconfig: Path | None,
        context: str | None, sim: bool) -> None:
    """Runbooks for a Flux-managed media stack: every procedure as code, safe to run, readable as a document.

    Exit codes: 0 done, 1 a step failed or the run was aborted, 2 bad usage or input,
    3 preconditions not met, 130 interrupted.
    """
    flags = {"repo": str(repo) if repo else None, "kubeconfig": str(kubeconfig) if kubeconfig else None,
             "context": context}
    ctx.obj = State(flags, config_file)
    ctx.obj.sim = sim


# -- runbooks ---------------------------------------------------------------------------------------
@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_runbooks(ctx: click.Context, as_json: bool) -> None:
    """List the runbooks."""
    runbooks = _state(ctx).registry.all()
    if as_json:
        import json

        rows = [{"name": r.name, "summary": r.summary, "params": [p.name for p in r.params],
                 "steps": len(r.steps), "source": r.source} for r in runbooks]
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(show_edge=False)
    table.add_column("runbook", style="bold")
    table.add_column("usage")
    table.add_column("what it does")
    for r in runbooks:
        usage = " ".join(f"<{p.name}>" if p.required and not p.flag else f"[{p.option}]" for p in r.params)
        table.add_row(r.name, usage, r.summary)
    _console().print(table)


def _complete_runbook(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    try:
        return [n for n in _state(ctx).registry.names() if n.startswith(incomplete)]
    except MediaopsError:
        return []


@cli.command("show")
@click.argument("runbook", shell_complete=_complete_runbook)
@click.pass_context
def show(ctx: click.Context, runbook: str) -> None:
    """Print a runbook as a procedure: steps, why, commands, verification and undo."""
    from rich.markdown import Markdown

    from mediaops.engine import docs

    text = docs.markdown(_state(ctx).registry.get(runbook))
    _console().print(Markdown(text.split("\n", 1)[1]))


class RunGroup(click.Group):
    """``mediaops run RUNBOOK``: one subcommand per runbook, built from its declared parameters."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            return _state(ctx).registry.names()
        except MediaopsError:
            return []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        registry = _state(ctx).registry
        if cmd_name not in registry.names():
            registry.get(cmd_name)  # raises with the closest names
        return _runbook_command(registry.get(cmd_name))


def _complete_app(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    try:
        from mediaops.services import repository

        return [a.name for a in repository(_state(ctx).config).apps() if a.name.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []


def _click_param(p: Param) -> click.Parameter:
    complete = _complete_app if p.complete == "app" else None
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
        return _execute(_state(ctx), runbook, kwargs, **modes)

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


def _execute(state: State, runbook: Runbook, params: dict[str, Any], *, dry_run: bool, yes: bool,
             as_json: bool, rollback_on_failure: bool, resume_id: str | None = None, undo: bool = False) -> int:
    from mediaops import services
    from mediaops.engine.journal import Journal
    from mediaops.engine.runner import INTERACTIVE, YES, Runner, RunOptions, refuse_unattended
    from mediaops.engine.ui import JsonUI, Prompter, RichUI

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
    runner = Runner(
        runbook,
        params,
        RunOptions(mode=mode, rollback_on_failure=rollback_on_failure, resumable=not state.sim),
        sinks=[JsonUI() if as_json else RichUI()],
        journal=journal,
        services=env.factories(),
        target=env.target(),
        prompter=Prompter() if mode == INTERACTIVE else None,
        locker=env.locker(),
        resume=record,
    )
    return runner.undo() if undo else runner.run()


@cli.command("resume", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("run_id", shell_complete=lambda c, p, i: _complete_run(c, p, i))
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

    state = _state(ctx)
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
@click.argument("run_id", shell_complete=lambda c, p, i: _complete_run(c, p, i))
@click.option("--dry-run", is_flag=True, help="Show what would be undone; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Undo without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line.")
@click.pass_context
def undo(ctx: click.Context, run_id: str, dry_run: bool, yes: bool, as_json: bool) -> int:
    """Undo the completed steps of a run (finished, failed, interrupted or abandoned), most recent first.

    RUN_ID is a run ID, a unique part of one, or `last`."""
    from mediaops.engine.journal import Journal

    state = _state(ctx)
    record = Journal(state.config.state_dir).get(run_id)
    runbook = state.registry.get(record.runbook)
    params = {p.name: record.params.get(p.name, p.default) for p in runbook.params}
    return _execute(state, runbook, params, dry_run=dry_run, yes=yes, as_json=as_json, rollback_on_failure=False,
                    resume_id=record.run_id, undo=True)


def _complete_run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Run IDs for shell completion, newest first."""
    from click.shell_completion import CompletionItem

    from mediaops.engine.journal import Journal

    try:
        records = Journal(_state(ctx).config.state_dir).runs()
    except Exception:  # completion never fails loudly
        return []
    return [CompletionItem(r.run_id, help=f"{r.runbook} {r.status}") for r in records if incomplete in r.run_id]


# -- the journal --------------------------------------------------------------------------------------
@cli.group("runs", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.pass_context
def runs(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List recorded runs; `mediaops runs show ID [--markdown|--json]` for one (ID: a unique part, or `last`)."""
    if ctx.invoked_subcommand:
        return
    from mediaops import reports
    from mediaops.engine.journal import Journal

    records = Journal(_state(ctx).config.state_dir).runs()[:limit]
    if as_json:
        import json

        click.echo(json.dumps([r.summary() for r in records], indent=2))
        return
    _console().print(reports.runs_table(records))


@runs.command("show")
@click.argument("run_id", shell_complete=lambda c, p, i: _complete_run(c, p, i))
@click.option("--markdown", is_flag=True, help="A report to paste into the ops log.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def runs_show(ctx: click.Context, run_id: str, markdown: bool, as_json: bool) -> None:
    """Show one run: who, where, parameters, each step's outcome."""
    from mediaops import reports
    from mediaops.engine.journal import Journal

    record = Journal(_state(ctx).config.state_dir).get(run_id)
    if as_json:
        import json

        click.echo(json.dumps(record.to_dict(), indent=2))
    elif markdown:
        click.echo(reports.run_markdown(record), nl=False)
    else:
        _console().print(reports.run_view(record))


# -- documentation -------------------------------------------------------------------------------------
@cli.command("docs")
@click.option("--check", is_flag=True, help="Exit 1 when the pages differ from the runbooks (or the faults table "
                                            "from the rehearsal's faults).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/runbooks"),
              show_default=True, help="Where the pages go.")
@click.option("--rehearsal-page", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/rehearsal.md"),
              show_default=True, help="The page whose faults table is written too (skipped when it does not exist).")
@click.pass_context
def docs_command(ctx: click.Context, check: bool, out: Path, rehearsal_page: Path) -> int:
    """Write docs/runbooks/<name>.md from the runbook definitions, and the faults table of docs/rehearsal.md.

    With a repository (--repo or found from here), each page embeds the Mermaid graph of its apps. The faults
    table is the part of the rehearsal page between its `<!-- faults: ... -->` and `<!-- /faults -->` markers.
    """
    from mediaops import reports
    from mediaops.services import find_repo_root, repository

    config = _state(ctx).config
    repo = repository(config) if find_repo_root(config) else None
    pages = reports.runbook_pages(_state(ctx).registry.all(), repo)
    stale = [name for name, text in pages.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    extra = sorted(p.name for p in out.glob("*.md") if p.name not in pages) if out.is_dir() else []
    rehearsal_text: str | None = None  # the rehearsal page as it should be, when it is not
    if rehearsal_page.is_file():
        written = rehearsal_page.read_text(encoding="utf-8")
        try:
            rehearsal_text = reports.rehearsal_page(written)
        except ValueError as exc:
            raise UsageError(f"{rehearsal_page}: {exc}", hint="put them back, or pass --rehearsal-page") from None
        rehearsal_text = None if rehearsal_text == written else rehearsal_text
    if check:
        if stale or extra or rehearsal_text is not None:
            for name in stale:
                click.echo(f"stale: {out / name}", err=True)
            for name in extra:
                click.echo(f"no runbook for: {out / name}", err=True)
            if rehearsal_text is not None:
                click.echo(f"stale: the faults table in {rehearsal_page}", err=True)
            click.echo("docs are out of date: run `mediaops docs` and commit the result", err=True)
            return 1
        click.echo(f"docs up to date ({len(pages)} pages)")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (out / name).write_text(pages[name], encoding="utf-8")
    for name in extra:
        (out / name).unlink()
    if rehearsal_text is not None:
        rehearsal_page.write_text(rehearsal_text, encoding="utf-8")
    click.echo(f"wrote {len(stale)} of {len(pages)} pages to {out}" + (f", removed {len(extra)}" if extra else "")
               + (f", and the faults table in {rehearsal_page}" if rehearsal_text is not None else ""))
    return 0


# -- the repository ---------------------------------------------------------------------------------------
STATES = ("active", "disabled", "archived", "inconsistent", "unreadable")


def _repository(ctx: click.Context) -> Any:
    """The repository for the commands that only read it: its parsed files are kept between runs."""
    from mediaops.services import repository
    from mediaops.yamlfiles import DISK_CACHE

    repo = repository(_state(ctx).config)
    DISK_CACHE.attach(repo.root)
    return repo


@cli.command("apps")
@click.option("--namespace", "-n", help="Only this namespace.")
@click.option("--state", type=click.Choice(STATES), help="Only apps in this state.")
@click.option("--check", is_flag=True, help="Report every inconsistency; exit 1 when there is any.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def apps_command(ctx: click.Context, namespace: str | None, state: str | None, check: bool, as_json: bool) -> int:
    """The apps of the repository and their activation state."""
    from mediaops import gitops

    repo = _repository(ctx)
    if check:
        found = gitops.problems(repo, namespace)
        errors = [f for f in found if f.level == "error"]
        if as_json:
            import json

            click.echo(json.dumps([{"app": f.where, "problem": f.what, "level": f.level} for f in found], indent=2))
        else:
            for f in found:
                click.echo(f"{f.where}: {'warning: ' if f.level == 'warning' else ''}{f.what}")
            warnings = len(found) - len(errors)
            summary = f"{len(errors)} problem(s) found" if errors else "no problems found"
            click.echo(summary + (f", {warnings} warning(s)" if warnings else ""), err=bool(errors))
        return 1 if errors else 0
    apps = [a for a in repo.apps()
            if (namespace is None or a.namespace == namespace) and (state is None or a.state == state)]
    if not repo.apps():
        click.echo("mediaops: no apps found: mediaops reads kubernetes/apps/<namespace>/<app>/ks.yaml listed in "
                   "the namespace's kustomization.yaml (README, \"The repository\")", err=True)
    if as_json:
        click.echo(_json([a.to_dict() for a in apps]))
        return 0
    from mediaops import reports

    _console().print(reports.apps_table(apps))
    return 0


@cli.command("app")
@click.argument("name", shell_complete=_complete_app)
@click.option("--namespace", "-n", help="The app's namespace, when its name is not unique.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def app_command(ctx: click.Context, name: str, namespace: str | None, as_json: bool) -> None:
    """Everything the repository says about one app."""
    app = _repository(ctx).app(name, namespace)
    if as_json:
        import json

        click.echo(json.dumps(app.to_dict(), indent=2))
        return
    from mediaops import reports

    _console().print(reports.app_view(app))


@cli.command("graph")
@click.option("--format", "fmt", type=click.Choice(["tree", "dot", "mermaid"]), default="tree", show_default=True)
@click.option("--app", "apps", multiple=True, shell_complete=_complete_app,
              help="Only what these apps depend on (repeatable).")
@click.pass_context
def graph_command(ctx: click.Context, fmt: str, apps: tuple[str, ...]) -> None:
    """The dependsOn graph of every Flux Kustomization and HelmRelease."""
    from mediaops import graph

    repo = _repository(ctx)
    for name in apps:
        repo.app(name)  # an unknown name answers with the closest ones
    drawn = graph.build(repo, list(apps) or None)
    if fmt == "tree":
        _console().print(graph.tree(drawn))
    else:
        click.echo(graph.mermaid(drawn) if fmt == "mermaid" else graph.dot(drawn), nl=False)


# -- the cluster ------------------------------------------------------------------------------------------
@cli.command("status")
@click.option("--namespace", "-n", help="Only this namespace.")
@click.option("--output", "-o", type=click.Choice(["table", "wide", "json", "yaml"]), default="table",
              show_default=True, help="The compact table, every column, or every field as JSON or YAML.")
@click.option("--json", "as_json", is_flag=True, help="Same as -o json.")
@click.option("--failed", is_flag=True, help="Only apps not Ready, suspended, scaled down by mediaops or behind the "
              "branch; exit 1 when there is any.")
@click.pass_context
def status_command(ctx: click.Context, namespace: str | None, output: str, as_json: bool, failed: bool) -> int:
    """Every app of the repository joined with its live state; suspended objects flagged loudly.

    REVISION is the commit the app's Kustomization applied, marked * when the branch's head is another."""
    from dataclasses import asdict

    from mediaops import status
    from mediaops.services import Environment

    state = _state(ctx)
    state.rehearse(ctx)
    env = Environment(state.config)
    repo = _repository(ctx)
    rows = status.gather(env.kube(), repo, namespace, head=_branch_head(repo.root))
    if failed:
        rows = [r for r in rows if r.failing]
    output = "json" if as_json else output
    if output in ("json", "yaml"):
        data = [asdict(r) | {"alarming": r.alarming, "failing": r.failing} for r in rows]
        if output == "json":
            click.echo(_json(data))
        else:
            import yaml

            click.echo(yaml.safe_dump(data, sort_keys=False), nl=False)
    else:
        from mediaops import reports

        console = _console()
        console.print(f"[dim]context {env.kube().context} · {env.kube().server}[/]")
        if failed and not rows:
            console.print("every active app is Ready, resumed, at its replicas and on the branch's head")
        else:
            if output == "wide":  # as kubectl's -o wide: long lines, the terminal folds them
                from rich.console import Console

                Console(highlight=False, width=100_000).print(reports.status_wide(rows))
            else:
                console.print(reports.status_table(rows))
    return 1 if failed and rows else 0


def _branch_head(root: Path) -> str:
    """The commit of the branch Flux follows, as this checkout last fetched it ("" when unknown)."""
    from mediaops.git import Git, GitError

    git = Git(root)
    try:
        return git.query("rev-parse", "@{upstream}")
    except (GitError, MediaopsError):
        return ""


@cli.command("unlock")
@click.argument("name")
@click.option("--namespace", "-n", help="Where the lock lives (default: the configured namespace).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def unlock_command(ctx: click.Context, name: str, namespace: str | None, yes: bool) -> int:
    """Release a runbook lock that an abandoned run left behind."""
    from mediaops.lock import Lock, describe
    from mediaops.services import Environment

    state = _state(ctx)
    kube = Environment(state.config).kube()
    namespace = namespace or state.config.get("namespace", "media")
    lease = kube.find("Lease", name, namespace)
    if lease is None:
        raise UsageError(f"no lock {name} in namespace {namespace}", hint="`kubectl get leases -n "
                         f"{namespace}` lists them")
    holder, run, age, expired = describe(lease)
    click.echo(f"lock {name}: held by {holder} (run {run or '?'}) for {int(age // 60)} min"
               + (" (expired)" if expired else ""))
    if not yes:
        from mediaops.engine.runner import is_terminal

        if not is_terminal():
            raise UsageError("not at a terminal: refusing to ask", hint="pass --yes to release it")
        import questionary

        if not questionary.confirm(f"Release {name}?", default=False).unsafe_ask():
            click.echo("left as it is")
            return 1
    Lock(kube, namespace).kube.delete("Lease", name, namespace)
    click.echo(f"released {name}")
    return 0


@cli.group("sim")
def sim_group() -> None:
    """The rehearsal cluster: a Kubernetes API on 127.0.0.1 with Flux, Velero and friends."""


def _sim_dir(ctx: click.Context) -> Path:
    return _state(ctx).config.state_dir / "sim"


def _sim_state(ctx: click.Context) -> dict[str, Any]:
    import json

    path = _sim_dir(ctx) / "state.json"
    if not path.is_file():
        raise UsageError("no rehearsal cluster is running", hint="start one with `mediaops sim up`")
    return dict(json.loads(path.read_text()))


@sim_group.command("up")
@click.option("--timing", type=click.Choice(["normal", "fast"]), default="normal", show_default=True,
              help="How long pods, backups and retries take.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for it to settle.")
@click.option("--nas-port", default=2049, show_default=True, help="Where its NAS answers NFS (0: a free port).")
@click.pass_context
def sim_up(ctx: click.Context, timing: str, timeout: float, nas_port: int) -> int:
    """Start a rehearsal cluster from the repository in the background and write its kubeconfig."""
    import json
    import subprocess
    import sys
    import time

    directory = _sim_dir(ctx)
    if (directory / "state.json").is_file():
        running = json.loads((directory / "state.json").read_text())
        raise UsageError(f"a rehearsal cluster is already running (pid {running.get('pid')})",
                         hint="`mediaops sim down` first")
    repo = _repository(ctx)
    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / "sim.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "mediaops.sim", "--repo", str(repo.root), "--dir",
                                str(directory), "--timing", timing, "--nas-port", str(nas_port),
                                "--timeout", str(timeout)],
                               stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL, start_new_session=True)

    show = _progress_printer()
    deadline = time.monotonic() + timeout + 30  # the process gives up at `timeout` and says why
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            show(None)
            reason = (directory / "sim.log").read_text().strip().splitlines()[-1:] or ["it exited"]
            line = reason[0] if reason[0].startswith("the rehearsal") else f"the rehearsal did not start: {reason[0]}"
            raise MediaopsError(line, hint=f"the whole log is {directory / 'sim.log'}")
        path = directory / "state.json"
        if path.is_file():
            try:
                state = json.loads(path.read_text())
            except ValueError:
                state = {}
            if state.get("progress"):
                show(tuple(state["progress"]))
            if state.get("ready"):
                break
        time.sleep(0.05)
    else:
        process.terminate()
        show(None)
        raise MediaopsError("the rehearsal cluster did not settle in time", hint=f"see {directory / 'sim.log'}")
    show(None)
    _warn_not_ready(state.get("not_ready") or [])
    click.echo(f"rehearsal cluster up at {state['server']} (pid {state['pid']}) from {repo.root}")
    click.echo(f"export KUBECONFIG={state['kubeconfig']}")
    click.echo(f"# with that KUBECONFIG, mediaops's HTTP checks go to its ingress ({state['ingress']}) and its NFS "
               f"checks to its NAS ({state.get('nas') or '-'})")
    return 0


@sim_group.command("down")
@click.pass_context
def sim_down(ctx: click.Context) -> int:
    """Stop the background rehearsal cluster."""
    import os
    import signal
    import time

    from mediaops.engine.journal import process_alive

    state = _sim_state(ctx)
    try:
        os.kill(int(state["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        (_sim_dir(ctx) / "state.json").unlink(missing_ok=True)
        click.echo("it had already stopped")
        return 0
    path = _sim_dir(ctx) / "state.json"
    pid = int(state["pid"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # "stopped" only once the process is gone
        if not process_alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        click.echo(f"rehearsal cluster (pid {pid}) did not stop within 10 s; killed it", err=True)
    path.unlink(missing_ok=True)
    click.echo(f"rehearsal cluster (pid {pid}) stopped")
    return 0




def _control(ctx: click.Context, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import json
    import urllib.error
    import urllib.request

    state = _sim_state(ctx)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(state["server"] + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        raise UsageError(json.loads(exc.read() or b"{}").get("message", str(exc))) from None


@sim_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def sim_status(ctx: click.Context, as_json: bool) -> None:
    """What the background rehearsal cluster is doing, and which faults are on."""
    summary = _control(ctx, "/rehearsal/status")
    if as_json:
        click.echo(_json(summary))
        return
    faults = {k: v for k, v in (summary.get("faults") or {}).items() if v}
    kustomizations = summary.get("kustomizations") or []
    not_ready = [k["name"] for k in kustomizations if k.get("ready") != "True"]
    lines = [f"server      {summary.get('server')}", f"ingress     {summary.get('ingress') or '-'}",
             f"nas         {summary.get('nas') or '-'}", f"repository  {summary.get('repo')}",
             f"faults      {', '.join(f'{k}={v}' for k, v in faults.items()) or 'none'}",
             f"Kustomizations  {len(kustomizations) - len(not_ready)}/{len(kustomizations)} Ready"
             + (f"; not Ready: {', '.join(not_ready)}" if not_ready else ""),
             f"controller errors  {summary.get('controller_errors', 0)}"]
    click.echo("\n".join(lines))


@sim_group.command("vault")
@click.argument("item")
@click.argument("field")
@click.pass_context
def sim_vault(ctx: click.Context, item: str, field: str) -> None:
    """Set a field of the rehearsal's 1Password stand-in; the value is read from stdin, never an argument."""
    value = str(sys.stdin.read()).strip()
    if not value:
        raise UsageError("no value on standard input", hint=f"e.g. mediaops sim vault {item} {field} < file")
    click.echo(_control(ctx, "/rehearsal/vault", {"item": item, "field": field, "value": value})["message"])


class FaultCommand(click.Command):
    """`sim fault`: its help lists the faults and their values from mediaops/sim/faults.py."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from mediaops.sim.faults import FAULTS

        with formatter.section("Faults"):
            formatter.write_dl([(f.usage, f.effect.replace("`", "")) for f in FAULTS.values()])
        values = {f.value.metavar or "VALUE": f.value.meaning for f in FAULTS.values()}
        with formatter.section("Values"):
            formatter.write_dl(list(values.items()))
        super().format_epilog(ctx, formatter)


@sim_group.command("fault", cls=FaultCommand)
@click.argument("name")
@click.argument("value", default="on")
@click.pass_context
def sim_fault(ctx: click.Context, name: str, value: str) -> None:
    """Switch a fault on or off, or set its value.

    NAME is one of the background rehearsal's faults below; `mediaops sim status` shows those in force.
    """
    click.echo(_control(ctx, "/rehearsal/fault", {"name": name, "value": value})["message"])


@cli.group("config")
def config_group() -> None:
    """Inspect the effective configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print every setting, its value and where it came from."""
    config = _state(ctx).config
    if not config.get("repo"):  # found, not set: say which checkout and that it was found
        from mediaops.services import find_repo_root

        root = find_repo_root(config)
        if root is not None:
            config.values["repo"], config.sources["repo"] = str(root), "found from the working directory"
    if as_json:
        import json

        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in config.rows()}, indent=2))
        return
    from rich.table import Table

    table = Table(show_edge=False, title=f"config file: {config.file or 'none'}", title_justify="left")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for key, value, source in config.rows():
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        table.add_row(key, shown, source)
    _console().print(table)


# The global options, and whether each takes a value: accepted anywhere on the line, as kubectl and flux
# accept theirs (`mediaops run activate x --sim` is `mediaops --sim run activate x`).
GLOBAL_OPTIONS = {"--config": True, "--repo": True, "--kubeconfig": True, "--context": True, "--sim": False}
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
    sys.exit(code if isinstance(code, int) else 0)
