"""What activate and deactivate share: their parameters, the facts they learn, their repository checks, and
what the undo of their push does in the cluster."""

from __future__ import annotations

from mediaops.cluster import flux
from mediaops.engine import CheckFailed, Live, Param
from mediaops.engine.context import Context
from mediaops.repo import App, variable_findings
from mediaops.steps import cluster as clustersteps
from mediaops.steps import git as gitsteps
from mediaops.steps.app import APP, NAMESPACE, app_of

PARAMS = [APP, NAMESPACE, Param("no_push", "commit but do not push", required=False, flag=True)]
# What reconcile_revert runs, for the repository's own entry (clustersteps.entry).
RECONCILE_APPS = Live(lambda ctx: " && ".join(flux.command(*ref) for ref in clustersteps.entry(ctx)),
                      doc=" && ".join(flux.command(*ref) for ref in (clustersteps.SOURCE, clustersteps.CLUSTER_APPS)))


def paths(ctx: Context) -> list[str]:
    """The files an activation or deactivation changes (known once ``learn`` ran)."""
    return list(ctx.facts["paths"])


def learn(ctx: Context, app: App) -> None:
    """Facts the steps' commands and edits name: the app, its namespace, directory and files."""
    from mediaops.repo.edits import beside_the_list

    ns_file = ctx.repo.rel(ctx.repo.namespace_kustomization(app.namespace))
    own = [app.ks_file] if beside_the_list(ctx.repo, app) else [f"{app.directory}/ks.dis", f"{app.directory}/ks.yaml"]
    ctx.facts.update(app=app.name, ns=app.namespace, dir=app.directory, ns_file=ns_file,
                     ks=", ".join(k.name for k in app.kustomizations), paths=[*own, ns_file])


def files_clean(ctx: Context) -> str:
    """Check: the files the run edits have no changes of someone else's, and nothing unrelated is staged."""
    changed = gitsteps.foreign_changes(ctx, paths(ctx))
    if changed:
        raise CheckFailed(f"uncommitted changes in {', '.join(changed)}; commit or stash them first")
    staged = sorted(set(ctx.git.staged()) - set(paths(ctx)))
    if staged:
        raise CheckFailed(f"unrelated changes are staged ({', '.join(staged[:3])}); commit or unstage them first")
    return "clean"


def variables_defined(ctx: Context) -> str:
    """Check: every ``${VAR}`` of the app is defined where Flux's post-build substitution reads it."""
    app = app_of(ctx)
    findings = variable_findings(ctx.repo, app)
    errors = [f.what for f in findings if f.level == "error"]
    if errors:
        raise CheckFailed("; ".join(errors))
    for finding in findings:
        ctx.warn(finding.what)
    return f"{len(app.variables)} variable(s) substituted" if app.variables else "uses no variables"


def dependencies_known(ctx: Context) -> str:
    """Check: every Kustomization the app dependsOn exists somewhere in the repository."""
    app = app_of(ctx)
    known = {k.ref for k in ctx.repo.flux_kustomizations()}
    missing = [str(d) for k in app.kustomizations for d in k.depends_on if d not in known]
    if missing:
        raise CheckFailed(f"dependsOn names Kustomizations that exist nowhere in the repository: {', '.join(missing)}")
    deps = [str(d) for k in app.kustomizations for d in k.depends_on]
    return ", ".join(deps) if deps else "no dependencies"


def reconcile_revert(ctx: Context) -> None:
    """After the push's undo pushed a revert: let Flux apply it now."""
    if ctx.has_service("cluster") and ctx.facts.get("reverted"):
        clustersteps.reconcile_source(ctx)
        clustersteps.reconcile_cluster_apps(ctx)


def not_pushed(ctx: Context) -> str | None:
    """For the cluster steps' ``skip_when``: with --no-push the cluster has nothing new to follow."""
    return "--no-push: the cluster follows once the commit is pushed" if ctx.params.get("no_push") else None
