"""`apps`, `app` and `graph`: what the repository says, without a cluster."""

from __future__ import annotations

from typing import Any

import click

from mediaops.cli.root import State, cli, complete_app, new_console, pass_state, to_json

# -- the repository ---------------------------------------------------------------------------------------
STATES = ("active", "disabled", "archived", "inconsistent", "unreadable")


def read_repository(state: State, *, apps: bool = True) -> Any:
    """The repository for the commands that only read it, its apps read (``apps``); its parsed files and its apps
    are kept between runs (yamlfiles.DiskCache, snapshot.py). The parse cache and the inventory are made without the
    cyclic collector walking them, then frozen (inventory.no_cycle_collection): these commands end soon after, and
    the collector then never walks them again while the command prints. Not in the library itself: a process that
    reads many repositories (a test worker, one rehearsal after another) would keep the cyclic garbage of each."""
    from mediaops.repo.inventory import no_cycle_collection
    from mediaops.repo.yamlfiles import DISK_CACHE
    from mediaops.services import repository

    repo = repository(state.config)
    with no_cycle_collection(freeze=True):
        DISK_CACHE.attach(repo.root)
        repo.keep_between_runs()
        if apps:
            repo.apps()
    return repo


@cli.command("apps")
@click.option("--namespace", "-n", help="Only this namespace.")
@click.option("--state", "app_state", type=click.Choice(STATES), help="Only apps in this state.")
@click.option("--check", is_flag=True, help="Report every inconsistency; exit 1 when there is any.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def apps_command(state: State, namespace: str | None, app_state: str | None, check: bool, as_json: bool) -> int:
    """The apps of the repository and their activation state."""
    repo = read_repository(state)
    if check:
        from mediaops.repo import problems

        found = problems(repo, namespace)
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
            if (namespace is None or a.namespace == namespace) and (app_state is None or a.state == app_state)]
    if not repo.apps():
        click.echo("mediaops: no apps found: mediaops reads kubernetes/apps/<namespace>/<app>/ks.yaml listed in "
                   "the namespace's kustomization.yaml (README, \"The repository\")", err=True)
    if as_json:
        click.echo(to_json(apps))
        return 0
    from mediaops.engine import reports

    click.echo(reports.apps_table(apps), nl=False)
    return 0


@cli.command("app")
@click.argument("name", shell_complete=complete_app)
@click.option("--namespace", "-n", help="The app's namespace, when its name is not unique.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def app_command(state: State, name: str, namespace: str | None, as_json: bool) -> None:
    """Everything the repository says about one app."""
    app = read_repository(state).app(name, namespace)
    if as_json:
        import json

        click.echo(json.dumps(app.to_dict(), indent=2))
        return
    from mediaops.engine import reports

    new_console().print(reports.app_view(app))


@cli.command("graph")
@click.option("--format", "fmt", type=click.Choice(["tree", "dot", "mermaid"]), default="tree", show_default=True)
@click.option("--app", "apps", multiple=True, shell_complete=complete_app,
              help="Only what these apps depend on (repeatable).")
@pass_state
def graph_command(state: State, fmt: str, apps: tuple[str, ...]) -> None:
    """The dependsOn graph of every Flux Kustomization and HelmRelease."""
    from mediaops.repo import graph

    repo = read_repository(state)
    for name in apps:
        repo.app(name)  # an unknown name answers with the closest ones
    drawn = graph.build(repo, list(apps) or None)
    if fmt == "tree":
        new_console().print(graph.tree(drawn))
    else:
        click.echo(graph.mermaid(drawn) if fmt == "mermaid" else graph.dot(drawn), nl=False)
