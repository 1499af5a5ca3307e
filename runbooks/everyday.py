"""The everyday ones: reconcile an app now, or restart it.

Both act on an active app found in the repository; its Flux objects and workloads are looked up in
the cluster by name and by the label ``app.kubernetes.io/name``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mediaops import clustersteps, flux, gitops, workloads
from mediaops.engine import CheckFailed, Live, Param, Runbook
from mediaops.engine.context import Context

APP = Param("app", "the app folder name under kubernetes/apps/<namespace>/", complete="app", kind="name")
NAMESPACE = Param("namespace", "the app's namespace, when its name is not unique", required=False,
                  kind="name")
RECENT = timedelta(minutes=2)


def _app(ctx: Context) -> gitops.App:
    return ctx.repo.app(ctx.params["app"], ctx.params.get("namespace"))


def _active_app(ctx: Context) -> str:
    app = _app(ctx)
    if app.state != gitops.ACTIVE:
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}, not active"
                          + (f" ({'; '.join(app.reasons)})" if app.reasons else "")
                          + ("; activate it with `mediaops run activate`" if app.state == gitops.DISABLED else ""))
    ctx.facts.update(app=app.name, ns=app.namespace, ks=", ".join(k.name for k in app.kustomizations),
                     hr=", ".join(h.name for h in app.helmreleases))
    return f"{app.namespace}/{app.name} is active"


def _not_suspended(ctx: Context) -> str:
    app = _app(ctx)
    kube = clustersteps.kube(ctx)
    for kind, items in (("Kustomization", app.kustomizations), ("HelmRelease", app.helmreleases)):
        for item in items:
            live = kube.find(kind, item.name, item.namespace)
            if live is None:
                raise CheckFailed(f"{kind} {item.namespace}/{item.name} is not in the cluster")
            if flux.FluxStatus.of(live).suspended:
                raise CheckFailed(f"{kind} {item.namespace}/{item.name} is suspended (an NFS outage maintenance?); "
                                  f"resume it first: flux resume {flux.CLI_KIND[kind]} {item.name} -n {item.namespace}")
    return "its Kustomization and HelmRelease exist and are not suspended"


# -- reconcile -----------------------------------------------------------------------------------------------
reconcile = Runbook(
    name="reconcile",
    summary="Reconcile an app now: its Kustomization with source, then its HelmRelease",
    params=[APP, NAMESPACE,
            Param("force", "reconcile even when everything is Ready at the pushed revision; the HelmRelease runs a "
                  "Helm upgrade even without a change (flux reconcile helmrelease --force)", required=False,
                  flag=True)],
    lock=lambda p: f"mediaops-reconcile-{p['app']}",
)
reconcile.check("The app exists and is active")(_active_app)
reconcile.check("Its Flux objects are in the cluster and not suspended", needs_cluster=True)(_not_suspended)


@reconcile.step(
    "Reconcile its Kustomization with source",
    why="Flux fetches the repository now and applies the app's manifests at that revision.",
    command=Live(lambda ctx: " && ".join(flux.command("Kustomization", k.name, k.namespace, with_source=True)
                                         for k in _app(ctx).kustomizations),
                 doc="flux reconcile kustomization {ks} -n {ns} --with-source"),
    needs_cluster=True,
    nothing_to_undo="a reconcile only applies what the repository says",
)
def reconcile_kustomization(ctx: Context) -> str:
    clustersteps.reconcile_source(ctx)
    app = _app(ctx)
    return "; ".join(clustersteps.reconcile(ctx, "Kustomization", k.name, k.namespace) for k in app.kustomizations)


@reconcile_kustomization.skip_when
def already_current(ctx: Context) -> str | None:
    if ctx.params.get("force"):
        return None
    app = _app(ctx)
    kube = clustersteps.kube(ctx)
    source = flux.status(kube, *clustersteps.SOURCE)
    remote = ctx.git.query("rev-parse", "@{upstream}") if ctx.git.upstream() else ctx.git.head()
    if not source.revision.endswith(remote):
        return None
    for ks in app.kustomizations:
        state = flux.status(kube, "Kustomization", ks.name, ks.namespace)
        if state.ready != "True" or not state.revision.endswith(remote):
            return None
    return f"already Ready at the pushed revision {remote[:10]}"


@reconcile.step(
    "Reconcile its HelmRelease",
    why="The HelmRelease re-checks its chart and values and upgrades when they changed.",
    command=Live(lambda ctx: " && ".join(f"flux reconcile helmrelease {h.name} -n {h.namespace}"
                                         + (" --force" if ctx.params.get("force") else "")
                                         for h in _app(ctx).helmreleases),
                 doc="flux reconcile helmrelease {hr} -n {ns} [--force]"),
    needs_cluster=True,
    nothing_to_undo="a reconcile only applies what the repository says",
)
def reconcile_release(ctx: Context) -> str:
    app, force = _app(ctx), bool(ctx.params.get("force"))
    return "; ".join(clustersteps.reconcile(ctx, "HelmRelease", h.name, h.namespace, force=force)
                     for h in app.helmreleases)


@reconcile_release.skip_when
def release_current(ctx: Context) -> str | None:
    app = _app(ctx)
    if not app.helmreleases:
        return "the app has no HelmRelease"
    if ctx.params.get("force"):
        return None
    kube = clustersteps.kube(ctx)
    if not all(flux.status(kube, "HelmRelease", h.name, h.namespace).ready == "True" for h in app.helmreleases):
        return None
    current = already_current(ctx)
    return f"{current}; its HelmRelease is Ready" if current else None


@reconcile.step(
    "Wait until its pods are ready",
    why="What users reach: every Deployment and StatefulSet of the app rolled out.",
    command=clustersteps.rollout_status_command(_app),
    mutates=False,
    needs_cluster=True,
)
def wait_reconciled(ctx: Context) -> str:
    return clustersteps.wait_pods(ctx, _app(ctx))


# -- restart -------------------------------------------------------------------------------------------------
restart = Runbook(
    name="restart",
    summary="Restart an app's pods (rollout restart) and wait until they are ready",
    params=[APP, NAMESPACE, Param("force", "restart even if it was restarted in the last two minutes",
                                  required=False, flag=True)],
    lock=lambda p: f"mediaops-restart-{p['app']}",
)
restart.check("The app exists and is active")(_active_app)


@restart.check("It has workloads in the cluster", needs_cluster=True)
def has_workloads(ctx: Context) -> str:
    found = workloads.workloads(clustersteps.kube(ctx), ctx.facts["ns"], ctx.facts["app"])
    if not found:
        raise CheckFailed(f"no Deployment or StatefulSet labelled app.kubernetes.io/name={ctx.facts['app']} "
                          f"in {ctx.facts['ns']}")
    ctx.facts["workloads"] = [f"{w['kind']}/{w['metadata']['name']}" for w in found]
    return ", ".join(ctx.facts["workloads"])


@restart.step(
    "Rollout restart its workloads",
    why="New pods, same spec: the way to pick up a changed NFS mount, Secret or config file.",
    command=Live(lambda ctx: " && ".join(workloads.rollout_command("restart", w["kind"], w["metadata"]["name"],
                                                                  _app(ctx).namespace)
                                         for w in workloads.workloads(clustersteps.kube(ctx), _app(ctx).namespace,
                                                                      _app(ctx).name)),
                 doc="kubectl rollout restart deployment/NAME -n {ns}  # each Deployment and StatefulSet of {app}"),
    needs_cluster=True,
    nothing_to_undo="the pods were replaced with the same spec",
)
def rollout_restart(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    for item in ctx.facts["workloads"]:
        kind, name = item.split("/", 1)
        workloads.restart(kube, kind, name, ctx.facts["ns"])
    return f"restarted {', '.join(ctx.facts['workloads'])}"


@rollout_restart.skip_when
def restarted_recently(ctx: Context) -> str | None:
    if ctx.params.get("force"):
        return None
    kube = clustersteps.kube(ctx)
    for item in ctx.facts["workloads"]:
        kind, name = item.split("/", 1)
        obj = kube.get(kind, name, ctx.facts["ns"])
        stamp = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
            "annotations", {}).get(workloads.RESTARTED_AT)
        if not stamp:
            return None
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if datetime.now(UTC) - when > RECENT:
            return None
    return "restarted less than two minutes ago (pass --force to restart again)"


@restart.step(
    "Wait until the rollout is complete",
    why="Restarted is not the same as running again: wait for every new pod to be ready.",
    command=clustersteps.rollout_status_command(_app),
    mutates=False,
    needs_cluster=True,
)
def wait_restarted(ctx: Context) -> str:
    return clustersteps.wait_pods(ctx, _app(ctx))
