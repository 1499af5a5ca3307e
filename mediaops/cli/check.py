"""`check`: the live checks of the media stack, as a table in the style of `flux get`."""

from __future__ import annotations

import click

from mediaops.cli.root import State, cli, complete_app, new_console, pass_state, to_json
from mediaops.errors import UsageError


def _complete_check(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from mediaops.checks import MODULES

    return [m.replace("_", "-") for m in MODULES if m.replace("_", "-").startswith(incomplete)]


@cli.command("check")
@click.argument("app", required=False, shell_complete=complete_app)
@click.option("--namespace", "-n", help="Only apps of this namespace (or the app's, when its name is not unique).")
@click.option("--only", multiple=True, shell_complete=_complete_check, help="Only this check (repeatable).")
@click.option("--failed", is_flag=True, help="Only what failed or warns.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def check_command(state: State, app: str | None, namespace: str | None, only: tuple[str, ...], failed: bool,
                  as_json: bool) -> int:
    """Check the apps as they run: Flux, hosts, ExternalNames, PVC usage, NFS, CronJobs, git-sync, restarts,
    backups, Prometheus scrapes, Overseerr. Exit 1 when a check fails.

    Every check and what it looks at: docs/checks/ (`mediaops check --only NAME`)."""
    from mediaops import checks, services
    from mediaops.checks.probe import Probe
    from mediaops.cli.repo import read_repository
    from mediaops.repo import ACTIVE

    known = checks.registry()
    unknown = [name for name in only if name not in known]
    if unknown:
        raise UsageError(f"no check {unknown[0]!r}", hint=f"the checks: {', '.join(known)}")
    chosen = [known[name] for name in only] if only else list(known.values())
    state.rehearse(click.get_current_context())
    repo = read_repository(state)
    if app:
        target = repo.app(app, namespace)
        if target.state != ACTIVE:
            raise UsageError(f"{target.namespace}/{target.name} is {target.state}: there is nothing running to check",
                             hint=f"`mediaops run activate {target.name}` first")
        apps = [target]
    else:
        apps = [a for a in repo.apps() if a.state == ACTIVE and (namespace is None or a.namespace == namespace)]
    kube = services.connect(state.config) if services.cluster_configured(state.config) else None
    results = checks.run(Probe(state.config, repo, kube), apps, chosen)
    results.sort(key=lambda r: (r.app, list(known).index(r.check), checks.ORDER[r.status]))
    shown = [r for r in results if r.status in (checks.FAIL, checks.WARN)] if failed else results
    if as_json:
        click.echo(to_json({"results": [r.to_dict() for r in shown], "summary": checks.summary(results)}))
    else:
        _table(shown, checks.summary(results), kube is not None)
    return 1 if any(r.status == checks.FAIL for r in results) else 0


def _table(results: list, counts: dict[str, int], has_cluster: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    colour = {"ok": "green", "warn": "yellow", "fail": "bold red", "unknown": "dim"}
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("APP", "CHECK", "STATUS", "MESSAGE"):
        table.add_column(column, overflow="fold")
    for r in results:
        # text, not markup: a message from the cluster keeps its brackets ("unready status: [tautulli]")
        table.add_row(Text(r.app), Text(r.check), Text(r.status, style=colour[r.status]), Text(r.message))
    console = new_console()
    if results:
        console.print(table)
    line = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to check"
    console.print(line + ("" if has_cluster else "; the cluster's checks not run: no cluster configured "
                                                  "(--context, --kubeconfig or --sim)"))
