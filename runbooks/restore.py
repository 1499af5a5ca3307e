"""Restore an app's volumes from a Velero backup, in the order that is safe.

The order operators get wrong by hand: Flux held off the app first (else it scales the app back up mid-way),
the workloads stopped with their replicas remembered, the pods gone (a claim is released only when no pod
uses it), the claims the backup holds data for deleted (Velero restores a claim's data only into a claim the
restore creates: an existing claim is skipped, and `existingResourcePolicy: update` never rolls data back),
the restore, each claim's data checked to come from the chosen backup, then everything back in the reverse
order: replicas, the HelmRelease, the Kustomization, Ready.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mediaops.cluster import flux, velero, workloads
from mediaops.engine import CheckFailed, Ops, Param, Runbook, Step
from mediaops.engine.context import Context
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

restore = Runbook(
    name="restore",
    summary="Restore an app's volumes from a Velero backup: Flux held off, stopped, restored, brought back",
    params=[appsteps.APP, appsteps.NAMESPACE,
            Param("backup", "the Velero backup to restore (default: the newest that holds every claim's data)",
                  required=False, kind="name")],
    lock=lambda p: f"mediaops-restore-{p['app']}",
    takes_down=lambda ctx: [(app_of(ctx).namespace, app_of(ctx).name)],
)
restore.check("The app exists and is active")(appsteps.active)
restore.check("Its Flux objects are in the cluster", needs_cluster=True)(appsteps.present)


@restore.check("A backup holds the data of every claim the app mounts", needs_cluster=True)
def backup_chosen(ctx: Context) -> str:
    app = app_of(ctx)
    claims = sorted({v.name for v in app.volumes} | set(app.claims))
    if not claims:
        raise CheckFailed(f"{app.name} mounts no PersistentVolumeClaim: there is no data to restore")
    candidates = velero.backups_of(clustersteps.kube(ctx), claims, app.namespace)
    wanted = ctx.params.get("backup")
    chosen = next((c for c in candidates if c[0] == wanted), None) if wanted else (candidates[0] if candidates
                                                                                    else None)
    if chosen is None:
        found = ", ".join(name for name, _ in candidates[:3]) or "none"
        raise CheckFailed((f"backup {wanted} is not a Completed backup holding the data of {', '.join(claims)}"
                           if wanted else f"no Completed Velero backup holds the data of {', '.join(claims)}")
                          + f" (those that do: {found}); `velero backup get` lists them")
    ctx.facts.setdefault("restore", f"{chosen[0]}-restore-{datetime.now(UTC).strftime('%H%M%S')}")
    ctx.facts.update(backup=chosen[0], backup_time=chosen[1], claims=claims)
    return f"{chosen[0]}, completed {chosen[1]}, holds {', '.join(claims)}"


def _flux(ctx: Context) -> list[flux.FluxObject]:
    app = app_of(ctx)
    return clustersteps.kustomizations(ctx, app) + clustersteps.helmreleases(ctx, app)


def _workloads(ctx: Context) -> list[workloads.Workload]:
    return clustersteps.app_workloads(ctx, app_of(ctx))


def _resume_ours(ctx: Context) -> None:
    """Resume what this run suspended, the HelmReleases before the Kustomizations."""
    for obj in reversed(_flux(ctx)):
        live = obj.find()
        if live is not None and flux.FluxStatus.of(live).suspended and flux.suspended_by(live) == ctx.run_id:
            flux.Resume(obj).run(ctx)


def _scale_back(ctx: Context) -> list[workloads.Scale]:
    """Back to the count each workload remembers (the restore may already have put the backup's count back)."""
    found = []
    for w in _workloads(ctx):
        kept = workloads.remembered(w.get())
        if kept is not None:
            found.append(workloads.Scale(w, kept))
    return found


hold_off = restore.add(Step(
    "Hold Flux off the app",
    why="Suspended, Flux neither scales the app back up nor re-creates a deleted claim while the data comes back.",
    ops=Ops(lambda ctx: [flux.Suspend(o, ctx.run_id, f"restoring from backup {ctx.facts['backup']}")
                         for o in _flux(ctx)],
            doc="flux suspend kustomization {ks} -n {ns}\nflux suspend helmrelease {hr} -n {ns}"),
    needs_cluster=True))
hold_off.undoer("resume what this run suspended, HelmRelease first")(_resume_ours)

stop = restore.add(Step(
    "Stop its workloads, remembering the replicas",
    why="A claim is released only when no pod uses it (kubernetes.io/pvc-protection).",
    ops=Ops(lambda ctx: [workloads.Scale(w, 0, previous=workloads.to_remember(w.get()), note=ctx.run_id)
                         for w in _workloads(ctx)],
            doc="kubectl annotate deployment/NAME -n {ns} mediaops.io/previous-replicas=N mediaops.io/scaled-by=RUN "
                "--overwrite && kubectl scale deployment/NAME -n {ns} --replicas=0  # each of {app}",
            empty="no Deployment or StatefulSet to stop"),
    needs_cluster=True, disrupts=True, after=(hold_off,)))


@stop.undoer("scale back to the remembered replicas")
def start_again(ctx: Context) -> None:
    for op in _scale_back(ctx):
        op.run(ctx)



gone = restore.add(Step(
    "Wait until its pods are gone",
    why="Deleting a claim a pod still uses leaves it Terminating until the pod goes.",
    ops=Ops(lambda ctx: [workloads.PodsGone(clustersteps.kube(ctx), app_of(ctx).namespace, app_of(ctx).name)],
            doc="kubectl wait --for=delete pod -n {ns} -l app.kubernetes.io/name={app} --timeout=5m"),
    mutates=False, needs_cluster=True, after=(stop,)))

delete = restore.add(Step(
    "Delete the claims whose data the backup holds",
    why="Velero restores a claim's data only into a claim the restore creates; an existing one keeps its data. "
        "From here the way back is forward: the restore.",
    ops=Ops(lambda ctx: [workloads.DeleteClaim(clustersteps.kube(ctx), c, app_of(ctx).namespace)
                         for c in ctx.facts["claims"]],
            doc="kubectl delete pvc CLAIM -n {ns} --wait  # each claim the backup holds data for"),
    needs_cluster=True, after=(gone,)))

restored = restore.add(Step(
    "Restore from the backup",
    why="The claims come back with the backup's data; the app's other objects are updated to the backup's, "
        "Flux's own objects left to Flux.",
    ops=Ops(lambda ctx: [velero.Restore(clustersteps.kube(ctx), ctx.facts["backup"], ctx.facts["restore"])],
            doc=velero.restore_command("{backup}", "{restore}")),
    needs_cluster=True, after=(delete,), nothing_to_undo="the data restored is the backup's; undoing it would "
                                                         "mean another restore"))


@restored.verifier("each claim's data came back from the chosen backup (a completed PodVolumeRestore of it)")
def data_from_backup(ctx: Context) -> None:
    done = velero.volume_restores(clustersteps.kube(ctx), ctx.facts["restore"])
    missing = [c for c in ctx.facts["claims"] if c not in done]
    if missing:
        raise CheckFailed(f"restore {ctx.facts['restore']} brought back no data for {', '.join(missing)}")
    ctx.facts["restored_as_of"] = ctx.facts.get("backup_time", "")


scaled = restore.add(Step(
    "Scale back to the remembered replicas",
    why="The counts the workloads had before the restore (mediaops.io/previous-replicas).",
    ops=Ops(_scale_back, doc="kubectl annotate deployment/NAME -n {ns} mediaops.io/previous-replicas- "
                             "mediaops.io/scaled-by- && kubectl scale deployment/NAME -n {ns} --replicas=N",
            empty="nothing is scaled down"),
    needs_cluster=True, after=(restored,), nothing_to_undo="this brings the app back to normal"))
resumed = restore.add(Step(
    "Resume its HelmRelease, then its Kustomization",
    why="Flux manages the app again; the release first, so the Kustomization's health checks find it running.",
    ops=Ops(lambda ctx: [flux.Resume(o) for o in reversed(_flux(ctx))
                         if (o.find() or {}).get("spec", {}).get("suspend")],
            doc="flux resume helmrelease {hr} -n {ns}\nflux resume kustomization {ks} -n {ns}",
            empty="nothing of the app is suspended"),
    needs_cluster=True, after=(scaled,), nothing_to_undo="this brings the app back to normal"))
restore.add(clustersteps.wait_kustomizations_step(
    app_of, "Wait until its Kustomization is Ready", "Ready: Flux applied the app and its health checks passed.",
    after=(resumed,)))
restore.add(clustersteps.wait_rolled_out_step(app_of, after=(resumed,)))
