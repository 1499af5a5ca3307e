"""VolSync's controller (backube/volsync v0.17, api/v1alpha1) with its restic mover.

Followed from backube/volsync:

- the state machine (internal/controller/statemachine/machine.go, conditions.go): a new ReplicationSource or
  ReplicationDestination synchronizes at once (``status.lastSyncStartTime``, ``Synchronizing`` True
  SyncInProgress); when the mover is done ``lastSyncTime``, ``lastSyncDuration``, ``nextSyncTime`` (schedule) and
  ``lastManualSync`` (= ``spec.trigger.manual``) are written, ``lastSyncStartTime`` removed, and it cleans up
  (``Synchronizing`` False CleaningUp); then it waits: ``spec.trigger.manual`` for a value other than
  ``status.lastManualSync`` (WaitingForManual), ``spec.trigger.schedule`` for its next time (WaitingForSchedule),
  or, with no trigger, it synchronizes again at once; an error is ``Synchronizing`` False Error with its message;
- the restic mover (internal/controller/mover/restic/mover.go): the source's data is the ``sourcePVC`` itself
  (``copyMethod: Direct``/``None``) or a copy of it, ``volsync-<name>-src`` (``Clone``; ``Snapshot`` through a
  VolumeSnapshot of that name), both temporary; a cache claim ``volsync-src-<name>-cache`` (``-dst-`` for a
  destination), 1Gi unless ``cacheCapacity``; the repository Secret must hold ``RESTIC_REPOSITORY`` and
  ``RESTIC_PASSWORD`` (utils.go SecretHasFields); a Job ``volsync-src-<name>`` (``volsync-dst-<name>``) labelled
  ``app.kubernetes.io/created-by: volsync`` and ``volsync.backube/cleanup: <owner uid>``, deleted when the sync
  cleans up (utils/cleanup.go); a Job that failed is deleted and made again, its logs in
  ``status.latestMoverStatus`` (Failed); a successful one's filtered restic lines (restic/logfilter.go) with
  ``result: Successful``;
- what the mover's script does (mover-restic/entry.sh): an empty volume is not backed up ("Directory is empty
  skipping backup"); ``restic backup --host volsync .`` in /data (the files at the snapshot's root, path
  ``/data``), then ``restic forget --host volsync`` with the retain policy's options (``--keep-last 1`` without
  one: generateForgetOptions); a restore takes, of the repository's snapshots of /data, the newest no later than
  ``restoreAsOf``, ``previous`` ones further back, and restores it into the volume (files in the snapshot
  overwrite, others stay unless ``enableFileDeletion``: ``--delete``); none: "No eligible snapshots found", the
  volume is left as it is;
- a destination restores into ``spec.restic.destinationPVC``, or into ``volsync-<name>-dest`` it makes
  (``capacity`` and ``accessModes`` required: "capacity must be provided when destinationPVC is not"), and its
  ``status.latestImage`` is that claim (``copyMethod: Direct``/``None``) or a VolumeSnapshot
  ``<claim>-<YYYYMMDDHHMMSS>`` of it (``Snapshot``; the previous image is deleted: utils.MarkOldSnapshotForCleanup),
  volumehandler.go EnsureImage;
- a claim whose ``dataSourceRef`` is a ReplicationDestination (its volume populator) or whose ``dataSource`` is a
  VolumeSnapshot holds the latest image's data when it is created.

The data is the rehearsal's (``Rehearsal.volumes``); restic repositories are ``Rehearsal.repositories``, shared
with K8up (k8up.py), by the Secret's ``RESTIC_REPOSITORY``.

Not emulated: the rsync, rsync-TLS, rclone, syncthing and external movers, and the kopia mover of the
perfectra1n/volsync fork (their objects get Synchronizing False Error), ``paused`` beyond holding the sync, prune
(``pruneIntervalDays``), unlock runs, the copy-trigger annotations, moverVolumes and custom CAs, metrics and Events;
a populated claim binds at once, where the populator keeps it Pending until the destination has an image.
"""

from __future__ import annotations

import base64
import copy
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.cluster.volsync import MOVERS
from mediaops.sim.k8up import cron_next, job_state, restore_into, set_condition, snapshot, snapshots
from mediaops.sim.manager import Key, Operator
from mediaops.sim.store import ApiError, WatchEvent, now

GROUP = "volsync.backube"
CREATED_BY = "app.kubernetes.io/created-by"  # internal/controller/utils/labels.go OwnedByLabelKey, value "volsync"
CLEANUP = "volsync.backube/cleanup"  # labels.go cleanupLabelKey
IMAGE = "quay.io/backube/volsync:0.17.0"
HOST = "volsync"  # mover-restic/entry.sh RESTIC_HOST
MOUNT = "/data"
BACKOFF_LIMIT = 8


class SyncError(Exception):
    """What stops a synchronization for now: ``Synchronizing`` False Error with this message, tried again."""


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() (metav1.Duration): ``1.5s``, ``2m3.25s``, ``250ms``."""
    if seconds < 1:
        return f"{seconds * 1000:.6f}".rstrip("0").rstrip(".") + "ms" if seconds > 0 else "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if minutes or hours:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def job_name(prefix: str, owner: dict[str, Any]) -> str:
    """utils.go GetJobName: prefix + the owner's name, or its CRC-32 when that is longer than 63."""
    name = prefix + owner["metadata"]["name"]
    return name if len(name) <= 63 else f"{prefix}{zlib.crc32(owner['metadata']['name'].encode()):08x}"


def forget(sim: Any, repository: str, retain: dict[str, Any] | None) -> None:
    """``restic forget --host volsync`` with generateForgetOptions' policy (``--keep-last 1`` by default), per group
    of host and paths (restic's default grouping)."""
    policy = {k: v for k, v in (retain or {}).items() if v is not None}
    if not policy:
        policy = {"last": 1}
    ours = [s for s in snapshots(sim, repository) if s["hostname"] == HOST]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for snap in ours:
        groups.setdefault(tuple(snap["paths"]), []).append(snap)
    buckets = {"hourly": "%Y%m%d%H", "daily": "%Y%m%d", "weekly": "%G%V", "monthly": "%Y%m", "yearly": "%Y"}
    drop: set[str] = set()
    for group in groups.values():
        newest_first = sorted(group, key=lambda s: s["time"], reverse=True)
        keep: set[str] = {s["id"] for s in newest_first[:int(policy.get("last") or 0)]}
        for rule, fmt in buckets.items():
            wanted, seen = int(policy.get(rule) or 0), set[str]()
            for snap in newest_first:
                bucket = snap["time"].strftime(fmt)
                if len(seen) < wanted and bucket not in seen:
                    seen.add(bucket)
                    keep.add(snap["id"])
        if policy.get("within"):
            horizon = newest_first[0]["time"] - _restic_duration(str(policy["within"]))
            keep |= {s["id"] for s in newest_first if s["time"] >= horizon}
        drop |= {s["id"] for s in group if s["id"] not in keep}
    with sim.store.lock:
        sim.repositories[repository] = [s for s in sim.repositories.get(repository) or [] if s["id"] not in drop]


def _restic_duration(text: str) -> timedelta:
    """restic's ``--keep-within`` duration (``1y2m3d4h``)."""
    total, number = timedelta(), ""
    for char in text:
        if char.isdigit():
            number += char
            continue
        count = int(number or 0)
        number = ""
        total += {"y": timedelta(days=365 * count), "m": timedelta(days=30 * count), "d": timedelta(days=count),
                  "h": timedelta(hours=count)}.get(char, timedelta())
    return total


class VolSync(Operator):
    """VolSync's ReplicationSource and ReplicationDestination controllers, the restic mover, its volume populator."""

    name = "volsync"
    group = GROUP
    kinds = ("ReplicationSource", "ReplicationDestination")
    watches = ("volsync.backube/ReplicationSource", "volsync.backube/ReplicationDestination", "Job",
               "CustomResourceDefinition")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.ran: dict[str, tuple[str, Any]] = {}  # Job uid -> (its logs, the restored snapshot's id or None)
        self.store.subscribers.append(self._populate)

    def keys_for(self, event: WatchEvent) -> list[Key]:
        own = self.own_keys(event)
        if own is not None:
            return own
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "Job":
            return [(meta.get("namespace", ""), f"{ref.get('kind')}/{ref.get('name')}")
                    for ref in meta.get("ownerReferences") or [] if ref.get("kind") in self.kinds]
        return []

    def reconcile(self, namespace: str, name: str) -> float | None:
        kind_name, _, object_name = name.partition("/")
        if kind_name not in ("ReplicationSource", "ReplicationDestination"):
            return None
        resource = self.res(f"{GROUP}/{kind_name}")
        obj = self.store.find(resource, namespace, object_name)
        if obj is None or not self.installed(resource) or obj["metadata"].get("deletionTimestamp"):
            return None
        return self._run(obj, kind_name == "ReplicationSource")

    # -- the state machine (statemachine/machine.go Run) --------------------------------------------------------
    def _run(self, obj: dict[str, Any], source: bool) -> float | None:
        spec = obj.get("spec") or {}
        status = copy.deepcopy(obj.get("status") or {})
        conditions = status.setdefault("conditions", [])
        trigger = spec.get("trigger") or {}
        manual, cron = str(trigger.get("manual") or ""), str(trigger.get("schedule") or "")
        try:
            if not isinstance(spec.get("restic"), dict):
                movers = [m for m in MOVERS[1:] if spec.get(m)]  # those after restic
                raise SyncError(f"the rehearsal's VolSync runs the restic mover only, not {movers[0]}" if movers
                                else "a replication method must be specified")
            if not status.get("lastSyncTime") and not status.get("lastSyncStartTime"):  # initial
                status["lastSyncStartTime"] = now()
                set_condition(conditions, "Synchronizing", "True", "SyncInProgress", "Synchronization in-progress")
                self._write(obj, status)
                return 0.001
            if status.get("lastSyncStartTime"):  # synchronizing
                if not self._synchronize(obj, status, source):
                    set_condition(conditions, "Synchronizing", "True", "SyncInProgress", "Synchronization in-progress")
                    self._write(obj, status)
                    return None if spec.get("paused") else self.timing.poll
                finished = datetime.now(UTC)
                started = datetime.strptime(status["lastSyncStartTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                status["lastSyncTime"] = now()
                status["lastSyncDuration"] = go_duration(max(0.0, (finished - started).total_seconds()))
                self._next_time(status, cron)
                if manual:
                    status["lastManualSync"] = manual
                else:
                    status.pop("lastManualSync", None)
                status.pop("lastSyncStartTime", None)
                set_condition(conditions, "Synchronizing", "False", "CleaningUp", "Cleaning up")
                self._write(obj, status)
                return 0.001
            # cleaning up, then idle until the trigger says to synchronize again
            self._cleanup(obj)
            self._next_time(status, cron)
            if manual:
                due = manual != status.get("lastManualSync")
            elif cron:
                due = datetime.now(UTC) >= datetime.strptime(status["nextSyncTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=UTC)
            else:
                due = True  # no trigger: synchronize again as soon as the last one is cleaned up
            if due:
                status["lastSyncStartTime"] = now()
                set_condition(conditions, "Synchronizing", "True", "SyncInProgress", "Synchronization in-progress")
                self._write(obj, status)
                return 0.001
            if cron and not manual:
                set_condition(conditions, "Synchronizing", "False", "WaitingForSchedule",
                              "Waiting for next scheduled synchronization")
            else:
                set_condition(conditions, "Synchronizing", "False", "WaitingForManual", "Waiting for manual trigger")
            self._write(obj, status)
            if cron and not manual:
                wait = datetime.strptime(status["nextSyncTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                return max(0.01, (wait - datetime.now(UTC)).total_seconds())
            return None
        except (SyncError, ValueError) as exc:
            set_condition(conditions, "Synchronizing", "False", "Error", str(exc))
            self._write(obj, status)
            return self.timing.retry

    @staticmethod
    def _next_time(status: dict[str, Any], cron: str) -> None:
        """machine.go updateNextSyncStartTime: the schedule's next time after the last sync; none otherwise."""
        if not cron:
            status.pop("nextSyncTime", None)
            return
        last = status.get("lastSyncTime")
        base = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if last else datetime.now(UTC)
        status["nextSyncTime"] = cron_next(cron, base).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if status != (obj.get("status") or {}):
            meta = obj["metadata"]
            self.store.set_status(self.res(f"{GROUP}/{obj['kind']}"), meta["namespace"], meta["name"], status)

    def _owned(self, obj: dict[str, Any], body: dict[str, Any], *, temporary: bool) -> dict[str, Any]:
        """An object VolSync makes: owned by the CR (controller), labelled as VolSync's, marked for cleanup."""
        meta = obj["metadata"]
        labels = {CREATED_BY: "volsync", **({CLEANUP: meta["uid"]} if temporary else {})}
        body["metadata"].update(namespace=meta["namespace"], labels={**labels, **body["metadata"].get("labels", {})},
                                ownerReferences=[{"apiVersion": f"{GROUP}/v1alpha1", "kind": obj["kind"],
                                                  "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}])
        return body

    def _ensure(self, kind_name: str, obj: dict[str, Any], body: dict[str, Any], *,
                temporary: bool) -> tuple[dict[str, Any], bool]:
        """(the object, whether it was made now)."""
        resource = self.res(kind_name)
        live = self.store.find(resource, obj["metadata"]["namespace"], body["metadata"]["name"])
        if live is not None:
            return live, False
        return self.store.create(resource, self._owned(obj, body, temporary=temporary)), True

    # -- Synchronize (restic/mover.go) --------------------------------------------------------------------------
    def _synchronize(self, obj: dict[str, Any], status: dict[str, Any], source: bool) -> bool:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        restic: dict[str, Any] = spec["restic"]
        method = str(restic.get("copyMethod") or "")
        claims = self.res("PersistentVolumeClaim")
        if source:
            source_claim = self.store.find(claims, namespace, str(spec.get("sourcePVC") or ""))
            if source_claim is None:
                raise SyncError(f'persistentvolumeclaims "{spec.get("sourcePVC")}" not found')
            data = self._source_data(obj, source_claim, method)
        else:
            data = self._destination_data(obj, restic)
        modes = restic.get("cacheAccessModes") or restic.get("accessModes") or (data.get("spec") or {}).get(
            "accessModes") or ["ReadWriteOnce"]
        cache_name = f"volsync-{'src' if source else 'dst'}-{name}-cache"
        self._ensure("PersistentVolumeClaim", obj, {
            "metadata": {"name": cache_name},
            "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": str(
                restic.get("cacheCapacity") or "1Gi")}},
                **({"storageClassName": restic["cacheStorageClassName"]} if restic.get("cacheStorageClassName")
                   else {})}}, temporary=not source and bool(restic.get("cleanupCachePVC")))
        account = job_name(f"volsync-{'src' if source else 'dst'}-", obj)
        self._ensure("ServiceAccount", obj, {"metadata": {"name": account}}, temporary=False)
        repository = self._repository(namespace, str(restic.get("repository") or ""))
        if spec.get("paused"):
            return False  # the mover Job's parallelism is 0: nothing runs
        job = self._job(obj, source, data, cache_name, account, restic)
        if job is None:
            return False
        state = job_state(job)
        if state == "failed":
            status["latestMoverStatus"] = {"result": "Failed",
                                           "logs": "ERROR: the mover Job failed (backoff limit reached)"}
            self.store.delete(self.res("Job"), namespace, job["metadata"]["name"])
            return False
        if state != "succeeded":
            return False
        uid = job["metadata"]["uid"]
        if uid not in self.ran:
            self.ran[uid] = self._restic(obj, source, data, repository, restic)
        logs, _ = self.ran[uid]
        status["latestMoverStatus"] = {"result": "Successful", "logs": logs}
        if source:
            return True
        image = self._image(obj, status, data, method)
        status["latestImage"] = image
        return True

    def _source_data(self, obj: dict[str, Any], claim: dict[str, Any], method: str) -> dict[str, Any]:
        """volumehandler.go EnsurePVCFromSrc: the claim itself, or a temporary copy of it."""
        if method in ("Direct", "None"):
            return claim
        if method not in ("Clone", "Snapshot"):
            raise SyncError(f"unsupported copyMethod: {method} -- must be Direct, None, Clone, or Snapshot")
        namespace, name = obj["metadata"]["namespace"], f"volsync-{obj['metadata']['name']}-src"
        files = dict(self.sim.volumes.get(("pvc", namespace, claim["metadata"]["name"]), {}))
        claim_spec = claim.get("spec") or {}
        body: dict[str, Any] = {"metadata": {"name": name},
                                "spec": {"accessModes": list(claim_spec.get("accessModes") or ["ReadWriteOnce"]),
                                         "resources": copy.deepcopy(claim_spec.get("resources") or {})}}
        if claim_spec.get("storageClassName"):
            body["spec"]["storageClassName"] = claim_spec["storageClassName"]
        if method == "Snapshot":
            _, made = self._ensure("VolumeSnapshot", obj, {
                "metadata": {"name": name},
                "spec": {"source": {"persistentVolumeClaimName": claim["metadata"]["name"]}}}, temporary=True)
            if made:
                self._snapshot_ready(namespace, name, files)
            body["spec"]["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                          "name": name}
        else:
            body["spec"]["dataSource"] = {"kind": "PersistentVolumeClaim", "name": claim["metadata"]["name"]}
        copied, made = self._ensure("PersistentVolumeClaim", obj, body, temporary=True)
        if made:
            self.sim.volumes[("pvc", namespace, name)] = files  # the point-in-time copy
        return copied

    def _destination_data(self, obj: dict[str, Any], restic: dict[str, Any]) -> dict[str, Any]:
        """restic/mover.go ensureDestinationPVC: destinationPVC, or ``volsync-<name>-dest`` made for it."""
        namespace = obj["metadata"]["namespace"]
        provided = restic.get("destinationPVC")
        if provided:
            claim = self.store.find(self.res("PersistentVolumeClaim"), namespace, str(provided))
            if claim is None:
                raise SyncError(f'persistentvolumeclaims "{provided}" not found')
            return claim
        if not restic.get("accessModes"):
            raise SyncError("accessModes must be provided when destinationPVC is not")
        if not restic.get("capacity"):
            raise SyncError("capacity must be provided when destinationPVC is not")
        body: dict[str, Any] = {"metadata": {"name": f"volsync-{obj['metadata']['name']}-dest"},
                                "spec": {"accessModes": list(restic["accessModes"]),
                                         "resources": {"requests": {"storage": str(restic["capacity"])}}}}
        if restic.get("storageClassName"):
            body["spec"]["storageClassName"] = restic["storageClassName"]
        claim, _ = self._ensure("PersistentVolumeClaim", obj, body, temporary=bool(restic.get("cleanupTempPVC")))
        return claim

    def _repository(self, namespace: str, secret_name: str) -> str:
        """restic/mover.go validateRepository: the Secret with RESTIC_REPOSITORY and RESTIC_PASSWORD."""
        secret = self.store.find(self.res("Secret"), namespace, secret_name)
        if secret is None:
            raise SyncError(f'secrets "{secret_name}" not found')
        data = {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}
        data.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
        fields = ["RESTIC_REPOSITORY", "RESTIC_PASSWORD"]
        if len(data) < len(fields):
            raise SyncError(f"secret should have fields: [{' '.join(fields)}]")
        missing = next((f for f in fields if f not in data), None)
        if missing:
            raise SyncError(f"secret is missing field: {missing}")
        return data["RESTIC_REPOSITORY"]

    def _job(self, obj: dict[str, Any], source: bool, data: dict[str, Any], cache: str, account: str,
             restic: dict[str, Any]) -> dict[str, Any] | None:
        """restic/mover.go ensureJob: the mover Job (None when it was made just now)."""
        namespace = obj["metadata"]["namespace"]
        name = job_name(f"volsync-{'src' if source else 'dst'}-", obj)
        live = self.store.find(self.res("Job"), namespace, name)
        if live is not None:
            return live
        secret = str(restic.get("repository") or "")
        env = [{"name": "FORGET_OPTIONS", "value": ""}, {"name": "DATA_DIR", "value": MOUNT},
               {"name": "RESTIC_CACHE_DIR", "value": "/cache"},
               {"name": "RESTORE_AS_OF", "value": str(restic.get("restoreAsOf") or "")},
               {"name": "SELECT_PREVIOUS", "value": str(restic.get("previous") or 0)},
               {"name": "RESTORE_OPTIONS", "value": "--delete" if restic.get("enableFileDeletion") else ""},
               *({"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
                 for key in ("RESTIC_REPOSITORY", "RESTIC_PASSWORD")),
               {"name": "PRIVILEGED_MOVER", "value": "0"}]
        pod: dict[str, Any] = {
            "restartPolicy": "Never", "serviceAccountName": account,
            "containers": [{"name": "restic", "image": IMAGE, "command": ["/mover-restic/entry.sh"],
                            "args": ["backup"] if source else ["restore"], "env": env,
                            "volumeMounts": [{"name": "data", "mountPath": MOUNT},
                                             {"name": "cache", "mountPath": "/cache"},
                                             {"name": "tempdir", "mountPath": "/tmp"}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": data["metadata"]["name"]}},
                        {"name": "cache", "persistentVolumeClaim": {"claimName": cache}},
                        {"name": "tempdir", "emptyDir": {"medium": "Memory"}}]}
        if str(restic.get("copyMethod") or "") in ("Direct", "None"):
            # utils/affinity.go AffinityFromVolume: on the node of a running pod that uses the claim
            users = [p for p in self.store.select(self.res("Pod"), namespace)[0]
                     if (p.get("status") or {}).get("phase") == "Running" and any(
                         (v.get("persistentVolumeClaim") or {}).get("claimName") == data["metadata"]["name"]
                         for v in (p.get("spec") or {}).get("volumes") or [])]
            if users and (users[0].get("spec") or {}).get("nodeName"):
                pod["nodeSelector"] = {"kubernetes.io/hostname": users[0]["spec"]["nodeName"]}
        self.store.create(self.res("Job"), self._owned(obj, {
            "metadata": {"name": name},
            "spec": {"backoffLimit": BACKOFF_LIMIT, "parallelism": 1,
                     "template": {"metadata": {"name": name, "labels": {CREATED_BY: "volsync"}}, "spec": pod}}},
            temporary=True))
        return None

    def _restic(self, obj: dict[str, Any], source: bool, data: dict[str, Any], repository: str,
                restic: dict[str, Any]) -> tuple[str, Any]:
        """What mover-restic/entry.sh did in the Job: (the lines restic/logfilter.go keeps, the restored id)."""
        key = ("pvc", obj["metadata"]["namespace"], data["metadata"]["name"])
        files = dict(self.sim.volumes.get(key, {}))
        lines: list[str] = []
        new = repository not in self.sim.repositories
        if source and not files:
            return "== Directory is empty skipping backup ===\nRestic completed in 0s", None
        if new:
            self.sim.repositories.setdefault(repository, [])
            lines += ["=== Initialize Dir ===",
                      f"created restic repository {abs(hash(repository)) % 16**10:010x} at {repository}"]
        if source:
            taken = snapshot(self.sim, repository, HOST, MOUNT, files)
            lines += [f"processed {len(files)} files, {sum(len(v) for v in files.values())} B in 0:00",
                      f"snapshot {taken['id'][:8]} saved"]
            forget(self.sim, repository, restic.get("retain"))
            return "\n".join([*lines, "Restic completed in 1s"]), None
        chosen = self._select(repository, restic)
        if chosen is None:
            lines += ["No eligible snapshots found", "=== No data will be restored ==="]
            return "\n".join([*lines, "Restic completed in 0s"]), None
        if restic.get("enableFileDeletion"):
            lines.append("RESTORE_OPTIONS: --delete")
        restore_into(self.sim, key, dict(chosen["tree"]), delete=bool(restic.get("enableFileDeletion")))
        lines.append(f"restoring <Snapshot {chosen['id'][:8]} of [{' '.join(chosen['paths'])}] at "
                     f"{chosen['time'].strftime('%Y-%m-%d %H:%M:%S')} by root@{chosen['hostname']}> to .")
        return "\n".join([*lines, "Restic completed in 1s"]), chosen["id"]

    def _select(self, repository: str, restic: dict[str, Any]) -> dict[str, Any] | None:
        """entry.sh select_restic_snapshot_to_restore: of the snapshots of /data, newest first, the first no later
        than RESTORE_AS_OF, then SELECT_PREVIOUS further back."""
        found = [s for s in snapshots(self.sim, repository) if any("/data" in p for p in s["paths"])]
        newest_first = list(reversed(found))
        offset = 0
        as_of = restic.get("restoreAsOf")
        if as_of:
            target = datetime.fromisoformat(str(as_of).replace("Z", "+00:00"))
            target = target if target.tzinfo else target.replace(tzinfo=UTC)
            while offset < len(newest_first) and newest_first[offset]["time"].replace(microsecond=0) > target:
                offset += 1
        offset += int(restic.get("previous") or 0)
        return newest_first[offset] if offset < len(newest_first) else None

    def _image(self, obj: dict[str, Any], status: dict[str, Any], data: dict[str, Any], method: str) -> dict[str, Any]:
        """volumehandler.go EnsureImage: the claim (Direct, None) or a VolumeSnapshot of it (Snapshot)."""
        if method in ("Direct", "None"):
            return {"apiGroup": "", "kind": "PersistentVolumeClaim", "name": data["metadata"]["name"]}
        if method != "Snapshot":
            raise SyncError(f"unsupported copyMethod: {method} -- must be Direct, None, or Snapshot")
        namespace = obj["metadata"]["namespace"]
        name = f"{data['metadata']['name']}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}"
        previous = status.get("latestImage") or {}
        _, made = self._ensure("VolumeSnapshot", obj, {
            "metadata": {"name": name},
            "spec": {"source": {"persistentVolumeClaimName": data["metadata"]["name"]}}}, temporary=False)
        if made:
            self._snapshot_ready(namespace, name, dict(self.sim.volumes.get(("pvc", namespace,
                                                                             data["metadata"]["name"]), {})))
        if previous.get("kind") == "VolumeSnapshot" and previous.get("name") != name:
            # utils.MarkOldSnapshotForCleanup: the previous image goes when this sync cleans up
            old = self.store.find(self.res("VolumeSnapshot"), namespace, str(previous.get("name")))
            if old is not None:
                self.store.update(self.res("VolumeSnapshot"), namespace, old["metadata"]["name"], lambda o: o[
                    "metadata"].setdefault("labels", {}).update({CLEANUP: obj["metadata"]["uid"]}))
        return {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": name}

    def _snapshot_ready(self, namespace: str, name: str, files: dict[str, bytes]) -> None:
        """The CSI snapshotter's part: the snapshot is bound and ready, holding the claim's data as it was."""
        self.sim.volumes[("snapshot", namespace, name)] = files
        self.store.set_status(self.res("VolumeSnapshot"), namespace, name, {
            "readyToUse": True, "boundVolumeSnapshotContentName": f"snapcontent-{name}", "creationTime": now(),
            "restoreSize": f"{max(1, sum(len(v) for v in files.values()))}"})

    def _cleanup(self, obj: dict[str, Any]) -> None:
        """utils/cleanup.go CleanupObjects: the Job, claims and snapshots marked for this CR go."""
        namespace, uid = obj["metadata"]["namespace"], obj["metadata"]["uid"]
        for kind_name in ("PersistentVolumeClaim", "VolumeSnapshot", "Job"):
            resource = self.res(kind_name)
            for item in self.store.select(resource, namespace, f"{CLEANUP}={uid}")[0]:
                try:
                    self.store.delete(resource, namespace, item["metadata"]["name"])
                except ApiError:
                    pass
                if kind_name == "VolumeSnapshot":
                    self.sim.volumes.pop(("snapshot", namespace, item["metadata"]["name"]), None)

    # -- the volume populator (volumepopulator_controller.go) and restores from VolumeSnapshots ----------------
    def _populate(self, event: WatchEvent) -> None:
        if event.type != "ADDED" or event.resource.kind != "PersistentVolumeClaim" or event.resource.group:
            return
        meta, spec = event.obj.get("metadata") or {}, event.obj.get("spec") or {}
        namespace = meta.get("namespace", "")
        source = spec.get("dataSourceRef") or spec.get("dataSource") or {}
        image: dict[str, Any] = source
        if source.get("kind") == "ReplicationDestination" and source.get("apiGroup") == GROUP:
            resource = self.res(f"{GROUP}/ReplicationDestination")
            if not self.installed(resource):
                return
            destination = self.store.find(resource, namespace, str(source.get("name")))
            image = ((destination or {}).get("status") or {}).get("latestImage") or {}
        if image.get("kind") == "VolumeSnapshot":
            files = self.sim.volumes.get(("snapshot", namespace, str(image.get("name"))))
        elif image.get("kind") == "PersistentVolumeClaim":  # a clone (CSI), or a destination's claim image
            files = self.sim.volumes.get(("pvc", namespace, str(image.get("name"))))
        else:
            return
        if files is not None:
            self.sim.volumes[("pvc", namespace, meta.get("name", ""))] = dict(files)
