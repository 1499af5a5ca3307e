"""Activate a disabled app of the media stack.

An app is active when its Flux Kustomization file is named ``ks.yaml`` **and** the namespace
``kustomization.yaml`` lists it; renaming ``ks.dis`` alone does nothing, because Flux's ``cluster-apps``
only creates the app's Kustomization from what that list names.
"""

from __future__ import annotations

from mediaops.engine import CheckFailed, Runbook
from mediaops.engine.context import Context
from mediaops.repo import ARCHIVED, INCONSISTENT, UNREADABLE, activation
from mediaops.steps import activation as shared
from mediaops.steps import cluster as clustersteps
from mediaops.steps import git as gitsteps
from mediaops.steps.app import app_of

activate = Runbook(
    name="activate",
    summary="Activate a disabled app: ks.dis to ks.yaml, list it, commit and push",
    params=shared.PARAMS,
    lock=lambda p: f"mediaops-activate-{p['app']}",
)


@activate.check("The app exists and is disabled (or already active)")
def app_is_disabled(ctx: Context) -> str:
    app = app_of(ctx)
    if app.state in (INCONSISTENT, UNREADABLE):
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}: {'; '.join(app.reasons)}")
    if app.state == ARCHIVED:
        raise CheckFailed(f"{app.name} is archived under {app.directory}; move it back to kubernetes/apps first")
    shared.learn(ctx, app)
    return f"{app.namespace}/{app.name} is {app.state}"


activate.check("Its files have no uncommitted changes and nothing unrelated is staged")(shared.files_clean)
activate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)
activate.check("Every ${VAR} it uses is defined by a substitution source")(shared.variables_defined)
activate.check("The Kustomizations it dependsOn exist in the repository")(shared.dependencies_known)


@activate.check("What it dependsOn (Kustomizations, HelmReleases) is Ready in the cluster", needs_cluster=True)
def dependencies_ready(ctx: Context) -> str:
    return clustersteps.dependencies_ready(ctx, app_of(ctx))


@activate.check("Every Secret it references exists, or an ExternalSecret of the app makes it from a Ready store",
                needs_cluster=True)
def secrets_available(ctx: Context) -> str:
    return clustersteps.secrets_available(ctx, app_of(ctx))


@activate.check("Its nodeSelector matches at least one node", needs_cluster=True)
def node_matches(ctx: Context) -> str:
    return clustersteps.node_matches(ctx, app_of(ctx))


@activate.step(
    "Rename ks.dis to ks.yaml and list it in the namespace kustomization",
    why="Flux's cluster-apps only creates the app's Kustomization once the namespace list names ks.yaml.",
    command="git mv {dir}/ks.dis {dir}/ks.yaml\n# and add ./{app}/ks.yaml under resources: in {ns_file}",
    edit=True,
)
def enable_in_repository(ctx: Context) -> object:
    return activation(ctx.repo, app_of(ctx))


commit = activate.add(gitsteps.commit_step(
    "Commit the activation", why="Flux deploys what is committed, not what is in this checkout.",
    message=lambda ctx: f"feat({ctx.facts['ns']}): activate {ctx.facts['app']}", paths=shared.paths,
    after=(enable_in_repository,), doc_message="feat({ns}): activate {app}"))
push = activate.add(gitsteps.push_step(
    why="The flux-system GitRepository follows the remote branch. Never forced.", after=(commit,),
    undo_doc="push a commit that reverts the activation, then let Flux prune the app",
    undo=shared.reconcile_revert, then=shared.RECONCILE_APPS))


def _pushed_and_not_in_place(ctx: Context) -> str | None:
    return shared.not_pushed(ctx) or clustersteps.app_in_place(ctx, app_of(ctx))


UNDONE_BY_PUSH = "undoing the push brings the cluster back"
fetch = activate.add(clustersteps.reconcile_source_step(
    after=(push,), when=_pushed_and_not_in_place, nothing_to_undo=UNDONE_BY_PUSH))
apply = activate.add(clustersteps.reconcile_cluster_apps_step(
    "cluster-apps creates the app's Kustomization from what the namespace kustomization.yaml lists.",
    after=(fetch,), when=_pushed_and_not_in_place, nothing_to_undo=UNDONE_BY_PUSH))
ready = activate.add(clustersteps.wait_kustomizations_step(
    app_of, "Wait until the app's Kustomization exists and is Ready",
    "Ready means its dependencies were Ready and everything it applies passed Flux's health checks.",
    after=(apply,), when=shared.not_pushed))
released = activate.add(clustersteps.wait_helmreleases_step(app_of, after=(ready,), when=shared.not_pushed))
activate.add(clustersteps.wait_rolled_out_step(app_of, after=(released,), when=shared.not_pushed))

check_scrape = activate.manual(
    "Check that Prometheus scrapes it",
    why="The app ships a ServiceMonitor; a target that is down or missing means no metrics and no alerts.",
    instructions="In Prometheus (Status > Targets) the target serviceMonitor/{ns}/{app}/0 must be UP. "
                 "From a terminal: kubectl -n observability port-forward svc/prometheus-operated 9090 and "
                 'query up{{namespace="{ns}", service="{app}"}} (1 means scraped).',
    blocking=False,
)


@check_scrape.skip_when
def no_service_monitor(ctx: Context) -> str | None:
    return None if app_of(ctx).service_monitors else "the app has no ServiceMonitor"
