"""Is there a recent backup of every claim of the app, whichever way the cluster makes them?

Each of the app's claims must be held by a backup younger than the RPO (`backup_rpo_hours`, 24 by default, the
seed's): a backup of the namespace (Velero, K8up) holds all of them, the others one claim each. The app's line
is its worst claim's (with how many of its claims are ok when they differ). Looked for, where their CRDs are
installed (a CRD that is not there means that system is not installed, never an error):

- Velero `Backup`s (velero.io/v1, pkg/apis/velero/v1/backup_types.go) whose namespaces include the app's,
  Completed (PartiallyFailed warns), by `status.completionTimestamp`; a Velero backup holds a claim's data only
  through a PodVolumeBackup (file-system backup) of it, so the result says which claims it holds;
- K8up `Backup`s in the namespace (k8up.io/v1; `status.conditions` Completed, reason Succeeded) and its
  `Schedule`s;
- VolSync `ReplicationSource`s of the app's claims (volsync.backube/v1alpha1, `status.lastSyncTime`);
- kopiur `Snapshot`s in the namespace (kopiur.home-operations.com/v1alpha1, home-operations/kopiur
  crates/api/src/snapshot.rs): each holds the claims its run backed up (`status.resolved.sources[].pvc`,
  `namespace/name`, or `spec.source.target.pvc` for a selector's expansion), when `status.phase` is Succeeded
  (or Unchanged, the claim identical to its last snapshot, once a Succeeded one exists), dated by
  `status.timing.startTime`, kopia's start (else `endTime`; a run that stages a CSI copy first took it minutes
  before); one with `status.stats.filesFailed` above 0 is incomplete (warns); a Failed run newer than the last
  success is named; one being deleted, or discovered in the repository (no resolved claim), is not counted;
- CSI `VolumeSnapshot`s of a claim in its namespace (snapshot.storage.k8s.io/v1, kubernetes-csi/external-snapshotter
  client/apis/volumesnapshot/v1/types.go): `spec.source.persistentVolumeClaimName` names the claim, only
  `status.readyToUse: true` counts, by `status.creationTime` (the storage system's point in time);
- Longhorn, for a claim whose StorageClass's provisioner is `driver.longhorn.io` (longhorn.io/v1beta2,
  longhorn/longhorn-manager): the `RecurringJob`s that select its volume. A job selects a volume labelled
  `recurring-job.longhorn.io/JOB: enabled`, or `recurring-job-group.longhorn.io/GROUP: enabled` for a group in
  the job's `spec.groups`; a volume with no recurring-job label at all is in the `default` group. The labels are
  the Longhorn `Volume`'s (named as the claim's `spec.volumeName`, or whose `status.kubernetesStatus` names the
  claim); a claim labelled `recurring-job.longhorn.io/source: enabled` gives the volume its own recurring-job
  labels; a volume not found yet has its StorageClass's `recurringJobSelector`. A `backup` (or
  `backup-force-create`) job makes Longhorn `Backup`s, labelled `backup-volume: VOLUME`: the newest Completed
  one's `status.snapshotCreatedAt` (else `backupCreatedAt`) is held to the RPO like any backup; while there is
  none the job is only scheduled and its age unknown, which warns. A `snapshot` (or `snapshot-force-create`) job
  keeps its snapshots on the volume's own disks: it warns, "snapshot only, not off-cluster".

Older than the RPO, or none, fails; no backup system installed at all is unknown.

By hand: `velero backup get`, `kubectl get backups.k8up.io,schedules.k8up.io -n NS`,
`kubectl get replicationsources -n NS`, `kubectl get snapshots.kopiur.home-operations.com -n NS`,
`kubectl get volumesnapshots -n NS`,
`kubectl get recurringjobs.longhorn.io,backups.longhorn.io -n longhorn-system`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from mediaops.checks import FAIL, OK, ORDER, UNKNOWN, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App

VELERO_COMMAND = "velero backup get"
SNAPSHOTS = "snapshot.storage.k8s.io/v1"
KOPIUR = "kopiur.home-operations.com/v1alpha1"
LONGHORN = "longhorn.io/v1beta2"
# longhorn/longhorn-manager (5ddaa369fa7e3b0da9ee9fd42dbec24e25f793f6) types/types.go: LonghornDriverName, the
# recurring-job label keys (LonghornLabelRecurringJobKeyPrefixFmt "recurring-%s.longhorn.io" with "job" and
# "job-group", GetRecurringJobLabelKey, GetRecurringJobSourceLabelKey, IsRecurringJobLabel), the value they are
# selected by (LonghornLabelValueEnabled) and the Backup's volume label (LonghornLabelBackupVolume).
LONGHORN_DRIVER = "driver.longhorn.io"
JOB_LABEL, GROUP_LABEL = "recurring-job.longhorn.io/", "recurring-job-group.longhorn.io/"
SOURCE_LABEL = "recurring-job.longhorn.io/source"
ENABLED = "enabled"
BACKUP_VOLUME = "backup-volume"
# k8s/pkg/apis/longhorn/v1beta2/recurringjob.go RecurringJobType: the tasks that copy a volume's data ("backup":
# "periodically create snapshots then do backups"), and RecurringJobGroupDefault.
BACKUP_TASKS, SNAPSHOT_TASKS = ("backup", "backup-force-create"), ("snapshot", "snapshot-force-create")
DEFAULT_GROUP = "default"


def _when(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # a stamp without an offset: UTC, as Kubernetes'


def _covers(spec: dict[str, Any], namespace: str) -> bool:
    included = spec.get("includedNamespaces") or ["*"]
    return (namespace in included or "*" in included) and namespace not in (spec.get("excludedNamespaces") or [])


class Copy(msgspec.Struct, frozen=True, order=True):
    """A finished backup (or snapshot) holding a claim's data: when, what, its phase, whether it is whole."""

    when: datetime
    what: str
    phase: str
    complete: bool = True  # False: PartiallyFailed (warns)
    command: str = VELERO_COMMAND
    server: str = ""  # a Velero backup's namespace, where its server runs


class Longhorn(msgspec.Struct):
    """What Longhorn does for one claim: its volume, the recurring jobs that select it, its Backups."""

    volume: str  # the Longhorn volume's name ("" while unknown)
    labels: dict[str, str]  # the recurring-job labels that select it
    origin: str  # where they are read from
    backup_jobs: list[tuple[dict[str, Any], str]] = msgspec.field(default_factory=list)  # (job, the label that selects)
    snapshot_jobs: list[tuple[dict[str, Any], str]] = msgspec.field(default_factory=list)
    backups: list[Copy] = msgspec.field(default_factory=list)
    namespace: str = ""  # Longhorn's (its objects')


class Finding(msgspec.Struct, frozen=True):
    """What the backup check says of one claim: its status, line, command to look by hand and newest copy's age."""

    status: str
    line: str
    command: str
    age: float  # hours; the newest copy's, infinite when there is none


def _wide(probe: Probe, app: App) -> tuple[list[Copy], set[str]]:
    """Backups of the app's namespace (Velero, K8up), and which backup systems are installed."""
    found: list[Copy] = []
    installed: set[str] = set()
    if probe.serves("velero.io/v1"):
        installed.add("velero")
        for backup in probe.all_of("Backup"):
            status = backup.get("status") or {}
            when = _when(status.get("completionTimestamp"))
            if when and _covers(backup.get("spec") or {}, app.namespace) and status.get("phase") in (
                    "Completed", "PartiallyFailed"):
                server = str(backup["metadata"].get("namespace") or "")
                found.append(Copy(when, f"velero backup {backup['metadata']['name']}", str(status["phase"]),
                                  status["phase"] == "Completed", _velero_get(server), server))
    if probe.serves("k8up.io/v1"):
        installed.add("k8up")
        for backup in probe.custom("k8up.io/v1", "backups", app.namespace):
            done = next((c for c in (backup.get("status") or {}).get("conditions") or []
                         if c.get("type") == "Completed" and c.get("status") == "True"), None)
            when = _when((done or {}).get("lastTransitionTime"))
            if done and when:
                whole = done.get("reason") == "Succeeded"
                found.append(Copy(when, f"k8up backup {backup['metadata']['name']}",
                                  "Completed" if whole else "PartiallyFailed", whole, _k8up_get(app.namespace)))
    return found, installed


def _per_claim(probe: Probe, app: App, claims: list[str]) -> tuple[dict[str, list[Copy]], dict[str, list[str]]]:
    """Copies of single claims (VolSync, VolumeSnapshots), and notes on the ones that do not count."""
    found: dict[str, list[Copy]] = {c: [] for c in claims}
    notes: dict[str, list[str]] = {c: [] for c in claims}
    if probe.serves("volsync.backube/v1alpha1"):
        for source in probe.custom("volsync.backube/v1alpha1", "replicationsources", app.namespace):
            when = _when((source.get("status") or {}).get("lastSyncTime"))
            claim = (source.get("spec") or {}).get("sourcePVC")
            if when and claim in found:
                found[claim].append(Copy(when, f"volsync replicationsource {source['metadata']['name']}",
                                         "Completed", True, _volsync_get(app.namespace)))
    if probe.serves(KOPIUR):
        _kopiur(probe, app, found, notes)
    if probe.serves(SNAPSHOTS):
        # external-snapshotter (afb2f0d85e00e40cda621549d56fda11ccd3558b) client/apis/volumesnapshot/v1/types.go:
        # spec.source.persistentVolumeClaimName is a claim "in the same namespace as the VolumeSnapshot";
        # status.readyToUse "indicates if the snapshot is ready to be used to restore a volume" (absent: unknown);
        # status.creationTime is "when the point-in-time snapshot is taken by the underlying storage system"
        # (absent: unknown, so it cannot be held to the RPO).
        command = f"kubectl get volumesnapshots -n {app.namespace}"
        for snapshot in probe.custom(SNAPSHOTS, "volumesnapshots", app.namespace):
            claim = ((snapshot.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")
            if claim not in found:
                continue
            status, name = snapshot.get("status") or {}, snapshot["metadata"]["name"]
            when = _when(status.get("creationTime"))
            if status.get("readyToUse") is not True:
                notes[claim].append(f"volumesnapshot {name} is not readyToUse")
            elif when is None:
                notes[claim].append(f"volumesnapshot {name} has no creationTime")
            else:
                found[claim].append(Copy(when, f"volumesnapshot {name} of {claim}", "readyToUse", True, command))
    return found, notes


def _kopiur(probe: Probe, app: App, found: dict[str, list[Copy]], notes: dict[str, list[str]]) -> None:
    """kopiur's Snapshots of the app's claims (crates/api/src/snapshot.rs: SnapshotSpec.source.target.pvc, and
    SnapshotStatus phase, timing, stats, resolved.sources). A Succeeded run holds each claim it backed up; an
    Unchanged one (the claim byte-identical to the last snapshot, `ignoreIdenticalSnapshots`) is a success whose
    data the previous snapshot holds, so it counts once a Succeeded one of the claim exists; a Failed run newer
    than the claim's last success is named. A Snapshot being deleted holds nothing."""
    command = _kopiur_get(app.namespace)
    runs: dict[str, list[tuple[str, datetime | None, str, int]]] = {claim: [] for claim in found}
    for snapshot in probe.custom(KOPIUR, "snapshots", app.namespace):
        meta, spec, status = snapshot.get("metadata") or {}, snapshot.get("spec") or {}, snapshot.get("status") or {}
        if meta.get("deletionTimestamp") or not isinstance(status, dict):
            continue
        held = set()
        for source in (status.get("resolved") or {}).get("sources") or []:
            namespace, _, claim = (str(source.get("pvc") or "") if isinstance(source, dict) else "").partition("/")
            if namespace == app.namespace:
                held.add(claim)
        target = ((spec.get("source") or {}).get("target") or {}).get("pvc") or {} if isinstance(spec, dict) else {}
        if isinstance(target, dict) and target.get("namespace") == app.namespace:
            held.add(str(target.get("name") or ""))  # a pvcSelector's expansion: resolved names no claim then
        timing = status.get("timing") or {}
        when = _when(timing.get("startTime")) or _when(timing.get("endTime")) if isinstance(timing, dict) else None
        try:
            unread = int((status.get("stats") or {}).get("filesFailed") or 0)
        except (TypeError, ValueError, AttributeError):
            unread = 0
        for claim in held & set(runs):
            runs[claim].append((str(status.get("phase") or ""), when, str(meta.get("name") or ""), unread))
    for claim, seen in runs.items():
        successes = [when for phase, when, _, _ in seen if phase == "Succeeded" and when is not None]
        for phase, when, name, unread in seen:
            if when is not None and (phase == "Succeeded" or (phase == "Unchanged" and successes)):
                state = "Unchanged since the last" if phase == "Unchanged" else "Succeeded"
                found[claim].append(Copy(when, f"kopiur snapshot {name} of {claim}",
                                         f"{state}, {unread} files unread" if unread else state, unread == 0,
                                         command))
            elif phase == "Failed" and (when is None or not successes or when > max(successes)):
                notes[claim].append(f"kopiur snapshot {name} failed")


def _kopiur_get(namespace: str) -> str:
    return f"kubectl get snapshots.kopiur.home-operations.com -n {namespace}"


def _job_labels(labels: dict[str, str]) -> dict[str, str]:
    """The recurring-job labels of an object (types.go IsRecurringJobLabel: the source label is not one)."""
    return {k: str(v) for k, v in labels.items() if k.startswith((JOB_LABEL, GROUP_LABEL)) and k != SOURCE_LABEL}


def _selected(job: dict[str, Any], labels: dict[str, str]) -> str:
    """The label by which a RecurringJob runs for a volume with these labels, or "": app/recurringjob/volume.go
    startVolumeJobs lists the volumes labelled `recurring-job.longhorn.io/<job>=enabled` and, for each of the
    job's spec.groups, `recurring-job-group.longhorn.io/<group>=enabled` (util.go getVolumesBySelector)."""
    keys = [JOB_LABEL + job["metadata"]["name"]]
    keys += [GROUP_LABEL + str(g) for g in (job.get("spec") or {}).get("groups") or []]
    return next((key for key in keys if labels.get(key) == ENABLED), "")


def _longhorn(probe: Probe, app: App, claims: list[str]) -> dict[str, Longhorn]:
    """Longhorn's part for each of the app's claims that Longhorn provisions."""
    if not probe.serves(LONGHORN):
        return {}
    classes = {c["metadata"]["name"]: c for c in probe.all_of("StorageClass")}
    live = {c["metadata"]["name"]: c for c in probe.all_of("PersistentVolumeClaim")
            if c["metadata"].get("namespace") == app.namespace}
    volumes = probe.custom(LONGHORN, "volumes")
    jobs = probe.custom(LONGHORN, "recurringjobs")
    backups = probe.custom(LONGHORN, "backups")
    found: dict[str, Longhorn] = {}
    for name in claims:
        claim = live.get(name)
        spec = (claim or {}).get("spec") or {}
        storage_class = classes.get(str(spec.get("storageClassName") or ""))
        if claim is None or (storage_class or {}).get("provisioner") != LONGHORN_DRIVER:
            continue
        # The Longhorn volume of a claim is its PersistentVolume (the CSI driver names the volume after it); the
        # volume's status.kubernetesStatus names the claim it is bound to while lastPVCRefAt is empty
        # (k8s/pkg/apis/longhorn/v1beta2/volume.go KubernetesStatus).
        volume = next((v for v in volumes if spec.get("volumeName") and v["metadata"]["name"] == spec["volumeName"]),
                      None) or next((v for v in volumes if _bound_to(v, app.namespace, name)), None)
        labels, origin = _selecting_labels(claim, volume, storage_class or {})
        volume_name = volume["metadata"]["name"] if volume else str(spec.get("volumeName") or "")
        part = Longhorn(volume_name, labels, origin,
                        namespace=volume["metadata"].get("namespace", "") if volume else "")
        for job in jobs:
            task = str((job.get("spec") or {}).get("task") or "")
            key = _selected(job, labels)
            if key and task in BACKUP_TASKS + SNAPSHOT_TASKS:
                (part.backup_jobs if task in BACKUP_TASKS else part.snapshot_jobs).append((job, key))
                part.namespace = part.namespace or job["metadata"].get("namespace", "")
        for backup in backups:
            meta, status = backup["metadata"], backup.get("status") or {}
            if not volume_name or (meta.get("labels") or {}).get(BACKUP_VOLUME, status.get("volumeName")) \
                    != volume_name:
                continue
            # v1beta2/backup.go BackupStatus: state "Completed"; snapshotCreatedAt is the snapshot's creation time
            # (the point the backup restores to), backupCreatedAt when its upload finished.
            when = _when(status.get("snapshotCreatedAt")) or _when(status.get("backupCreatedAt"))
            if status.get("state") == "Completed" and when:
                part.backups.append(Copy(when, f"longhorn backup {meta['name']} of volume {volume_name}",
                                         "Completed", True, _longhorn_command(meta.get("namespace", ""))))
        found[name] = part
    return found


def _bound_to(volume: dict[str, Any], namespace: str, claim: str) -> bool:
    kube = (volume.get("status") or {}).get("kubernetesStatus") or {}
    return kube.get("namespace") == namespace and kube.get("pvcName") == claim and not kube.get("lastPVCRefAt")


def _selecting_labels(claim: dict[str, Any], volume: dict[str, Any] | None,
                      storage_class: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The recurring-job labels that select the claim's Longhorn volume, and where they are read from.

    controller/volume_controller.go syncPVCRecurringJobLabels: a claim labelled `recurring-job.longhorn.io/source:
    enabled` has its recurring-job labels copied onto its volume (syncRecurringJobLabelsToTargetResource: the
    volume's others removed); else the volume's own. A volume is created with the labels of its StorageClass's
    `recurringJobSelector` parameter, a JSON list of {name, isGroup} (csi/util.go, manager/volume.go Create). One
    with no recurring-job label gets `recurring-job-group.longhorn.io/default: enabled` (datastore/longhorn.go
    labelRecurringJobDefault)."""
    name = claim["metadata"]["name"]
    claim_labels = claim["metadata"].get("labels") or {}
    if claim_labels.get(SOURCE_LABEL) == ENABLED:
        labels, origin = _job_labels(claim_labels), f"claim {name}'s labels ({SOURCE_LABEL})"
    elif volume is not None:
        labels, origin = _job_labels(volume["metadata"].get("labels") or {}), \
            f"volume {volume['metadata']['name']}'s labels"
    else:
        labels, origin = {}, f"storage class {storage_class['metadata']['name']}'s recurringJobSelector"
        try:
            selector = json.loads(str((storage_class.get("parameters") or {}).get("recurringJobSelector") or "[]"))
        except ValueError:
            selector = []
        for item in selector if isinstance(selector, list) else []:
            if isinstance(item, dict) and item.get("name"):
                labels[(GROUP_LABEL if item.get("isGroup") else JOB_LABEL) + str(item["name"])] = ENABLED
    if not labels:
        return {GROUP_LABEL + DEFAULT_GROUP: ENABLED}, f"the default group, no recurring-job label in {origin}"
    return labels, origin


def _longhorn_command(namespace: str) -> str:
    return "kubectl get recurringjobs.longhorn.io,backups.longhorn.io " + (f"-n {namespace}" if namespace else "-A")


def _jobs(jobs: list[tuple[dict[str, Any], str]]) -> str:
    """The first job that selects a volume, how, and how many more do."""
    job, key = jobs[0]
    spec = job.get("spec") or {}
    more = f" (and {len(jobs) - 1} more)" if len(jobs) > 1 else ""
    return f"{job['metadata']['name']} ({spec.get('task')}, cron '{spec.get('cron', '')}'){more} selects it by {key}"


class Verdict:
    """One check run's judgement of copies against the RPO (Velero's PodVolumeBackups looked up once each)."""

    def __init__(self, probe: Probe, rpo: float, look: str = VELERO_COMMAND) -> None:
        self.probe, self.rpo, self.look = probe, rpo, look  # look: where to look when a claim has no copy
        self.now = datetime.now(UTC)
        self._held: dict[str, str] = {}

    def held(self, copy: Copy) -> str:
        if not copy.what.startswith("velero backup "):
            return ""
        name = copy.what.split()[-1]
        if name not in self._held:
            from mediaops.cluster import velero

            claims = sorted(velero.volume_backups(self.probe.cluster(), name, copy.server))
            self._held[name] = f", data of {', '.join(claims)}" if claims else ", no volume data (objects only)"
        return self._held[name]

    def claim(self, namespace: str, claim: str, copies: list[Copy], notes: list[str],
              longhorn: Longhorn | None) -> Finding:
        rpo = self.rpo
        best = max(copies) if copies else None
        age = (self.now - best.when).total_seconds() / 3600 if best else float("inf")
        newest = ""
        if best is not None:
            held = self.held(best)
            newest = f"newest: {best.what}, {age:.1f} h old ({best.phase}{held}); RPO {rpo:.0f} h"
            if age <= rpo:
                status = WARN if not best.complete or held.startswith(", no volume") else OK
                return Finding(status, newest, best.command, age)
        scheduled = longhorn is not None and bool(longhorn.backup_jobs) and not longhorn.backups
        snapshots = longhorn is not None and bool(longhorn.snapshot_jobs) and not longhorn.backup_jobs
        if longhorn is not None and (scheduled or snapshots):
            line = (f"claim {claim} (longhorn volume {longhorn.volume or 'not known yet'}): recurring job "
                    f"{_jobs(longhorn.backup_jobs or longhorn.snapshot_jobs)} ({longhorn.origin}): ")
            if longhorn.backup_jobs:  # scheduled, but no Backup shows it has run
                line += f"backup scheduled, no Backup of it yet, its age unknown; RPO {rpo:.0f} h"
            else:  # a Longhorn snapshot lives on the volume's own disks
                line += "snapshot only, not off-cluster, its age unknown" + (
                    f"; {newest}" if newest else f"; RPO {rpo:.0f} h")
            return Finding(WARN, line, _longhorn_command(longhorn.namespace), age)
        if longhorn is not None and not longhorn.backup_jobs:
            notes = [*notes, f"no longhorn backup or snapshot recurring job selects it by "
                             f"{', '.join(sorted(longhorn.labels))} ({longhorn.origin})"]
        if best is not None:
            return Finding(FAIL, newest + "".join(f"; {n}" for n in notes), best.command, age)
        line = f"no finished backup of claim {claim} (none covers namespace {namespace})"
        command = _longhorn_command(longhorn.namespace) if longhorn is not None else \
            _kopiur_get(namespace) if notes and notes[0].startswith("kopiur ") else \
            f"kubectl get volumesnapshots -n {namespace}" if notes else self.look
        return Finding(FAIL, line + "".join(f"; {n}" for n in notes), command, age)


def _k8up_get(namespace: str) -> str:
    return f"kubectl get backups.k8up.io,schedules.k8up.io -n {namespace}"


def _volsync_get(namespace: str) -> str:
    return f"kubectl get replicationsources.volsync.backube -n {namespace}"


def _velero_get(server: str) -> str:
    from mediaops.cluster.velero import namespace_flag

    return VELERO_COMMAND + namespace_flag(server)


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    rpo = float(probe.setting("backup_rpo_hours") or 24)
    claims = sorted({v.name for v in app.volumes} | set(app.claims))
    wide, installed = _wide(probe, app)
    per_claim, notes = _per_claim(probe, app, claims)
    longhorn = _longhorn(probe, app, claims)
    for api, system in (("volsync.backube/v1alpha1", "volsync"), (SNAPSHOTS, "volumesnapshots"),
                        (LONGHORN, "longhorn"), (KOPIUR, "kopiur")):
        if probe.serves(api):
            installed.add(system)
    if not installed:
        yield Result("backups", where, UNKNOWN, "no backup system's CRDs in the cluster (Velero, K8up, VolSync, "
                     "VolumeSnapshot, Longhorn, kopiur)",
                     "kubectl get crds | grep -e velero -e k8up -e volsync -e snapshot.storage -e longhorn -e kopiur")
        return
    # Where to look when no copy is found: the list of the first backup system the cluster has.
    if "velero" in installed:
        from mediaops.cluster.velero import server_namespace

        look = _velero_get(server_namespace(probe.cluster()))
    else:
        look = next(command for system, command in (
            ("k8up", _k8up_get(app.namespace)), ("volsync", _volsync_get(app.namespace)),
            ("kopiur", _kopiur_get(app.namespace)),
            ("volumesnapshots", f"kubectl get volumesnapshots -n {app.namespace}"),
            ("longhorn", _longhorn_command(""))) if system in installed)
    if not wide and not any(per_claim.values()) and not any(notes.values()) and not longhorn:
        yield Result("backups", where, FAIL, f"no finished backup covers namespace {app.namespace}", look)
        return
    verdict = Verdict(probe, rpo, look)
    findings = {claim: verdict.claim(app.namespace, claim, wide + per_claim[claim] + (
        longhorn[claim].backups if claim in longhorn else []), notes[claim], longhorn.get(claim)) for claim in claims}
    # The worst claim speaks for the app; of equally good ones, the one whose copy is oldest.
    claim, worst = min(findings.items(), key=lambda item: (ORDER[item[1].status], -item[1].age, item[0]))
    line = worst.line
    if len({f.line for f in findings.values()}) > 1:  # claims held differently: name the one that speaks
        if not line.startswith(("no finished backup of claim", "claim ")):
            line = f"claim {claim}: {line}"
        line += f" ({sum(f.status == OK for f in findings.values())} of {len(findings)} claims ok)"
    yield Result("backups", where, worst.status, line, worst.command)


CHECK = Check("backups", "A backup of each of the app's claims younger than the RPO (24 h)",
              applies=lambda app: app.state == ACTIVE and bool(app.volumes or app.claims), run=run)
