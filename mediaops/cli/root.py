"""The root group, its global options and the state they decide, shared by every command family.

Only click is imported at start-up; everything heavier (rich, the runbooks, the Kubernetes client,
questionary) is imported inside the command that needs it, so ``mediaops --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediaops import __version__

if TYPE_CHECKING:
    from mediaops.config import Config
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

        from mediaops.services import repository
        from mediaops.sim.cluster import Rehearsal
        from mediaops.sim.manager import Timing

        repo = repository(self.config)
        fast = os.environ.get("MEDIAOPS_SIM_TIMING") == "fast"
        rehearsal = Rehearsal(repo.root, timing=Timing.fast() if fast else Timing(), nas_port=0, cluster=repo.cluster)
        click.echo(f"starting a rehearsal cluster from {repo.root} …", err=True)
        show = progress_printer()
        try:
            rehearsal.start(progress=lambda ready, total: show((ready, total)))
        except BaseException:
            rehearsal.stop()
            raise
        finally:
            show(None)
        ctx.call_on_close(rehearsal.stop)
        warn_not_ready(rehearsal.not_ready())
        if rehearsal.remote_bases:
            click.echo(f"note: the rehearsal leaves out {len(rehearsal.remote_bases)} remote base(s) it would have "
                       f"to fetch from the internet: {rehearsal.remote_bases[0]}"
                       + (" and more" if len(rehearsal.remote_bases) > 1 else ""), err=True)
        # in the rehearsal's own folder, removed with it when the command ends
        kubeconfig = rehearsal.kubeconfig(rehearsal.workdir / "kubeconfig")
        self.config.values.update(kubeconfig=str(kubeconfig), context="rehearsal")
        self.config.sources.update(kubeconfig="--sim", context="--sim")
        if rehearsal.nas_host:  # the rehearsal's NAS is the only one there is: a check never asks the real one
            self.config.values.update(_nas_address=rehearsal.nas_host, nas_port=str(rehearsal.nas_port))
            self.config.sources["nas_port"] = "--sim"
        if not self.config.get("ingress_base_url"):
            self.config.values["ingress_base_url"] = rehearsal.ingress_url
            self.config.sources["ingress_base_url"] = "--sim"
        if not self.config.get("overseerr_url") and rehearsal.overseerr_url:
            self.config.values["overseerr_url"], self.config.sources["overseerr_url"] = rehearsal.overseerr_url, "--sim"
            self.config.values["_overseerr_api_key"] = rehearsal.overseerr_api_key
        # The rehearsal's own resolver and Alertmanager: a check or a silence never leaves 127.0.0.1.
        for key, attribute in (("dns_server", "dns_address"), ("alertmanager_url", "alertmanager_url")):
            value = getattr(rehearsal, attribute, "")
            if value and key in self.config.values:
                self.config.values[key], self.config.sources[key] = value, "--sim"

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
        import os

        kubeconfig = config.get("kubeconfig") or os.environ.get("KUBECONFIG", "")
        path = config.state_dir / "sim" / "state.json"
        if not kubeconfig or not path.is_file():
            return
        import json

        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if Path(kubeconfig).resolve() != Path(str(state.get("kubeconfig", ""))).resolve():
            return
        if not config.get("ingress_base_url") and state.get("ingress"):
            config.values["ingress_base_url"], config.sources["ingress_base_url"] = state["ingress"], "sim up"
        host, _, port = str(state.get("nas") or "").rpartition(":")
        if host and config.sources.get("nas_port", "default") == "default":
            config.values["nas_port"], config.sources["nas_port"] = port, "sim up"
        if host:  # where every NFS server is asked (net.nas_address): not a setting, the rehearsal's own
            config.values["_nas_address"] = host
        if not config.get("overseerr_url") and state.get("overseerr"):
            config.values["overseerr_url"], config.sources["overseerr_url"] = str(state["overseerr"]), "sim up"
            # The rehearsal's own key: not a setting (a key is never one), only for its stand-in.
            config.values["_overseerr_api_key"] = str(state.get("overseerr_api_key") or "")
        for key, found in (("dns_server", "dns"), ("alertmanager_url", "alertmanager")):
            if key in config.values and not config.get(key) and state.get(found):
                config.values[key], config.sources[key] = str(state[found]), "sim up"

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from mediaops.engine.registry import Registry

            self._registry = Registry([Path(p) for p in self.config.get("runbook_paths", [])])
        return self._registry


# Commands receive the State through click's context object (click's ``examples/complex`` shape).
pass_state = click.make_pass_decorator(State)


def progress_printer() -> Any:
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


def warn_not_ready(names: list[str]) -> None:
    """The rehearsal settled, but some Kustomizations are not Ready: one line saying which and why."""
    if names:
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        click.echo(f"warning: {len(names)} Kustomization(s) not Ready in the rehearsal: "
                   + "; ".join(names[:3]) + more, err=True)


def state_of(ctx: click.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):  # shell completion skips callbacks
        params = root.params
        flags = {k: params.get(k) for k in ("repo", "cluster", "kubeconfig", "context")}
        root.obj = State(flags, params.get("config_file"))
    return root.obj


def complete_app(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of an app's name, from the repository."""
    try:
        from mediaops.services import repository

        return [a.name for a in repository(state_of(ctx).config).apps() if a.name.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []


def to_json(data: Any) -> str:
    """Indented for a person at a terminal, compact (and faster) for a pipe. Dataclasses (an ``App``) are written
    as their public fields, by the encoder as it meets them: no plain copy of the whole tree is made first."""
    import json

    return json.dumps(data, indent=2 if sys.stdout.isatty() else None, default=_fields)


def _fields(value: Any) -> dict[str, Any]:
    from mediaops.repo.model import public_fields  # only once a record is met: its module has been imported

    return public_fields(value)


def new_console() -> Any:
    from rich.console import Console

    return Console(highlight=False, emoji=False)  # `:name:` in a value is printed as it is (engine/richui.py)


# Which module of mediaops.cli defines each command: a command's module is imported when the command is named
# (click's "Lazily Loading Subcommands"), so `mediaops list` loads one module, not eight; `--help` and completion
# list them all. tests/e2e/test_startup.py checks this table against what the modules define.
COMMAND_MODULES = {"app": "repo", "apps": "repo", "check": "check", "config": "config", "docs": "docs",
                   "graph": "repo", "list": "runbooks", "resume": "runbooks", "run": "runbooks", "runs": "journal",
                   "show": "runbooks", "sim": "sim", "status": "cluster", "undo": "runbooks", "unlock": "cluster"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            import importlib

            importlib.import_module(f"mediaops.cli.{COMMAND_MODULES[cmd_name]}")  # its decorators register it
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand:  # click suggests from the commands imported: all of them
            raise click.exceptions.NoSuchCommand(str(args[0]), possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mediaops")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: mediaops.yaml in the user config directory).")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), envvar="MEDIAOPS_REPO",
              help="Flux repository checkout (default: nearest parent holding kubernetes/).")
@click.option("--cluster", help="The cluster, in a repository of one tree per cluster (kubernetes/clusters/NAME, "
              "kubernetes/NAME, clusters/NAME: the folder of its Flux entry).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Path to the kubeconfig file.")
@click.option("--context", help="The kubeconfig context to use.")
@click.option("--sim", is_flag=True, help="Act on a fresh rehearsal cluster built from the repository, in-process.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, repo: Path | None, cluster: str | None,
        kubeconfig: Path | None, context: str | None, sim: bool) -> None:
    """Runbooks for a Flux-managed media stack: every procedure as code, safe to run, readable as a document.

    Exit codes: 0 done, 1 a step failed or the run was aborted, 2 bad usage or input,
    3 preconditions not met, 130 interrupted.
    """
    flags = {"repo": str(repo) if repo else None, "cluster": cluster,
             "kubeconfig": str(kubeconfig) if kubeconfig else None, "context": context}
    ctx.obj = State(flags, config_file)
    ctx.obj.sim = sim
