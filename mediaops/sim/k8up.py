"""K8up's operator (k8up-io/k8up v2): Backups, Restores, Schedules, and the Snapshots its restic jobs report.

Followed from k8up-io/k8up (main, and v2.11.3 where the sample's operator runs; the rules below are the same):

- a Backup backs up the claims of its namespace (operator/backupcontroller/executor.go listAndFilterPVCs): every
  claim that is Bound, ReadWriteMany or ReadWriteOnce (another access mode only with the annotation), and not
  annotated ``k8up.io/backup`` with a false value (strconv.ParseBool: anything that does not parse is false too);
  ``spec.labelSelectors`` narrow the claims (backup_utils.go fetchPVCs). A claim mounted by a *running* pod (not
  one of K8up's own, label ``k8upjob``) is backed up on that pod's node; an unmounted ReadWriteOnce claim on the
  node its PersistentVolume's affinity names (or ``k8up.io/hostname``), and it is still backed up: the backup Job
  mounts the claim itself. One Job per node, ``backup-<name>-<index>``, labelled ``k8upjob``, ``k8up.io/type``,
  ``k8up.io/owned-by: backup_<name>`` (operator/job/job.go MutateBatchJob), each claim at ``/data/<claim>``;
  no claim at all: Completed "nothing to backup" without a Job;
- restic backs up each folder under /data as a snapshot of its own (restic/cli/backup.go), host = the namespace,
  path ``/data/<claim>``; after the backup the job lists the repository's snapshots of its namespace as Snapshot
  objects named after the first 8 characters of their ID (restic/kubernetes/snapshots.go SyncSnapshotList), and
  deletes the Snapshot objects of that repository the repository no longer holds;
- status (api/v1/status.go, operator/backupcontroller/controller.go ReconcileJobStatus, operator/job/job.go
  UpdateStatus): ``PreBackupPodReady`` True NoPreBackupPodsFound (no PreBackupPod templates), while Jobs run
  ``Ready`` True and ``Progressing`` True Started (``status.started``), then ``Completed`` True Succeeded or Failed
  with ``Progressing`` False Finished and ``Ready`` removed (``status.finished``);
- a Restore runs one Job ``restore-<name>`` (operator/restorecontroller/executor.go): restic picks the snapshot
  ``spec.snapshot`` (an ID prefix), else the newest whose time begins with ``spec.restoreTimeFilter``, else the
  newest of the repository (restricted by ``spec.tags`` and ``spec.paths``; restic/cli/restore.go
  getLatestSnapshot), and restores it, its path trimmed (``trimRestorePath``, on by default), into the claim of
  ``restoreMethod.folder.claimName`` (mounted at /restore): files in the snapshot overwrite the claim's, others
  stay unless ``spec.delete``; no snapshot, or none with that ID: the job fails, the Restore is Completed Failed;
- a Schedule (operator/schedulecontroller) gets the ``k8up.io/schedule`` finalizer, ``Ready`` True and, for
  ``@hourly-random``/``@daily-random``/``@weekly-random``/``@monthly-random``/``@yearly-random``, its
  ``status.effectiveSchedules`` (randomizer.go: from the SHA-1 of ``<ns>/<name>@<jobType>``); at each time of its
  ``backup.schedule`` it creates a Backup ``<name>-backup-<5 random>`` it owns, labelled
  ``k8up.io/schedule-name``, with the Schedule's backend (handler.go executeCronSchedule, mergeWithDefaults).

The claims' data is the rehearsal's (``Rehearsal.volumes``); a restic repository is a list of snapshots in
``Rehearsal.repositories``, by the repository's URL (``s3:<endpoint>/<bucket>``, api/v1/backend.go), shared with
VolSync's restic mover (volsync.py), as two tools writing to one repository share it.

Not emulated: PreBackupPods and ``k8up.io/backupcommand`` (stdin) backups, Check, Prune and Archive runs (their
kinds are served and stored; a Schedule's prune, check, archive and restore entries create nothing), the job
history limits (old Backups are not deleted), the relaxed-scheduling and skip-without-annotation operator
options (attributes here, off as by default), restic's locks, and S3 restores (the Restore completes, nothing is
written to a claim). A Secret the job's environment names that does not exist does not stop it.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.sim.manager import Key, Operator
from mediaops.sim.store import ApiError, WatchEvent, now
from mediaops.sim.workloads import EXIT_CODE

GROUP = "k8up.io"
JOB_LABEL = "k8upjob"  # operator/job/job.go K8uplabel
TYPE_LABEL = "k8up.io/type"
OWNED_BY = "k8up.io/owned-by"
REPOSITORY_HASH = "k8up.io/repository-hash"
EXCLUSIVE = "k8up.io/exclusive"
SCHEDULE_NAME = "k8up.io/schedule-name"
SCHEDULE_FINALIZER = "k8up.io/schedule"  # api/v1/schedule_types.go ScheduleFinalizerName
BACKUP_ANNOTATION = "k8up.io/backup"  # cmd/operator/main.go: BACKUP_ANNOTATION's default
HOSTNAME_ANNOTATION = "k8up.io/hostname"  # api/v1/common_types.go AnnotationK8upHostname
MOUNT_PATH = "/data"  # cmd/operator/main.go: BACKUP_DATAPATH's default
RESTORE_PATH = "/restore"  # operator/restorecontroller/executor.go restorePath
IMAGE = "ghcr.io/k8up-io/k8up:v2.11.3"
RANDOM_SCHEDULES = ("@hourly-random", "@daily-random", "@weekly-random", "@monthly-random", "@yearly-random",
                    "@annually-random")
_RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand String


# -- metav1.Condition, as apimachinery's meta.SetStatusCondition writes it -------------------------------------
def set_condition(conditions: list[dict[str, Any]], type_: str, status: str, reason: str, message: str) -> None:
    """k8s.io/apimachinery pkg/api/meta/conditions.go SetStatusCondition: the transition time moves only when the
    status does."""
    for condition in conditions:
        if condition.get("type") == type_:
            if condition.get("status") != status:
                condition.update(status=status, lastTransitionTime=now())
            condition.update(reason=reason, message=message)
            return
    conditions.append({"type": type_, "status": status, "lastTransitionTime": now(), "reason": reason,
                       "message": message})


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), {})


# -- restic repositories: lists of snapshots by repository URL (shared with volsync.py) ------------------------
def snapshot(sim: Any, repository: str, hostname: str, path: str, files: dict[str, bytes], *,
             prefix: str = "", tags: list[str] | None = None) -> dict[str, Any]:
    """``restic backup``: a snapshot of ``files`` (relative to the backed-up folder ``path``) in the repository.
    Restic keeps an absolute folder's path in the tree (``prefix``: ``data/<claim>/``); ``restic backup .`` keeps
    the files at the tree's root (VolSync's mover)."""
    taken = datetime.now(UTC)
    record = {"id": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "time": taken, "hostname": hostname,
              "paths": [path], "tags": list(tags or []), "tree": {prefix + rel: data for rel, data in files.items()}}
    with sim.store.lock:  # K8up's and VolSync's controllers may write one repository at once
        sim.repositories.setdefault(repository, []).append(record)
    return record


def snapshots(sim: Any, repository: str) -> list[dict[str, Any]]:
    """``restic snapshots``: the repository's snapshots, oldest first."""
    return sorted(sim.repositories.get(repository) or [], key=lambda s: s["time"])


def tree_under(snap: dict[str, Any], path: str) -> dict[str, bytes] | None:
    """The snapshot's files under an absolute path (``<id>:/data/x``), relative to it; None when it holds none."""
    prefix = path.strip("/") + "/" if path.strip("/") else ""
    files = {k[len(prefix):]: v for k, v in snap["tree"].items() if k.startswith(prefix)}
    return files if files or not snap["tree"] else None


def restore_into(sim: Any, key: tuple[str, ...], files: dict[str, bytes], *, delete: bool) -> None:
    """``restic restore --target``: the snapshot's files overwrite the target's; ``--delete`` removes the others."""
    target = sim.volumes.setdefault(key, {})
    if delete:
        target.clear()
    target.update(files)


def go_time(stamp: datetime) -> str:
    """Go's time.Time.String() (``2006-01-02 15:04:05.999999999 -0700 MST``) of a UTC time, which restore's time
    filter is a prefix of."""
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + " +0000 UTC"


def rfc3339(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- cron, as robfig/cron/v3's standard parser reads it (K8up's and VolSync's schedules) --------------------------
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_NAMES = {3: {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                              "nov", "dec"))},
          4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _cron_field(text: str, index: int) -> tuple[set[int], bool]:
    low, high = _BOUNDS[index]
    values: set[int] = set()
    star = False
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body in ("*", "?"):
            first, last = low, high
            star = star or not step_text
        else:
            first_text, _, last_text = body.partition("-")
            first = _cron_value(first_text, index)
            last = _cron_value(last_text, index) if last_text else (high if step_text else first)
        if not (low <= first <= high and low <= last <= high) or step < 1:
            raise ValueError(f"end of range ({last}) above maximum ({high}): {part}")
        values.update(range(first, last + 1, step))
    return values, star


def _cron_value(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def cron_next(spec: str, after: datetime) -> datetime:
    """The first time after ``after`` (UTC, whole minutes) a cron spec fires: five fields, names, ranges, steps,
    lists and the @-descriptors, with robfig/cron's day rule (day of month and day of week both restricted: either
    matches). ValueError for a spec it cannot parse, as cron.ParseStandard fails."""
    text = spec.strip()
    if text.startswith("@every "):
        seconds = _duration(text.removeprefix("@every ").strip())
        return after + timedelta(seconds=max(seconds, 1))
    text = _DESCRIPTORS.get(text, text)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {spec}")
    (minutes, _), (hours, _), (days, dom_star), (months, _), (weekdays, dow_star) = (
        _cron_field(f, i) for i, f in enumerate(fields))
    weekdays = {7 if d == 0 else d for d in weekdays} | weekdays  # Sunday is 0 (robfig also takes 7 in ranges)
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 5):
        day_ok = (moment.day in days and (moment.isoweekday() % 7 in weekdays)) if (dom_star or dow_star) else (
            moment.day in days or moment.isoweekday() % 7 in weekdays)
        if moment.month in months and day_ok:
            for hour in sorted(h for h in hours if h >= moment.hour):
                start = moment.minute if hour == moment.hour else 0
                minute = next((m for m in sorted(minutes) if m >= start), None)
                if minute is not None:
                    return moment.replace(hour=hour, minute=minute)
        moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
    raise ValueError(f"no time in five years matches {spec}")


def _duration(text: str) -> float:
    """A Go duration (``1h30m``, ``90s``)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"time: invalid duration {text!r}")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)


def randomize(seed: str, schedule: str) -> str:
    """operator/schedulecontroller/randomizer.go randomizeSchedule (``@annually-random`` falls through its switch
    unchanged, as upstream's does)."""
    checksum = int(hashlib.sha1(seed.encode()).hexdigest(), 16)
    minute, hour, day = checksum % 60, checksum % 24, 1 + checksum % 27
    return {"@hourly-random": f"{minute} * * * *", "@daily-random": f"{minute} {hour} * * *",
            "@monthly-random": f"{minute} {hour} {day} * *",
            "@yearly-random": f"{minute} {hour} {day} {1 + checksum % 12} *",
            "@weekly-random": f"{minute} {hour} * * {checksum % 6}"}.get(schedule, schedule)


# -- label selectors (metav1.LabelSelector) -------------------------------------------------------------------
def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """metav1.LabelSelectorAsSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key", ""), expression.get("operator"), expression.get("values") or []
        held = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}.get(str(operator), False)
        if not held:
            return False
    return True


def parse_bool(text: str) -> bool | None:
    """Go's strconv.ParseBool: None for what it rejects."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def job_state(job: dict[str, Any]) -> str:
    """"succeeded", "failed" or "started" (neither condition yet: operator/job/job.go HasStarted)."""
    conditions = {c.get("type"): c.get("status") for c in (job.get("status") or {}).get("conditions") or []}
    if conditions.get("Complete") == "True":
        return "succeeded"
    if conditions.get("Failed") == "True":
        return "failed"
    return "started"


def repository_of(backend: dict[str, Any] | None) -> str:
    """api/v1/backend.go Backend.String(): the restic repository's URL; empty without a backend (no global one)."""
    backend = backend or {}
    if backend.get("local"):
        return str((backend["local"] or {}).get("mountPath", ""))
    if backend.get("s3"):
        s3 = backend["s3"] or {}
        return f"s3:{str(s3.get('endpoint', '')).rstrip('/')}/{s3.get('bucket', '')}"
    for kind, fields in (("gcs", ("bucket",)), ("azure", ("container",)), ("swift", ("container", "path")),
                         ("b2", ("bucket", "path")), ("rest", ("url",))):
        if backend.get(kind):
            spec = backend[kind] or {}
            return f"{kind}:" + ":".join(str(spec.get(f, "")) for f in fields)
    return ""


class K8up(Operator):
    """K8up's operator: the backup, restore and schedule controllers, and what their restic jobs do."""

    name = "k8up"
    group = GROUP
    kinds = ("Backup", "Restore", "Schedule")
    watches = ("k8up.io/Backup", "k8up.io/Restore", "k8up.io/Schedule", "Job", "CustomResourceDefinition")
    skip_without_annotation = False  # --skip-pvcs-without-annotation (BACKUP_SKIP_WITHOUT_ANNOTATION), off
    relaxed_scheduling = False  # --enable-relaxed-scheduling (BACKUP_ENABLE_RELAXED_SCHEDULING), off

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.ran: set[str] = set()  # the Jobs (uid) whose restic work is done
        self.fires: dict[tuple[str, str], tuple[str, datetime]] = {}  # Schedule -> (effective schedule, next time)

    def keys_for(self, event: WatchEvent) -> list[Key]:
        own = self.own_keys(event)
        if own is not None:
            return own
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "Job":
            kind_name, _, owner = ((meta.get("labels") or {}).get(OWNED_BY) or "").partition("_")
            return [(meta.get("namespace", ""), f"{kind_name.capitalize()}/{owner}")] \
                if kind_name in ("backup", "restore") else []
        return []

    def reconcile(self, namespace: str, name: str) -> float | None:
        kind_name, _, object_name = name.partition("/")
        if kind_name not in ("Backup", "Restore", "Schedule"):
            return None
        resource = self.res(f"{GROUP}/{kind_name}")
        obj = self.store.find(resource, namespace, object_name)
        if obj is None or not self.installed(resource):
            if obj is None:
                self.fires.pop((namespace, object_name), None)
            return None
        if kind_name == "Backup":
            return self._backup(obj)
        if kind_name == "Restore":
            return self._restore(obj)
        return self._schedule(obj)

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if status != (obj.get("status") or {}):
            meta = obj["metadata"]
            self.store.set_status(self.res(f"{GROUP}/{obj['kind']}"), meta["namespace"], meta["name"], status)

    def _jobs(self, namespace: str, owner: str) -> list[dict[str, Any]]:
        return self.store.select(self.res("Job"), namespace, f"{OWNED_BY}={owner}")[0]

    def _job(self, obj: dict[str, Any], name: str, job_type: str, repository: str, pod: dict[str, Any],
             extra_labels: dict[str, str] | None = None, exit_code: int = 0) -> None:
        """A Job as operator/job/job.go MutateBatchJob labels it, owned by the K8up object."""
        meta = obj["metadata"]
        labels = {JOB_LABEL: "true", TYPE_LABEL: job_type, OWNED_BY: f"{job_type}_{meta['name']}",
                  REPOSITORY_HASH: hashlib.sha256(repository.encode()).hexdigest()[:63], **(extra_labels or {})}
        template: dict[str, Any] = {"metadata": {"labels": {JOB_LABEL: "true"}},
                                    "spec": {"restartPolicy": "OnFailure", "serviceAccountName": "pod-executor",
                                             **pod}}
        if exit_code:
            template["metadata"]["annotations"] = {EXIT_CODE: str(exit_code)}
        try:
            self.store.create(self.res("Job"), {
                "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                             "ownerReferences": [{"apiVersion": f"{GROUP}/v1", "kind": obj["kind"],
                                                  "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "spec": {"backoffLimit": 6, "template": template}})
        except ApiError as exc:
            if exc.code != 409:
                raise

    # -- backups ------------------------------------------------------------------------------------------
    def _backup(self, backup: dict[str, Any]) -> float | None:
        meta, spec = backup["metadata"], backup.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        status = copy.deepcopy(backup.get("status") or {})
        conditions = status.setdefault("conditions", [])
        owner = f"backup_{name}"
        jobs = self._jobs(namespace, owner)
        repository = repository_of(spec.get("backend"))
        for job in jobs:
            if job_state(job) == "succeeded" and job["metadata"]["uid"] not in self.ran:
                self.ran.add(job["metadata"]["uid"])
                self._restic_backup(backup, job, repository)
        if jobs:  # controller.go ReconcileJobStatus
            states = [job_state(j) for j in jobs]
            done, failed, started = states.count("succeeded"), states.count("failed"), states.count("started")
            message = f'"{owner}" has {done} succeeded, {failed} failed, and {started} started jobs'
            if done == len(jobs):
                self._finish(status, "Succeeded", message, f"job '{owner}' completed successfully")
            elif failed:
                self._finish(status, "Failed", message, f"job '{owner}' has failed")
            elif started:
                self._start(status, message)
        if condition(status, "Completed").get("status") == "True":
            # finished: StopPreBackupDeployments (no templates: the condition's default message)
            set_condition(conditions, "PreBackupPodReady", "True", "NoPreBackupPodsFound", "The resource is ready")
            self._write(backup, status)
            return None
        if jobs:
            self._write(backup, status)
            return None
        # Execute: StartPreBackup, then a Job per node for the claims it backs up (executor.go startBackup)
        set_condition(conditions, "PreBackupPodReady", "True", "NoPreBackupPodsFound", "no container definitions found")
        groups: dict[str, list[tuple[int, str]]] = {}
        for index, (claim, node) in enumerate(self._claims(backup)):
            groups.setdefault(str(index) if self.relaxed_scheduling else node, []).append((index, claim))
        if not groups:
            set_condition(conditions, "Completed", "True", "Succeeded", "nothing to backup")
            self._write(backup, status)
            return None
        for node, items in groups.items():
            claims = [claim for _, claim in items]
            pod: dict[str, Any] = {
                "containers": [{"name": "backup", "image": IMAGE, "args": ["-varDir", "/k8up"],
                                "env": [{"name": "HOSTNAME", "value": namespace},
                                        {"name": "RESTIC_REPOSITORY", "value": repository},
                                        {"name": "BACKUP_DIR", "value": MOUNT_PATH}],
                                "volumeMounts": [{"name": c, "mountPath": f"{MOUNT_PATH}/{c}", "readOnly": True}
                                                 for c in claims]}],
                "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]}
            if node and not self.relaxed_scheduling:
                pod["nodeSelector"] = {"kubernetes.io/hostname": node}
            # restic fails without a repository ("Please specify repository location"): the job fails
            self._job(backup, f"backup-{name}-{items[0][0]}", "backup", repository, pod,
                      exit_code=0 if repository else 1)
        self._write(backup, status)
        return None

    def _claims(self, backup: dict[str, Any]) -> list[tuple[str, str]]:
        """(claim, node) of what a Backup backs up: executor.go listAndFilterPVCs."""
        namespace, spec = backup["metadata"]["namespace"], backup.get("spec") or {}
        mounted: dict[str, dict[str, Any]] = {}
        for pod in self.store.select(self.res("Pod"), namespace, f"!{JOB_LABEL}")[0]:
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    mounted[claim] = pod
        claims = self.store.select(self.res("PersistentVolumeClaim"), namespace)[0]
        selectors = spec.get("labelSelectors")
        if selectors is not None:  # backup_utils.go fetchPVCs: the union of what each selector matches
            claims = [c for c in claims if any(selector_matches(s, c["metadata"].get("labels") or {})
                                               for s in selectors)]
        chosen: list[tuple[str, str]] = []
        for claim in claims:
            meta, claim_spec = claim["metadata"], claim.get("spec") or {}
            if (claim.get("status") or {}).get("phase") != "Bound":
                continue  # "PVC is not bound, skipping PVC"
            annotations = meta.get("annotations") or {}
            modes = claim_spec.get("accessModes") or []
            rwo = "ReadWriteOnce" in modes
            if "ReadWriteMany" not in modes and not rwo and BACKUP_ANNOTATION not in annotations:
                continue  # "PVC is neither RWX nor RWO and has no backup annotation, skipping PVC"
            if BACKUP_ANNOTATION not in annotations:
                if self.skip_without_annotation:
                    continue
            elif not parse_bool(str(annotations[BACKUP_ANNOTATION])):
                continue  # "PVC skipped due to annotation"
            node = ""
            user = mounted.get(meta["name"])
            if user is not None:
                if rwo or not self.relaxed_scheduling:
                    node = str((user.get("spec") or {}).get("nodeName") or "")
            elif rwo and not self.relaxed_scheduling:
                # the PersistentVolume's node affinity (findNode); the rehearsal's claims bind without a
                # PersistentVolume object: one provisioned without affinity, as NFS or Ceph volumes are
                volume_name = claim_spec.get("volumeName")
                volume = self.store.find(self.res("PersistentVolume"), "", volume_name) if volume_name else None
                if volume_name and volume is None:
                    continue  # "unable to get PV, skipping pvc"
                node = _pv_node(volume) or str(annotations.get(HOSTNAME_ANNOTATION, ""))
            if HOSTNAME_ANNOTATION in annotations:
                node = str(annotations[HOSTNAME_ANNOTATION])
            chosen.append((meta["name"], node))
        return chosen

    def _restic_backup(self, backup: dict[str, Any], job: dict[str, Any], repository: str) -> None:
        """What the backup Job's restic did: a snapshot per claim folder under /data, then the snapshot list."""
        namespace = backup["metadata"]["namespace"]
        tags = [str(t) for t in (backup.get("spec") or {}).get("tags") or []]
        template = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
        for volume in template.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                files = dict(self.sim.volumes.get(("pvc", namespace, claim), {}))
                snapshot(self.sim, repository, namespace, f"{MOUNT_PATH}/{claim}", files,
                         prefix=f"{MOUNT_PATH.strip('/')}/{claim}/", tags=tags)
        self._sync_snapshots(namespace, repository)

    def _sync_snapshots(self, namespace: str, repository: str) -> None:
        """restic/kubernetes/snapshots.go SyncSnapshotList: the namespace's snapshots of the repository as Snapshot
        objects (named by the ID's first 8 characters); those the repository no longer holds are deleted."""
        resource = self.res(f"{GROUP}/Snapshot")
        if not self.installed(resource):
            return
        held = {s["id"]: s for s in snapshots(self.sim, repository) if s["hostname"] == namespace}
        existing = [o for o in self.store.select(resource, namespace)[0]
                    if (o.get("spec") or {}).get("repository") == repository]
        have = {(o.get("spec") or {}).get("id") for o in existing}
        for snap_id, snap in held.items():
            if snap_id not in have:
                try:
                    self.store.create(resource, {
                        "metadata": {"name": snap_id[:8], "namespace": namespace},
                        "spec": {"id": snap_id, "date": rfc3339(snap["time"]), "paths": list(snap["paths"]),
                                 "repository": repository}})
                except ApiError:
                    pass
        for obj in existing:
            if (obj.get("spec") or {}).get("id") not in held:
                try:
                    self.store.delete(resource, namespace, obj["metadata"]["name"])
                except ApiError:
                    pass

    @staticmethod
    def _start(status: dict[str, Any], message: str) -> None:
        """api/v1/status.go SetStarted."""
        status["started"] = True
        conditions = status.setdefault("conditions", [])
        set_condition(conditions, "Ready", "True", "Ready", message)
        set_condition(conditions, "Progressing", "True", "Started", "The job is progressing")

    @staticmethod
    def _finish(status: dict[str, Any], reason: str, message: str, finished: str) -> None:
        """operator/job/job.go SetSucceeded/SetFailed: Completed with the reason, then SetFinished (Ready removed)."""
        conditions = status.setdefault("conditions", [])
        set_condition(conditions, "Completed", "True", reason, message)
        status["finished"] = True
        set_condition(conditions, "Progressing", "False", "Finished", finished)
        status["conditions"] = [c for c in conditions if c.get("type") != "Ready"]

    # -- restores -----------------------------------------------------------------------------------------
    def _restore(self, restore: dict[str, Any]) -> float | None:
        meta, spec = restore["metadata"], restore.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        status = copy.deepcopy(restore.get("status") or {})
        conditions = status.setdefault("conditions", [])
        repository = repository_of(spec.get("backend"))
        job_name = f"restore-{name}"
        job = self.store.find(self.res("Job"), namespace, job_name)
        if job is not None:  # operator/job/job.go ReconcileJobStatus, UpdateStatus
            state = job_state(job)
            if state == "succeeded" and job["metadata"]["uid"] not in self.ran:
                self.ran.add(job["metadata"]["uid"])
                self._restic_restore(restore, repository)
            counts = job.get("status") or {}
            message = (f"job '{job_name}' has {counts.get('active', 0) if state == 'started' else 0} active, "
                       f"{counts.get('succeeded', 0)} succeeded and {counts.get('failed', 0)} failed pods")
            if state == "succeeded":
                self._finish(status, "Succeeded", message, f"job '{job_name}' completed successfully")
            elif state == "failed":
                self._finish(status, "Failed", message, f"job '{job_name}' has failed")
            else:
                self._start(status, message)
            self._write(restore, status)
            return None
        if status.get("finished") or status.get("started"):
            return None
        method = spec.get("restoreMethod") or {}
        folder = method.get("folder") or {}
        if not folder.get("claimName") and not method.get("s3"):
            set_condition(conditions, "Ready", "False", "CreationFailed", "unable to create restore object: "
                          f"undefined restore method (-restoreType) on '{namespace}/{name}'")
            self._write(restore, status)
            return None
        _, error = self._chosen(restore, repository)
        pod: dict[str, Any] = {"containers": [{"name": "restore", "image": IMAGE,
                                               "args": ["-varDir", "/k8up", "-restore", "-restoreType",
                                                        "folder" if folder.get("claimName") else "s3"],
                                               "env": [{"name": "RESTIC_REPOSITORY", "value": repository},
                                                       {"name": "RESTORE_DIR", "value": RESTORE_PATH}]}]}
        if folder.get("claimName"):
            claim = str(folder["claimName"])
            pod["containers"][0]["volumeMounts"] = [{"name": claim, "mountPath": RESTORE_PATH}]
            pod["volumes"] = [{"name": claim, "persistentVolumeClaim": {"claimName": claim}}]
        self._job(restore, job_name, "restore", repository, pod, {EXCLUSIVE: "true"}, exit_code=1 if error else 0)
        self._start(status, f"the job '{namespace}/{job_name}' was created")
        self._write(restore, status)
        return None

    def _chosen(self, restore: dict[str, Any], repository: str) -> tuple[dict[str, Any] | None, str]:
        """The snapshot restic restores (restic/cli/restore.go getLatestSnapshot), or why there is none."""
        spec = restore.get("spec") or {}
        if not repository:
            return None, "Fatal: Please specify repository location (-r or --repository-file)"
        tags = {str(t) for t in spec.get("tags") or []}
        paths = {str(p) for p in spec.get("paths") or []}
        found = [s for s in snapshots(self.sim, repository)
                 if (not tags or tags & set(s["tags"])) and paths <= set(s["paths"])]
        if not found:
            return None, "no snapshots available"
        wanted = str(spec.get("snapshot") or "")
        if wanted:
            match = next((s for s in found if s["id"].startswith(wanted)), None)
            return match, "" if match else f"no Snapshot found with ID {wanted}"
        time_filter = str(spec.get("restoreTimeFilter") or "")
        if time_filter:
            match = next((s for s in reversed(found) if go_time(s["time"]).startswith(time_filter)), None)
            if match is not None:
                return match, ""
        return found[-1], ""

    def _restic_restore(self, restore: dict[str, Any], repository: str) -> None:
        spec = restore.get("spec") or {}
        claim = ((spec.get("restoreMethod") or {}).get("folder") or {}).get("claimName")
        chosen, _ = self._chosen(restore, repository)
        if chosen is None or not claim:
            return  # an S3 restore writes an archive to its bucket, not to a claim
        files = tree_under(chosen, chosen["paths"][0]) or {}  # trimRestorePath: <id>:<the snapshot's path>
        pattern = str(spec.get("restoreFilter") or "")
        if pattern:  # restic restore --include
            files = {k: v for k, v in files.items() if fnmatch.fnmatch(k, pattern.lstrip("/"))
                     or k.startswith(pattern.strip("/") + "/")}
        restore_into(self.sim, ("pvc", restore["metadata"]["namespace"], str(claim)), files,
                     delete=bool(spec.get("delete")))

    # -- schedules ----------------------------------------------------------------------------------------
    def _schedule(self, schedule: dict[str, Any]) -> float | None:
        meta, spec = schedule["metadata"], schedule.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        resource = self.res(f"{GROUP}/Schedule")
        if meta.get("deletionTimestamp"):  # Deprovision: off the cron, the finalizer removed
            self.fires.pop((namespace, name), None)
            if SCHEDULE_FINALIZER in (meta.get("finalizers") or []):
                self.store.update(resource, namespace, name, lambda o: o["metadata"].update(finalizers=[
                    f for f in o["metadata"].get("finalizers") or [] if f != SCHEDULE_FINALIZER]))
            return None
        status = copy.deepcopy(schedule.get("status") or {})
        effective: list[dict[str, str]] = []
        error = ""
        backup_schedule = ""
        for job_type in ("prune", "backup", "check", "restore", "archive"):
            entry = spec.get(job_type)
            if not isinstance(entry, dict):
                continue
            original = str(entry.get("schedule") or "")
            generated = randomize(f"{namespace}/{name}@{job_type}", original) if original in RANDOM_SCHEDULES \
                else original
            if generated != original:
                effective.append({"jobType": job_type, "generatedSchedule": generated})
            try:
                cron_next(generated, datetime.now(UTC))
            except ValueError as exc:
                error = error or f"cannot add to cron: {exc}"
            if job_type == "backup":
                backup_schedule = generated
        if effective:
            status["effectiveSchedules"] = effective
        else:
            status.pop("effectiveSchedules", None)
        conditions = status.setdefault("conditions", [])
        if error:
            set_condition(conditions, "Ready", "False", "Failed", error)
        else:
            set_condition(conditions, "Ready", "True", "Ready", "The resource is ready")
        self._write(schedule, status)
        if SCHEDULE_FINALIZER not in (meta.get("finalizers") or []):
            self.store.update(resource, namespace, name, lambda o: o["metadata"].update(
                finalizers=[*(o["metadata"].get("finalizers") or []), SCHEDULE_FINALIZER]))
        if error or not backup_schedule:
            self.fires.pop((namespace, name), None)
            return None
        current = datetime.now(UTC)
        planned = self.fires.get((namespace, name))
        if planned is None or planned[0] != backup_schedule:
            planned = (backup_schedule, cron_next(backup_schedule, current))
        elif planned[1] <= current:
            self._fire(schedule)
            planned = (backup_schedule, cron_next(backup_schedule, current))
        self.fires[(namespace, name)] = planned
        return max(0.01, (planned[1] - current).total_seconds())

    def _fire(self, schedule: dict[str, Any]) -> None:
        """handler.go executeCronSchedule: a Backup of the Schedule's template, owned by it."""
        meta, spec = schedule["metadata"], schedule.get("spec") or {}
        template = {k: copy.deepcopy(v) for k, v in (spec.get("backup") or {}).items()
                    if k not in ("schedule", "concurrentRunsAllowed")}
        if not template.get("backend") and spec.get("backend"):
            template["backend"] = copy.deepcopy(spec["backend"])  # mergeBackendWithDefaults
        suffix = "".join(random.choice(_RAND_ALPHABET) for _ in range(5))
        prefix = meta["name"][:63 - 5 - len("backup") - 2]
        self.store.create(self.res(f"{GROUP}/Backup"), {
            "metadata": {"name": f"{prefix}-backup-{suffix}", "namespace": meta["namespace"],
                         "labels": {SCHEDULE_NAME: meta["name"]},
                         "ownerReferences": [{"apiVersion": f"{GROUP}/v1", "kind": "Schedule", "name": meta["name"],
                                              "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": template})


def _pv_node(volume: dict[str, Any] | None) -> str:
    """executor.go findNode: the hostname a PersistentVolume's required node affinity names."""
    required = (((volume or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") == "kubernetes.io/hostname" and expression.get("operator") == "In":
                return str((expression.get("values") or [""])[0])
    return ""
