"""The backup a runbook takes before it risks an app's data, with whichever system the cluster backs up with.

Velero (vmware-tanzu/velero), K8up (k8up-io/k8up) and VolSync (backube/volsync) are all common in home-ops
clusters, often one of them only. Which one takes the backup: the one asked for (``--backup-with``); else the one
whose routine backups already cover the app (a Velero Schedule including its namespace, else a K8up Schedule in
it, else a restic ReplicationSource for every one of its claims); else Velero when its storage location is
Available, else K8up when the namespace names a K8up backend, else VolSync when every claim has a source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from mediaops.cluster import k8up, velero, volsync
from mediaops.cluster.client import Kube, KubeError
from mediaops.errors import MediaopsError

SYSTEMS = ("velero", "k8up", "volsync")
# Backup systems of home-ops clusters that mediaops does not drive, named when none it drives can back an app up:
# the API group, the kind that schedules an app's backups, and the system's name. kopiur (a Kopia operator,
# home-operations): bjw-s-labs/home-ops gives each app `components/kopiur/backup` (SnapshotSchedule, SnapshotPolicy,
# a Restore its claim is populated from).
UNDRIVEN = (("kopiur.home-operations.com", "SnapshotSchedule", "kopiur"),)


class NoBackupSystem(MediaopsError):
    pass


class Choice(msgspec.Struct, frozen=True):
    """The backup system an app's claims are backed up with here, and why."""

    system: str  # "velero", "k8up" or "volsync" ("none": no system can, ``why`` says why)
    why: str
    backend: dict[str, Any] | None = None  # K8up's repository, as the namespace's Schedule names it
    sources: dict[str, str] | None = None  # VolSync: the ReplicationSource of each claim


def _velero_routine(kube: Kube, namespace: str) -> bool:
    try:
        answer = kube.request("GET", f"/apis/velero.io/v1/namespaces/{velero.server_namespace(kube)}/schedules",
                              what="schedules.velero.io", verb="list")
    except KubeError:
        return False  # not served here
    for schedule in answer.get("items") or []:
        template = (schedule.get("spec") or {}).get("template") or {}
        included = template.get("includedNamespaces") or ["*"]
        if (namespace in included or "*" in included) and namespace not in (template.get("excludedNamespaces") or []):
            return True
    return False


def _volsync_sources(kube: Kube, namespace: str, claims: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The restic ReplicationSource of each claim, when every claim has one (else none); and the claims whose
    sources use a mover mediaops does not drive (kopia, of the volsync-perfectra1n fork; rclone…), with it."""
    try:
        items, _ = kube.list(volsync.SOURCE, namespace)
    except KubeError:
        return {}, {}  # VolSync's CRDs are not installed
    found = {str((s.get("spec") or {}).get("sourcePVC") or ""): str(s["metadata"]["name"]) for s in items
             if volsync.mover(s) == "restic"}
    return ({c: found[c] for c in claims} if claims and all(c in found for c in claims) else {},
            volsync.other_movers(items, claims))


def choose(kube: Kube, namespace: str, wanted: str = "", claims: list[str] | None = None) -> Choice:
    """Which system backs up the app now (see the module's docstring); NoBackupSystem when none can."""
    location = velero.default_location(kube)
    phase = str(((location or {}).get("status") or {}).get("phase") or "")
    velero_ok = phase == "Available"
    backend = k8up.backend(kube, namespace) if k8up.serves(kube) else None
    sources, others = _volsync_sources(kube, namespace, list(claims or []))
    if wanted == "velero":
        if not velero_ok:
            where = (f"{location['metadata'].get('namespace')}/{location['metadata']['name']}" if location
                     else f"{velero.NAMESPACE}/default")
            raise NoBackupSystem(f"Velero's BackupStorageLocation {where} is {phase or 'missing'}",
                                 hint=f"`velero backup-location get{velero.in_namespace(kube)}`; or --backup-with "
                                      "k8up or volsync")
        return Choice("velero", "asked for (--backup-with velero)")
    if wanted == "k8up":
        if backend is None:
            raise NoBackupSystem(f"no K8up Schedule or Backup in {namespace} names a backend to back up to",
                                 hint="add a K8up Schedule for the namespace, or --backup-with velero")
        return Choice("k8up", "asked for (--backup-with k8up)", backend)
    if wanted == "volsync":
        if not sources:
            raise NoBackupSystem(f"not every claim of the app ({', '.join(claims or []) or 'none'}) has a restic "
                                 "ReplicationSource" + volsync.not_driven(others),
                                 hint="`kubectl get replicationsources -n " + namespace + "`")
        return Choice("volsync", "asked for (--backup-with volsync)", sources=sources)
    if velero_ok and _velero_routine(kube, namespace):
        return Choice("velero", f"a Velero Schedule includes {namespace}")
    if backend is not None and k8up.schedules(kube, namespace):
        return Choice("k8up", f"a K8up Schedule backs up {namespace}", backend)
    if sources:
        return Choice("volsync", "a VolSync ReplicationSource backs up each claim ("
                      + ", ".join(f"{c}: {s}" for c, s in sorted(sources.items())) + ")", sources=sources)
    if velero_ok:
        return Choice("velero", "Velero's storage location is Available")
    if backend is not None:
        return Choice("k8up", f"Velero's storage location is {phase or 'missing'}; K8up's backend is named in "
                              f"{namespace}", backend)
    elsewhere = undriven(kube, namespace)
    raise NoBackupSystem(f"no backup system can back up {namespace}: Velero's storage location is "
                         f"{phase or 'missing'}, no K8up Schedule or Backup in {namespace} names a backend and no "
                         "restic VolSync ReplicationSource backs up every claim" + volsync.not_driven(others)
                         + (f"; {namespace} is backed up by {elsewhere}, which mediaops does not drive" if elsewhere
                            else ""),
                         hint=("back up with it by hand before going on, or " if elsewhere else "")
                         + "install Velero, add a K8up Schedule or ReplicationSources; --backup-with picks one")


def undriven(kube: Kube, namespace: str) -> str:
    """The backups of ``namespace`` that systems mediaops does not drive schedule (``UNDRIVEN``), as one phrase:
    "kopiur (SnapshotSchedule bazarr, radarr)"; "" when there are none, or the API serves none of those kinds."""
    from mediaops.cluster import kinds

    found = []
    for group, kind_name, system in UNDRIVEN:
        try:  # the version the API prefers, as kubectl's discovery takes it
            served = kube.request("GET", f"/apis/{group}", what=group, verb="get")
            version = str((served.get("preferredVersion") or {}).get("version") or "")
            if not version:
                continue
            kinds.register(f"{group}/{version}", kind_name)
            items, _ = kube.list(f"{group}/{kind_name}", namespace)  # not another group's kind of that name
        except KubeError:
            continue
        names = sorted(str((i.get("metadata") or {}).get("name")) for i in items)
        if names:
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            found.append(f"{system} ({kind_name} {shown})")
    return ", ".join(found)


def k8up_skipped(kube: Kube, namespace: str, claims: list[str]) -> list[str]:
    """The claims a K8up Backup of the namespace would leave out, each with why."""
    found = []
    for claim in claims:
        obj = kube.find("PersistentVolumeClaim", claim, namespace)
        why = "it does not exist" if obj is None else k8up.skips(obj)
        if why:
            found.append(f"{claim} ({why})")
    return found


class Unavailable(msgspec.Struct, frozen=True):
    """The backup when no system can take it (``Choice.system`` "none", ``why`` the reason): shown as such in the
    preview and the prompt, and failing with that reason when run, rather than trying a system that is not there."""

    reason: str

    def render(self) -> str:
        return f"# the backup cannot be taken: {self.reason}"

    def run(self, ctx: Any) -> str:
        raise NoBackupSystem(self.reason)


BackupOperation = velero.Backup | k8up.Backup | volsync.Sync | Unavailable


def operations(kube: Kube, choice: Choice, *, name: str, namespace: str, selector: str = "", ttl: str = "720h",
               volumes: bool = True, accept_partial: bool = False,
               run_id: str = "") -> list[BackupOperation]:
    """The backup as operations of the chosen system: one Velero or K8up backup (K8up backs up every claim of
    the namespace it may), or a manual sync of each claim's ReplicationSource (the trigger: the backup's name);
    with no system ("none"), the backup that cannot be taken."""
    if choice.system == "none":
        return [Unavailable(choice.why)]
    if choice.system == "k8up":
        return [k8up.Backup(kube, namespace, name, dict(choice.backend or {}), run_id=run_id)]
    if choice.system == "volsync":
        return [volsync.Sync(kube, namespace, source, name) for _, source in sorted((choice.sources or {}).items())]
    return [velero.Backup(kube, name, namespace, selector=selector, ttl=ttl, volumes=volumes,
                          accept_partial=accept_partial, run_id=run_id)]


def _time(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def held(kube: Kube, system: str, name: str, namespace: str, claims: list[str]) -> dict[str, str]:
    """The claims whose data the backup holds: Velero, each completed PodVolumeBackup (by claim: the backup's
    name); K8up, each claim's newest Snapshot taken since the Backup was made (by claim: the snapshot ID);
    VolSync, each claim whose ReplicationSource synchronized the backup's trigger (by claim: the sync's time)."""
    if system == "volsync":
        found = {}
        for claim, source in volsync.sources_of(kube, namespace, claims).items():
            if (source.get("status") or {}).get("lastManualSync") == name:
                found[claim] = volsync.last_sync(source)
        return found
    if system != "k8up":
        return {claim: name for claim in velero.volume_backups(kube, name)}
    backup = kube.find("k8up.io/Backup", name, namespace)
    since = _time(str(((backup or {}).get("metadata") or {}).get("creationTimestamp") or ""))
    found = {}
    for claim, snap in k8up.snapshots_of(kube, namespace, claims).items():
        taken = _time(str((snap.get("spec") or {}).get("date") or ""))
        if since is not None and taken is not None and taken >= since:
            found[claim] = str(snap["spec"]["id"])
    return found


def restore_into_claims(kube: Kube, *, namespace: str, name: str, snapshots: dict[str, str],
                        backend: dict[str, Any]) -> list[k8up.Restore]:
    """K8up Restores of each claim's snapshot into the claim (they overwrite its files)."""
    return [k8up.Restore(kube, namespace, f"{name}-{claim}"[:63], snapshot, claim, backend)
            for claim, snapshot in sorted(snapshots.items())]
