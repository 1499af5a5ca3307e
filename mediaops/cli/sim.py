"""`sim up|down|status|vault|fault`: the rehearsal cluster in the background."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mediaops.cli.repo import read_repository
from mediaops.cli.root import State, cli, pass_state, progress_printer, to_json, warn_not_ready
from mediaops.errors import UsageError


@cli.group("sim")
def sim_group() -> None:
    """The rehearsal cluster: a Kubernetes API on 127.0.0.1 with Flux, Velero and friends."""


def _sim_dir(state: State) -> Path:
    return state.config.state_dir / "sim"


@sim_group.command("up")
@click.option("--timing", type=click.Choice(["normal", "fast"]), default="normal", show_default=True,
              help="How long pods, backups and retries take.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for it to settle.")
@click.option("--nas-port", default=2049, show_default=True, help="Where its NAS answers NFS (0: a free port).")
@pass_state
def sim_up(state: State, timing: str, timeout: float, nas_port: int) -> int:
    """Start a rehearsal cluster from the repository in the background and write its kubeconfig."""
    from mediaops.sim import background

    repo = read_repository(state, apps=False)  # the rehearsal reads it, in its own process
    up = background.start(_sim_dir(state), repo.root, timing=timing, timeout=timeout, nas_port=nas_port,
                          progress=progress_printer(), cluster=repo.cluster)
    warn_not_ready(up.get("not_ready") or [])
    click.echo(f"rehearsal cluster up at {up['server']} (pid {up['pid']}) from {repo.root}")
    click.echo(f"export KUBECONFIG={up['kubeconfig']}")
    click.echo(f"# with that KUBECONFIG, mediaops's HTTP checks go to its ingress ({up['ingress']}) and its NFS "
               f"checks to its NAS ({up.get('nas') or '-'})")
    return 0


@sim_group.command("down")
@pass_state
def sim_down(state: State) -> int:
    """Stop the background rehearsal cluster."""
    from mediaops.sim import background

    pid, how = background.stop(_sim_dir(state))
    if how == "already stopped":
        click.echo("it had already stopped")
        return 0
    if how == "killed":
        click.echo(f"rehearsal cluster (pid {pid}) did not stop within 10 s; killed it", err=True)
    click.echo(f"rehearsal cluster (pid {pid}) stopped")
    return 0


def _control(state: State, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    from mediaops.sim import background

    return background.control(_sim_dir(state), path, body)


@sim_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def sim_status(state: State, as_json: bool) -> None:
    """What the background rehearsal cluster is doing, and which faults are on."""
    summary = _control(state, "/rehearsal/status")
    if as_json:
        click.echo(to_json(summary))
        return
    faults = {k: v for k, v in (summary.get("faults") or {}).items() if v}
    kustomizations = summary.get("kustomizations") or []
    not_ready = [k["name"] for k in kustomizations if k.get("ready") != "True"]
    lines = [f"server      {summary.get('server')}", f"ingress     {summary.get('ingress') or '-'}",
             f"nas         {summary.get('nas') or '-'}", f"repository  {summary.get('repo')}",
             f"faults      {', '.join(f'{k}={v}' for k, v in faults.items()) or 'none'}",
             f"Kustomizations  {len(kustomizations) - len(not_ready)}/{len(kustomizations)} Ready"
             + (f"; not Ready: {', '.join(not_ready)}" if not_ready else ""),
             f"controller errors  {summary.get('controller_errors', 0)}"
             + (f" (the last: {summary['last_controller_error']})" if summary.get("last_controller_error") else "")]
    click.echo("\n".join(lines))


@sim_group.command("vault")
@click.argument("item")
@click.argument("field")
@pass_state
def sim_vault(state: State, item: str, field: str) -> None:
    """Set a field of the rehearsal's 1Password stand-in; the value is read from stdin, never an argument."""
    value = str(sys.stdin.read()).strip()
    if not value:
        raise UsageError("no value on standard input", hint=f"e.g. mediaops sim vault {item} {field} < file")
    click.echo(_control(state, "/rehearsal/vault", {"item": item, "field": field, "value": value})["message"])


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
@pass_state
def sim_fault(state: State, name: str, value: str) -> None:
    """Switch a fault on or off, or set its value.

    NAME is one of the background rehearsal's faults below; `mediaops sim status` shows those in force.
    """
    click.echo(_control(state, "/rehearsal/fault", {"name": name, "value": value})["message"])
