"""Restart an app: new pods with the same spec, to pick up a changed NFS mount, Secret or config file.

Acts on an active app found in the repository; its workloads are the Deployments and StatefulSets labelled
``app.kubernetes.io/name`` with its name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mediaops.cluster import workloads
from mediaops.engine import CheckFailed, Param, Runbook
from mediaops.engine.context import Context
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

RECENT = timedelta(minutes=2)

restart = Runbook(
    name="restart",
    summary="Restart an app's pods (rollout restart) and wait until they are ready",
    params=[appsteps.APP, appsteps.NAMESPACE,
            Param("force", "restart even if it was restarted in the last two minutes", required=False, flag=True)],
    lock=lambda p: f"mediaops-restart-{p['app']}",
)
restart.check("The app exists and is active")(appsteps.active)


@restart.check("It has workloads in the cluster", needs_cluster=True)
def has_workloads(ctx: Context) -> str:
    found = clustersteps.app_workloads(ctx, app_of(ctx))
    if not found:
        raise CheckFailed(f"no Deployment or StatefulSet labelled {workloads.APP_LABEL}={ctx.facts['app']} "
                          f"in {ctx.facts['ns']}")
    return ", ".join(f"{w.kind}/{w.name}" for w in found)


def restarted_recently(ctx: Context) -> str | None:
    """Every workload was restarted less than two minutes ago (a repeated run), unless --force."""
    if ctx.params.get("force"):
        return None
    for workload in clustersteps.app_workloads(ctx, app_of(ctx)):
        template = (workload.get().get("spec") or {}).get("template") or {}
        stamp = ((template.get("metadata") or {}).get("annotations") or {}).get(workloads.RESTARTED_AT)
        if not stamp:
            return None
        if datetime.now(UTC) - datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) > RECENT:
            return None
    return "restarted less than two minutes ago (pass --force to restart again)"


restart.add(clustersteps.rollout_restart_step(app_of, when=restarted_recently))
restart.add(clustersteps.wait_rolled_out_step(
    app_of, "Wait until the rollout is complete",
    "Restarted is not the same as running again: wait for every new pod to be ready."))
