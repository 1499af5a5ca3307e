"""`status` and `unlock`: the live cluster joined with the repository."""

from __future__ import annotations

from pathlib import Path

import click

from mediaops.cli.repo import read_repository
from mediaops.cli.root import State, cli, new_console, pass_state, state_of, to_json
from mediaops.errors import MediaopsError, UsageError


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
    from mediaops.cluster import status
    from mediaops.repo.model import public_fields
    from mediaops.services import Environment

    state = state_of(ctx)
    state.rehearse(ctx)
    env = Environment(state.config)
    from mediaops.repo.inventory import no_cycle_collection

    # The apps are read inside gather, while the API server answers the lists it asked for first.
    repo = read_repository(state_of(ctx), apps=False)
    with no_cycle_collection(freeze=True):
        rows = status.gather(env.kube(), repo, namespace, head=lambda: _branch_head(repo.root))
    if failed:
        rows = [r for r in rows if r.failing]
    output = "json" if as_json else output
    if output in ("json", "yaml"):
        data = [public_fields(r) | {"alarming": r.alarming, "failing": r.failing} for r in rows]  # flat rows
        if output == "json":
            click.echo(to_json(data))
        else:
            import yaml

            click.echo(yaml.safe_dump(data, sort_keys=False), nl=False)
    else:
        from mediaops.engine import reports

        out = new_console()
        from rich.text import Text

        # text, not markup: an IPv6 server (https://[fd00::1]:6443) keeps its brackets
        out.print(Text(f"context {env.kube().context} · {env.kube().server}", style="dim"))
        if failed and not rows:
            out.print("every active app is Ready, resumed, at its replicas and on the branch's head")
        else:
            if output == "wide":  # as kubectl's -o wide: long lines, the terminal folds them
                from rich.console import Console

                Console(highlight=False, emoji=False, width=100_000).print(reports.status_wide(rows))
            else:
                source = repo.entry_source()
                click.echo(reports.status_table(rows, *[source] if source.startswith("GitRepository/") else []),
                           nl=False)
    return 1 if failed and rows else 0


def _branch_head(root: Path) -> str:
    """The commit of the branch Flux follows, as this checkout last fetched it ("" when unknown)."""
    from mediaops.repo.git import Git, GitError

    git = Git(root)
    try:
        return git.query("rev-parse", "@{upstream}")
    except (GitError, MediaopsError):
        return ""


@cli.command("unlock")
@click.argument("name")
@click.option("--namespace", "-n", help="Where the lock lives (default: the configured namespace).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def unlock_command(state: State, name: str, namespace: str | None, yes: bool) -> int:
    """Release a runbook lock that an abandoned run left behind."""
    from mediaops.cluster.lock import Lock, describe
    from mediaops.services import Environment

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
