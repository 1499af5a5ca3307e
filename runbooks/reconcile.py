"""Reconcile an app now: what an operator does after a push, instead of waiting for Flux's interval.

Acts on an active app found in the repository; its Kustomizations and HelmReleases are those the repository
declares, looked up in the cluster by name.
"""

from __future__ import annotations

from mediaops.cluster import flux
from mediaops.engine import Ops, Param, Runbook, Step
from mediaops.engine.context import Context
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

REAPPLIES = "a reconcile only applies what the repository says"

reconcile = Runbook(
    name="reconcile",
    summary="Reconcile an app now: its Kustomization with source, then its HelmRelease",
    params=[appsteps.APP, appsteps.NAMESPACE,
            Param("force", "reconcile even when everything is Ready at the pushed revision; the HelmRelease runs a "
                  "Helm upgrade even without a change (flux reconcile helmrelease --force)", required=False,
                  flag=True)],
    lock=lambda p: f"mediaops-reconcile-{p['app']}",
)
reconcile.check("The app exists and is active")(appsteps.active)
reconcile.check("Its Flux objects are in the cluster and not suspended", needs_cluster=True)(appsteps.not_suspended)


def already_current(ctx: Context) -> str | None:
    """The source and the app's Kustomizations are Ready at the revision the remote branch has. What it found
    before the first step is kept (``current_before``): the HelmRelease step needs it."""
    reason = _current(ctx)
    ctx.facts.setdefault("current_before", reason is not None)
    return reason


def _current(ctx: Context) -> str | None:
    if ctx.params.get("force"):
        return None
    remote = ctx.git.query("rev-parse", "@{upstream}") if ctx.git.upstream() else ctx.git.head()
    if not clustersteps.source(ctx).status().revision.endswith(remote):
        return None
    for ks in clustersteps.kustomizations(ctx, app_of(ctx)):
        if not ks.current() or not ks.status().revision.endswith(remote):
            return None
    return f"already Ready at the pushed revision {remote[:10]}"


def release_current(ctx: Context) -> str | None:
    """Nothing new for the HelmRelease: the app was current before this run (the first step had nothing to
    apply) and its HelmRelease is Ready for its current spec. After an apply it always reconciles: values from a
    ConfigMap (valuesFrom) change without changing the HelmRelease, which helm-controller would only notice at
    its next interval."""
    releases = clustersteps.helmreleases(ctx, app_of(ctx))
    if not releases:
        return "the app has no HelmRelease"
    if ctx.params.get("force") or not ctx.facts.get("current_before") or not all(r.current() for r in releases):
        return None
    return f"{_current(ctx)}; its HelmRelease is Ready"


kustomizations = reconcile.add(Step(
    "Reconcile its Kustomization with source",
    why="Flux fetches the repository now and applies the app's manifests at that revision.",
    ops=Ops(lambda ctx: [flux.Reconcile(k, with_source=True) for k in clustersteps.kustomizations(ctx, app_of(ctx))],
            doc="flux reconcile kustomization {ks} -n {ns} --with-source"),
    needs_cluster=True, when=already_current, nothing_to_undo=REAPPLIES))
releases = reconcile.add(Step(
    "Reconcile its HelmRelease",
    why="The HelmRelease re-checks its chart and values and upgrades when they changed.",
    ops=Ops(lambda ctx: [flux.Reconcile(h, force=bool(ctx.params.get("force")))
                         for h in clustersteps.helmreleases(ctx, app_of(ctx))],
            doc="flux reconcile helmrelease {hr} -n {ns} [--force]"),
    needs_cluster=True, when=release_current, nothing_to_undo=REAPPLIES))
reconcile.add(clustersteps.wait_rolled_out_step(app_of))
