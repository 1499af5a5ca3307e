"""Restore an app's volumes from a backup (Velero, K8up snapshots or VolSync), in the order that is safe.

The order operators get wrong by hand: Flux held off the app first (else it scales the app back up mid-way),
the workloads stopped with their replicas remembered, the pods gone (a claim is released only when no pod
uses it), the claims the backup holds data for deleted (Velero restores a claim's data only into a claim the
restore creates: an existing claim is skipped, and `existingResourcePolicy: update` never rolls data back;
K8up and VolSync write into the existing claims), the restore, each claim's data checked to come from the chosen
backup, then everything back in the reverse order: replicas, the HelmRelease, the Kustomization, Ready.

From VolSync the restore is the one home-ops repositories script (onedr0p/home-ops
.taskfiles/volsync/Taskfile.yaml `restore`, 8b9a2240317d0f23d9effeef085e9a0c651bd5db): a one-off
ReplicationDestination per claim, restoring the claim's ReplicationSource's restic snapshot into the claim
(`destinationPVC`, `copyMethod: Direct`, `enableFileDeletion`), run once by its manual trigger and waited for
until `status.lastManualSync` is that trigger, then deleted (mediaops/cluster/volsync.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mediaops.cluster import backups, flux, k8up, velero, volsync, workloads
from mediaops.cluster.client import KubeError
from mediaops.engine import CheckFailed, Ops, Param, Runbook, Step
from mediaops.engine.context import Context
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

restore = Runbook(
    name="restore",
    summary="Restore an app's volumes from a backup (Velero, K8up or VolSync): Flux held off, stopped, restored, "
            "brought back",
    params=[appsteps.APP, appsteps.NAMESPACE,
            Param("backup", "the Velero backup (or K8up snapshot ID; or volsync, or a VolSync ReplicationSource's "
                  "name, for the snapshot of its last sync) to restore (default: the newest that holds every claim's "
                  "data)",
                  required=False, kind="name")],
    lock=lambda p: f"mediaops-restore-{p['app']}",
    takes_down=lambda ctx: [(app_of(ctx).namespace, app_of(ctx).name)],
)
restore.check("The app exists and is active")(appsteps.active)
restore.check("Its Flux objects are in the cluster", needs_cluster=True)(appsteps.present)


def _when(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


@restore.check("A backup holds the data of every claim the app mounts", needs_cluster=True)
def backup_chosen(ctx: Context) -> str:
    """The newest backup holding every claim's data, from whichever system made it: a Velero backup (its
    PodVolumeBackups), K8up snapshots of each claim's folder, or VolSync: a restic ReplicationSource of each claim
    that synced successfully (finished at its `status.lastSyncTime`; the restore takes the snapshot of that sync,
    `restoreAsOf`). --backup names a Velero backup; for an app with one claim, a K8up snapshot ID (a prefix will
    do, as restic takes it); `volsync`, or the name of one of the app's ReplicationSources, for VolSync."""
    app, kube = app_of(ctx), clustersteps.kube(ctx)
    claims = sorted({v.name for v in app.volumes} | set(app.claims))
    if not claims:
        raise CheckFailed(f"{app.name} mounts no PersistentVolumeClaim: there is no data to restore")
    if ctx.facts.get("backup") and ctx.facts.get("system") and ctx.facts.get("claims") == claims:
        # A resumed run restores what it chose when it began: a backup made since (a schedule that ran meanwhile)
        # may hold the very data being replaced.
        return (f"{ctx.facts['backup']}, finished {ctx.facts.get('backup_time', '')}, as chosen when the run "
                "began")
    # (name, finished at, system, by claim: the K8up snapshot ID or the VolSync ReplicationSource)
    candidates: list[tuple[str, str, str, dict[str, str]]] = [
        (name, when, "velero", {}) for name, when in velero.backups_of(kube, claims, app.namespace)]
    snaps = k8up.snapshots_of(kube, app.namespace, claims)
    if snaps and len(snaps) == len(claims):
        ids = {claim: str(s["spec"]["id"]) for claim, s in snaps.items()}
        oldest = min(str(s["spec"].get("date", "")) for s in snaps.values())
        candidates.append((f"k8up snapshot {' '.join(i[:8] for i in ids.values())}", oldest, "k8up", ids))
    sources = volsync.sources_of(kube, app.namespace, claims)
    if sources and len(sources) == len(claims):
        names = {claim: str(s["metadata"]["name"]) for claim, s in sources.items()}
        oldest = min(volsync.last_sync(s) for s in sources.values())
        candidates.append((f"volsync {' '.join(sorted(set(names.values())))}", oldest, "volsync", names))
    candidates.sort(key=lambda c: _when(c[1]), reverse=True)
    wanted = str(ctx.params.get("backup") or "")

    def named(candidate: tuple[str, str, str, dict[str, str]]) -> bool:
        name, _, system, by_claim = candidate
        if system == "k8up":
            return name == wanted or (len(by_claim) == 1 and next(iter(by_claim.values())).startswith(wanted))
        if system == "volsync":
            return wanted in ("volsync", name) or wanted in by_claim.values()
        return name == wanted

    chosen = next((c for c in candidates if named(c)), None) if wanted else (candidates[0] if candidates else None)
    if chosen is None:
        found = ", ".join(c[0] for c in candidates[:3]) or "none"
        try:
            others = volsync.not_driven(volsync.other_movers(kube.list(volsync.SOURCE, app.namespace)[0], claims))
        except KubeError:
            others = ""  # VolSync is not installed
        elsewhere = backups.undriven(kube, app.namespace)
        if elsewhere:
            others += f"; {app.namespace} is backed up by {elsewhere}, which mediaops does not drive: restore with " \
                      "it by hand"
        raise CheckFailed((f"backup {wanted} is not a finished backup holding the data of {', '.join(claims)}"
                           if wanted else f"no Completed Velero backup nor K8up snapshot holds the data of "
                                          f"{', '.join(claims)}, nor did a VolSync ReplicationSource sync it")
                          + f" (those that do: {found}); `velero backup get{velero.in_namespace(kube)}`, "
                            f"`kubectl get snapshots.k8up.io -n "
                            f"{app.namespace}`, `kubectl get replicationsources -n {app.namespace}` list them"
                          + others)
    name, when, system, ids = chosen
    stamp = datetime.now(UTC).strftime("%H%M%S")
    if system == "k8up":
        found_backend = k8up.backend(kube, app.namespace)
        if found_backend is None:
            raise CheckFailed(f"no K8up Schedule or Backup in {app.namespace} names the repository to restore from")
        ctx.facts.update(snapshots=ids, k8up_backend=found_backend)
        ctx.facts.setdefault("restore", f"{app.name}-restore-{stamp}")
    elif system == "volsync":
        if ctx.facts.get("system") == "volsync" and ctx.facts.get("volsync") and ctx.facts.get("backup") == name:
            # A resumed run keeps the syncs it chose: a scheduled sync since may have backed up the broken data.
            when = str(ctx.facts.get("backup_time") or when)
        else:
            # By claim: its ReplicationSource, the time of its last sync (the snapshot restored, restoreAsOf) and
            # its restic settings.
            ctx.facts["volsync"] = {claim: {"source": ids[claim], "as_of": volsync.last_sync(source),
                                            "settings": volsync.restic_settings(source)}
                                    for claim, source in sorted(sources.items())}
        # The manual trigger: this run's own value, kept (a resumed run waits for it, never triggers again).
        ctx.facts.setdefault("restore", f"{app.name}-restore-{stamp}")
        ctx.facts.setdefault("volsync_trigger", f"mediaops-{ctx.run_id or ctx.facts['restore']}")
    else:
        ctx.facts.setdefault("restore", f"{name}-restore-{stamp}")
    ctx.facts.update(backup=name, backup_time=when, claims=claims, system=system)
    return f"{name}, finished {when}, holds {', '.join(claims)}"


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
    why="Deleting a claim a pod still uses leaves it Terminating until the pod goes; K8up and VolSync write into "
        "the claim, which no running app may hold meanwhile.",
    ops=Ops(lambda ctx: [workloads.PodsGone(clustersteps.kube(ctx), app_of(ctx).namespace, app_of(ctx).name)],
            doc="kubectl wait --for=delete pod -n {ns} -l app.kubernetes.io/name={app} --timeout=5m"),
    mutates=False, needs_cluster=True, after=(stop,)))


def _into_existing_claims(ctx: Context) -> str | None:
    """Why no claim is deleted: K8up and VolSync restore into the claims as they are."""
    if ctx.facts.get("system") == "k8up":
        return "K8up restores into the existing claims"
    if ctx.facts.get("system") == "volsync":
        return "VolSync restores into the existing claims (restic.destinationPVC)"
    return None


delete = restore.add(Step(
    "Delete the claims whose data the backup holds",
    why="Velero restores a claim's data only into a claim the restore creates; an existing one keeps its data. "
        "From here the way back is forward: the restore.",
    # None for K8up and VolSync, even when the operator is asked to run it anyway (after a skipped wait).
    ops=Ops(lambda ctx: [] if _into_existing_claims(ctx) else [
        workloads.DeleteClaim(clustersteps.kube(ctx), c, app_of(ctx).namespace) for c in ctx.facts["claims"]],
            doc="kubectl delete pvc CLAIM -n {ns} --wait  # each claim the backup holds data for",
            empty="no claim to delete: the restore writes into the existing claims"),
    needs_cluster=True, after=(gone,), skip_if=_into_existing_claims,
    no_way_back="the claims and their data are gone: resuming Flux now would make them again, empty; only the "
                "restore brings the data back"))

restored = restore.add(Step(
    "Restore from the backup",
    why="The claims come back with the backup's data (from Velero, the app's other objects are updated to the "
        "backup's too, Flux's own objects left to Flux; K8up and VolSync write the files into the existing claims).",
    ops=Ops(lambda ctx: _restores(ctx), doc=velero.restore_command("{backup}", "{restore}")
            + "  # a Velero backup; from K8up snapshots: a k8up.io Restore per claim; from VolSync: a one-off "
              "ReplicationDestination per claim (destinationPVC the claim, restoreAsOf its last sync), applied, "
              "then kubectl wait --for=jsonpath='{{.status.lastManualSync}}'=TRIGGER"),
    needs_cluster=True, after=(delete,)))


def _restores(ctx: Context) -> Sequence[velero.Restore | k8up.Restore | volsync.Restore]:
    kube, namespace = clustersteps.kube(ctx), app_of(ctx).namespace
    if ctx.facts.get("system") == "k8up":
        return backups.restore_into_claims(kube, namespace=namespace, name=ctx.facts["restore"],
                                           snapshots=ctx.facts["snapshots"], backend=ctx.facts["k8up_backend"])
    if ctx.facts.get("system") == "volsync":
        return [volsync.Restore(kube, namespace, _destination(ctx, claim), held["source"], claim,
                                ctx.facts["volsync_trigger"], held["settings"], held["as_of"])
                for claim, held in sorted(ctx.facts["volsync"].items())]
    return [velero.Restore(kube, ctx.facts["backup"], ctx.facts["restore"])]


def _destination(ctx: Context, claim: str) -> str:
    """The one-off ReplicationDestination restoring a claim: named after its ReplicationSource, as the Taskfile's
    ``${APP}-manual`` is."""
    return f"{ctx.facts['volsync'][claim]['source']}-restore"[:63]


def _our_destinations(ctx: Context) -> list[volsync.DeleteDestination]:
    """The one-off ReplicationDestinations of this run still there (mediaops's, carrying this run's trigger)."""
    if ctx.facts.get("system") != "volsync":
        return []
    kube, namespace = clustersteps.kube(ctx), app_of(ctx).namespace
    found = []
    for claim in sorted(ctx.facts["volsync"]):
        live = kube.find(volsync.DESTINATION, _destination(ctx, claim), namespace)
        if live is not None and volsync.ours(live) and ((live.get("spec") or {}).get("trigger") or {}).get(
                "manual") == ctx.facts["volsync_trigger"]:
            found.append(volsync.DeleteDestination(kube, namespace, live["metadata"]["name"]))
    return found


@restored.undoer("nothing of the data: it is the backup's (undoing that would mean another restore); a VolSync "
                 "restore's one-off ReplicationDestinations are deleted")
def drop_destinations(ctx: Context) -> None:
    for op in _our_destinations(ctx):
        op.run(ctx)


@restored.verifier("each claim's data came back from the chosen backup (Velero: a completed PodVolumeRestore of "
                   "it; K8up: its Restore of that snapshot Completed Succeeded; VolSync: its ReplicationDestination's "
                   "lastManualSync is the run's trigger, its mover Successful, with a snapshot to restore)")
def data_from_backup(ctx: Context) -> None:
    if ctx.facts.get("system") == "k8up":
        ctx.facts["restored_as_of"] = ctx.facts.get("backup_time", "")
        return  # each Restore's wait failed unless Completed with reason Succeeded
    if ctx.facts.get("system") == "volsync":
        kube, namespace = clustersteps.kube(ctx), app_of(ctx).namespace
        for claim in sorted(ctx.facts["volsync"]):
            name = _destination(ctx, claim)
            verdict = volsync.outcome(kube.find(volsync.DESTINATION, name, namespace), ctx.facts["volsync_trigger"])
            if not verdict.done:
                raise CheckFailed(verdict.failed or f"ReplicationDestination {name} has not synced trigger "
                                                    f"{ctx.facts['volsync_trigger']}: {verdict.status}")
        ctx.facts["restored_as_of"] = ctx.facts.get("backup_time", "")
        return
    done = velero.volume_restores(clustersteps.kube(ctx), ctx.facts["restore"])
    missing = [c for c in ctx.facts["claims"] if c not in done]
    if missing:
        raise CheckFailed(f"restore {ctx.facts['restore']} brought back no data for {', '.join(missing)}")
    ctx.facts["restored_as_of"] = ctx.facts.get("backup_time", "")


restore.add(Step(
    "Delete the one-off ReplicationDestinations",
    why="Once done, a VolSync restore's ReplicationDestination still points at the claim: another trigger would "
        "write the old snapshot over it again (home-ops restore scripts delete it too). VolSync removes what it "
        "made for it.",
    ops=Ops(_our_destinations, doc="kubectl delete replicationdestination NAME -n {ns} --wait  # each one-off "
                                   "ReplicationDestination of a VolSync restore",
            empty="no one-off ReplicationDestination of this run is left"),
    needs_cluster=True, after=(restored,), skip_if=lambda ctx: None if ctx.facts.get("system") == "volsync"
    else "only a VolSync restore makes them", nothing_to_undo="the restore is done; it only pointed VolSync at "
                                                              "the claim"))


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
