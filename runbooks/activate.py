"""Activate a disabled app of the media stack.

An app is active when its Flux Kustomization file is named ``ks.yaml`` **and** the namespace
``kustomization.yaml`` lists it; renaming ``ks.dis`` alone does nothing, because Flux's ``cluster-apps``
only creates the app's Kustomization from what that list names.
"""

from __future__ import annotations

from typing import Any

from mediaops.engine import CheckFailed, Live, Runbook
from mediaops.engine.context import Context
from mediaops.repo import ARCHIVED, INCONSISTENT, UNREADABLE, activation
from mediaops.repo.edits import edit_command
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
    "List it in the namespace kustomization (its ks.dis renamed ks.yaml, where it has one)",
    why="Flux's cluster-apps only creates the app's Kustomization once the namespace list names ks.yaml.",
    command=Live(lambda ctx: edit_command(ctx.repo, app_of(ctx), activate=True),
                 doc="git mv {dir}/ks.dis {dir}/ks.yaml\n# and add ./{app}/ks.yaml under resources: in {ns_file}"),
    edit=True,
)
def enable_in_repository(ctx: Context) -> object:
    return activation(ctx.repo, app_of(ctx))


commit = activate.add(gitsteps.commit_step(
    "Commit the activation", why="Flux deploys what is committed, not what is in this checkout.",
    message=lambda ctx: f"feat({ctx.facts['ns']}): activate {ctx.facts['app']}", paths=shared.paths,
    after=(enable_in_repository,), doc_message="feat({ns}): activate {app}"))
push = activate.add(gitsteps.push_step(
    why="Flux's GitRepository follows the remote branch. Never forced.", after=(commit,),
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

rolled_out = activate.add(clustersteps.wait_rolled_out_step(app_of, after=(released,), when=shared.not_pushed))


def _probe(ctx: Context) -> Any:
    from mediaops.checks.probe import Probe

    return Probe(ctx.config, ctx.repo, clustersteps.kube(ctx) if ctx.has_service("cluster") else None)


@activate.step(
    "Check that Prometheus scrapes it",
    why="The app ships a ServiceMonitor; a target that is down or missing means no metrics and no alerts. "
        "Prometheus finds a new target at its next scrape, so this waits up to two minutes for `up` to be 1.",
    command=Live(lambda ctx: _scrape_query(ctx), doc="curl -s 'PROMETHEUS_URL/api/v1/query?query="
                 'up{{namespace="{ns}", service="{app}"}}\''),
    mutates=False,
)
def scraped(ctx: Context) -> str:
    import time

    from mediaops.checks import OK, prometheus_scrape

    deadline, pause, last = time.monotonic() + SCRAPE_PATIENCE, 1.0, None
    with ctx.waiting("Prometheus to scrape it") as waiting:
        while True:
            (last,) = list(prometheus_scrape.run(_probe(ctx), app_of(ctx)))[:1]
            if last.status == OK or time.monotonic() > deadline:
                break
            waiting.update(last.message)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
    if last.status != OK:
        raise CheckFailed(f"Prometheus does not scrape it: {last.message}")
    return last.message


def _scrape_query(ctx: Context) -> str:
    from urllib.parse import urlencode

    app = app_of(ctx)
    query = urlencode({"query": f'up{{namespace="{app.namespace}", service="{app.name}"}}'})
    # without the setting (a preview past a would-be change shows the step before its skip is known): the
    # placeholder the docs print, not a URL without a host
    base = str(ctx.config.get("prometheus_url") or "PROMETHEUS_URL").rstrip("/")
    return f"curl -s '{base}/api/v1/query?{query}'"


SCRAPE_PATIENCE = 120.0


@scraped.skip_when
def cannot_ask_prometheus(ctx: Context) -> str | None:
    return no_service_monitor(ctx) or shared.not_pushed(ctx) or (
        None if ctx.config.get("prometheus_url") else "prometheus_url is not set: the next step says how to look")


check_scrape = activate.manual(
    "Check by hand that Prometheus scrapes it",
    why="The app ships a ServiceMonitor; a target that is down or missing means no metrics and no alerts.",
    instructions="In Prometheus (Status > Targets) the target serviceMonitor/{ns}/{app}/0 must be UP. "
                 "From a terminal: kubectl -n observability port-forward svc/prometheus-operated 9090 and "
                 'query up{{namespace="{ns}", service="{app}"}} (1 means scraped). '
                 "With prometheus_url set, mediaops asks Prometheus itself.",
    blocking=False,
)


@check_scrape.skip_when
def asked_prometheus(ctx: Context) -> str | None:
    if ctx.config.get("prometheus_url") and app_of(ctx).service_monitors:
        return "prometheus_url is set: the step before asked Prometheus"
    return no_service_monitor(ctx)


def no_service_monitor(ctx: Context) -> str | None:
    return None if app_of(ctx).service_monitors else "the app has no ServiceMonitor"


@activate.step(
    "Check its CronJobs",
    why="A CronJob that is suspended, or whose last run failed, does nothing while everything looks Ready "
        "(plex-trakt-sync's daily sync).",
    command="kubectl get cronjobs,jobs -n {ns} -l app.kubernetes.io/name={app}",
    mutates=False, needs_cluster=True,
)
def cronjobs_fine(ctx: Context) -> str:
    from mediaops.checks import FAIL, WARN, cronjobs

    results = list(cronjobs.run(_probe(ctx), app_of(ctx)))
    bad = [r.message for r in results if r.status in (FAIL, WARN)]
    if bad:
        raise CheckFailed("; ".join(bad))
    return "; ".join(r.message for r in results) or "no CronJob of the app in the cluster"


@cronjobs_fine.skip_when
def no_cronjobs(ctx: Context) -> str | None:
    return shared.not_pushed(ctx) or (None if app_of(ctx).cronjobs else "the app has no CronJob")
