"""Velero's server and node agent, as far as backups and restores of an app go.

Followed from vmware-tanzu/velero (v1.17/main):

- phases: a Backup goes ``New → Queued → ReadyToStart`` (pkg/controller/backup_queue_controller.go),
  ``→ InProgress`` (backup_controller.go), then ``WaitingForPluginOperations[PartiallyFailed]`` while
  asynchronous plugin operations run, ``Finalizing[PartiallyFailed]`` (backup_finalizer_controller.go) and
  ``Completed`` or ``PartiallyFailed``; a Restore ``New → InProgress → Finalizing → Completed``
  (restore_controller.go, restore_finalizer_controller.go);
- volume data is captured only by file-system backup or snapshots. File-system backup takes the volumes of
  the backed-up *pods*: all of them when ``defaultVolumesToFsBackup`` is true (the Backup's field, else the
  server's ``--default-volumes-to-fs-backup``, off by default), else those the pod's
  ``backup.velero.io/backup-volumes`` annotation names; never hostPath, Secret, ConfigMap, projected or
  downward-API volumes (pkg/util/podvolume/pod_volume.go GetVolumesByPod); a volume policy of the
  Backup's ``resourcePolicy`` ConfigMap may ``skip`` it (internal/resourcepolicies). A pod that is not
  running has its volumes skipped *without an error*; a node without a running node-agent pod is an error
  (pkg/podvolume/backupper.go, pkg/nodeagent/node_agent.go). The rehearsal has no snapshot provider, so
  without file-system backup a volume's data is not in the backup at all;
- a backed-up pod brings the PVCs it mounts into the backup, labelled or not (pkg/backup/actions/pod_action.go);
- restore (pkg/restore/restore.go restoreItem): an object that does not exist is created; one that exists
  and differs is skipped with the warning ``could not restore, <Kind>:<name> already exists…`` unless
  ``existingResourcePolicy: update``, which patches it; a PVC's data comes back only with a PVC the
  restore creates.

Not emulated: pods and ReplicaSets are not restored as objects (their owners make them again; the data
of a restored PVC is put back at once instead of through the restore-helper init container), snapshots,
the data mover, object storage and `velero backup describe`'s item lists.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from mediaops.cluster import velero
from mediaops.cluster.kinds import RESOURCES, Resource
from mediaops.repo.yamlfiles import YamlError, parse
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import ApiError, WatchEvent, now

# What a backup never holds here: the cluster's bookkeeping, and Velero's own objects.
SKIPPED_KINDS = {"Event", "Lease", "Backup", "Restore", "PodVolumeBackup", "PodVolumeRestore", "Namespace"}
# Restored by their owners, not as objects (see the module's docstring).
NOT_RESTORED = {"Pod", "ReplicaSet", "Job"}
NOT_FS_BACKED = ("hostPath", "secret", "configMap", "projected", "downwardAPI")
BACKUP_FLOW = {"New": "Queued", "Queued": "ReadyToStart", "ReadyToStart": "InProgress",
               "WaitingForPluginOperations": "Finalizing",
               "WaitingForPluginOperationsPartiallyFailed": "FinalizingPartiallyFailed",
               "Finalizing": "Completed", "FinalizingPartiallyFailed": "PartiallyFailed"}
TERMINAL = {"Completed", "PartiallyFailed", "Failed", "FailedValidation", "Deleting"}


def _ttl_end(value: str) -> str:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value or "")
    hours, minutes, seconds = (int(g or 0) for g in (match.groups() if match else (720, 0, 0)))
    stamp = datetime.now(UTC).timestamp() + hours * 3600 + minutes * 60 + seconds
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def _policy_action(policies: list[dict[str, Any]], volume: dict[str, Any], claim: dict[str, Any] | None) -> str:
    """The action of the first volume policy whose conditions all hold (internal/resourcepolicies)."""
    for policy in policies:
        conditions = policy.get("conditions") or {}
        held = True
        for key, value in conditions.items():
            if key == "nfs":
                nfs = volume.get("nfs")
                held = nfs is not None and all(nfs.get(k) == v for k, v in (value or {}).items())
            elif key == "pvcLabels":
                labels = ((claim or {}).get("metadata") or {}).get("labels") or {}
                held = claim is not None and all(labels.get(k) == v for k, v in (value or {}).items())
            elif key == "storageClass":
                held = claim is not None and ((claim.get("spec") or {}).get("storageClassName") in (value or []))
            else:  # capacity, csi, volumeTypes...: the rehearsal's volumes do not carry them
                held = False
            if not held:
                break
        if held:
            return str((policy.get("action") or {}).get("type", ""))
    return ""


class Velero(Controller):
    """Velero's server, once its chart has installed it (the API serves velero.io only while its CRDs exist):
    backups, restores, the storage locations' validation; and the node agent's pods (Rehearsal.node_agents)."""

    name = "velero"
    watches = ("velero.io/Backup", "velero.io/Restore", "velero.io/BackupStorageLocation", "DaemonSet")
    server_default_fs_backup = False  # velero server --default-volumes-to-fs-backup (off unless configured)

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        # What the backup storage location holds: per backup, its objects and its volumes' files.
        self.held: dict[str, dict[str, Any]] = {}

    def keys_for(self, event: WatchEvent) -> list[Key]:
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "DaemonSet" and meta.get("name") != "node-agent":
            return []
        return [(meta.get("namespace", ""), f"{event.resource.kind}/{meta.get('name', '')}")]

    def reconcile(self, namespace: str, name: str) -> float | None:
        kind_name, _, object_name = name.partition("/")
        if kind_name == "DaemonSet":
            self.sim.node_agents()
            return None
        obj = self.store.find(self.res(f"velero.io/{kind_name}"), namespace, object_name)
        if obj is None:
            return None
        if kind_name == "BackupStorageLocation":
            return self._validate_location(obj)
        if namespace != self.server_namespace():
            return None  # the server watches its own namespace only (pkg/cmd/server/server.go)
        status = dict(obj.get("status") or {})
        phase = status.get("phase") or "New"
        if phase in TERMINAL:
            return None
        if kind_name == "Backup":
            return self._backup(obj, status, phase)
        return self._restore(obj, status, phase)

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.store.set_status(self.res(f"velero.io/{obj['kind']}"), meta["namespace"], meta["name"], status)

    def server_namespace(self) -> str:
        """Where the rehearsal's Velero server runs: with its storage locations (the chart's release namespace)."""
        locations = list(self.store.all_of(self.res("velero.io/BackupStorageLocation")))
        default = [loc for loc in locations if (loc.get("spec") or {}).get("default")] or locations
        return str(default[0]["metadata"]["namespace"]) if default else velero.NAMESPACE

    def _validate_location(self, obj: dict[str, Any]) -> float | None:
        """pkg/controller/backup_storage_location_controller.go: the server validates each location (its object
        store reachable) and reports ``phase`` Available or Unavailable with ``lastValidationTime``, again every
        ``validationFrequency`` (default 1m). The rehearsal's object store is reachable once a location names a
        provider and a bucket (the chart's default location names neither)."""
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        if spec.get("provider") and (spec.get("objectStorage") or {}).get("bucket"):
            phase, message = "Available", ""
        else:
            phase, message = "Unavailable", (f"BackupStorageLocation \"{obj['metadata']['name']}\" is unavailable: "
                                             "no provider or bucket configured")
        if (status.get("phase"), status.get("message", "")) != (phase, message):
            self._write(obj, {**{k: v for k, v in status.items() if k != "message"}, "phase": phase,
                              "lastValidationTime": now(), **({"message": message} if message else {})})
        return None

    # -- backups ----------------------------------------------------------------------------------------
    def _backup(self, obj: dict[str, Any], status: dict[str, Any], phase: str) -> float | None:
        spec = obj.get("spec") or {}
        if phase == "New":
            errors = self._validate_backup(obj["metadata"]["namespace"], spec)
            if errors:
                status.update(phase="FailedValidation", validationErrors=errors)
            else:
                status.update(phase="Queued", queuePosition=1)
            self._write(obj, status)
            return None if errors else self.timing.backup_tick
        if phase == "ReadyToStart":
            items, volumes, errors = self._capture(obj)
            self.held[obj["metadata"]["name"]] = {"items": items, "volumes": volumes}
            status.pop("queuePosition", None)
            status.update(phase="InProgress", startTimestamp=now(), expiration=_ttl_end(str(spec.get("ttl", ""))),
                          formatVersion="1.1.0", version=1, errors=len(errors),
                          progress={"totalItems": len(items), "itemsBackedUp": 0})
            if errors:
                status["mediaops.sim/errors"] = errors  # kept for `velero backup logs`; not a Velero field
            self._write(obj, status)
            return self.timing.backup_tick
        if phase == "InProgress":
            progress = dict(status.get("progress") or {})
            total = int(progress.get("totalItems", 0))
            progress["itemsBackedUp"] = min(total, int(progress.get("itemsBackedUp", 0))
                                            + max(1, -(-total // self.timing.backup_steps)))
            status["progress"] = progress
            if progress["itemsBackedUp"] >= total:
                if self.sim.faults.get("backup-partial"):  # an asynchronous plugin operation fails
                    status.update(phase="WaitingForPluginOperationsPartiallyFailed", errors=status.get("errors", 0) + 1,
                                  warnings=2, failureReason="")
                else:
                    status["phase"] = "FinalizingPartiallyFailed" if status.get("errors") else "Finalizing"
            self._write(obj, status)
            return self.timing.backup_tick
        status["phase"] = BACKUP_FLOW.get(phase, "Completed")
        if status["phase"] in TERMINAL:
            status.setdefault("warnings", 0)
            status.update(completionTimestamp=now())
            status.pop("mediaops.sim/errors", None)
        self._write(obj, status)
        return None if status["phase"] in TERMINAL else self.timing.backup_tick

    def _validate_backup(self, namespace: str, spec: dict[str, Any]) -> list[str]:
        location = str(spec.get("storageLocation") or "default")
        bsl = self.store.find(self.res("BackupStorageLocation"), namespace, location)
        if bsl is None:
            return [f"a BackupStorageLocation CRD with the name specified in the backup spec needs to be created "
                    f"before this backup can be executed. Error: backupstoragelocations.velero.io \"{location}\" "
                    "not found"]
        if (bsl.get("status") or {}).get("phase") != "Available":
            return [f"backup storage location {location} is unavailable"]
        policy = spec.get("resourcePolicy") or {}
        if policy and self.store.find(self.res("ConfigMap"), namespace, str(policy.get("name"))) is None:
            return [f"failed to get resource policies {policy.get('name')}/{namespace} configmap with err "
                    f"configmaps \"{policy.get('name')}\" not found"]
        return []

    def _policies(self, namespace: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        ref = spec.get("resourcePolicy") or {}
        if not ref:
            return []
        config = self.store.find(self.res("ConfigMap"), namespace, str(ref.get("name"))) or {}
        for text in (config.get("data") or {}).values():
            try:
                doc = parse(str(text))
            except YamlError:
                return []
            docs = doc if isinstance(doc, list) else [doc]
            for item in docs:
                if isinstance(item, dict):
                    return [p for p in item.get("volumePolicies") or [] if isinstance(p, dict)]
        return []

    def _capture(self, backup: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
        """The objects the backup holds, the files of the volumes it backed up, and its errors."""
        spec = backup.get("spec") or {}
        selector = spec.get("labelSelector") or {}
        namespaces = spec.get("includedNamespaces") or ["*"]
        items: dict[tuple[str, str, str], dict[str, Any]] = {}

        def take(resource: Resource, obj: dict[str, Any]) -> None:
            items[(resource.kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = (
                copy.deepcopy(obj))

        for resource in list(RESOURCES):
            if not resource.namespaced or resource.kind in SKIPPED_KINDS:
                continue
            for namespace in namespaces:
                found, _ = self.store.select(resource, None if namespace == "*" else namespace)
                for obj in found:
                    if _matches(selector, obj["metadata"].get("labels") or {}):
                        take(resource, obj)
        # The pod action: a backed-up pod brings the claims it mounts.
        claims = self.res("PersistentVolumeClaim")
        pods = [o for (k, _, _), o in items.items() if k == "Pod"]
        for pod in pods:
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                held = self.store.find(claims, pod["metadata"]["namespace"], claim) if claim else None
                if held is not None:
                    take(claims, held)
        volumes, errors = self._fs_backup(backup, pods)
        return list(items.values()), volumes, errors

    def _fs_backup(self, backup: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
        spec = backup.get("spec") or {}
        default = spec.get("defaultVolumesToFsBackup")
        by_default = self.server_default_fs_backup if default is None else bool(default)
        policies = self._policies(backup["metadata"]["namespace"], spec)
        agents = {p["spec"].get("nodeName") for p in self.store.select(self.res("Pod"), self.server_namespace(),
                                                                      "role=node-agent")[0] if _running(p)}
        held: dict[str, Any] = {}
        errors: list[str] = []
        for pod in pods:
            meta, pod_spec = pod["metadata"], pod.get("spec") or {}
            annotated = [v for v in ((meta.get("annotations") or {}).get("backup.velero.io/backup-volumes") or ""
                                     ).split(",") if v]
            excluded = ((meta.get("annotations") or {}).get("backup.velero.io/backup-volumes-excludes") or ""
                        ).split(",")
            chosen = []
            for volume in pod_spec.get("volumes") or []:
                name = volume.get("name", "")
                if by_default and (any(k in volume for k in NOT_FS_BACKED) or name in excluded):
                    continue
                if not by_default and name not in annotated:
                    continue
                claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                claim = self.store.find(self.res("PersistentVolumeClaim"), meta["namespace"], claim_name) \
                    if claim_name else None
                if _policy_action(policies, volume, claim) == "skip":
                    continue
                chosen.append((volume, claim_name))
            if not chosen or not _running(pod):  # a pod that is not running: skipped, and no error
                continue
            if pod_spec.get("nodeName") not in agents:
                errors.append(f"pod {meta['namespace']}/{meta['name']}: daemonset pod not found in running state "
                              f"in node {pod_spec.get('nodeName')}")
                continue
            for volume, claim_name in chosen:
                files = dict(self.sim.volumes.get(("pvc", meta["namespace"], claim_name), {})) if claim_name else {}
                size = sum(len(v) for v in files.values())
                self.store.create(self.res("PodVolumeBackup"), {
                    "metadata": {"name": f"{backup['metadata']['name']}-{uuid.uuid4().hex[:5]}",
                                 "namespace": backup["metadata"]["namespace"],
                                 "labels": {"velero.io/backup-name": backup["metadata"]["name"],
                                            **({"velero.io/pvc-name": claim_name} if claim_name else {})}},
                    "spec": {"backupStorageLocation": spec.get("storageLocation") or "default",
                             "node": pod_spec.get("nodeName"), "uploaderType": "kopia",
                             "pod": {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"],
                                     "uid": meta.get("uid")},
                             "volume": volume.get("name"),
                             "tags": {"backup": backup["metadata"]["name"], "pod": meta["name"],
                                      "volume": volume.get("name"), **({"pvc": claim_name} if claim_name else {})}},
                    "status": {"phase": "Completed", "startTimestamp": now(), "completionTimestamp": now(),
                               "progress": {"totalBytes": size, "bytesDone": size},
                               "snapshotID": uuid.uuid4().hex[:16], "path": f"/host_pods/{meta.get('uid')}/volumes"}})
                if claim_name:
                    held[f"{meta['namespace']}/{claim_name}"] = files
        return held, errors

    # -- restores ---------------------------------------------------------------------------------------
    def _restore(self, obj: dict[str, Any], status: dict[str, Any], phase: str) -> float | None:
        spec = obj.get("spec") or {}
        backup_name = str(spec.get("backupName", ""))
        if phase == "New":
            backup = self.store.find(self.res("Backup"), obj["metadata"]["namespace"], backup_name)
            errors = []
            if backup is None:
                errors = [f"backup {backup_name} not found"]
            elif (backup.get("status") or {}).get("phase") not in ("Completed", "PartiallyFailed"):
                errors = [f"backup {backup_name} is not complete"]
            elif spec.get("existingResourcePolicy") not in (None, "", "none", "update"):
                errors = [f"invalid existingResourcePolicy {spec.get('existingResourcePolicy')}"]
            if errors:
                status.update(phase="FailedValidation", validationErrors=errors)
                self._write(obj, status)
                return None
            status.update(phase="InProgress", startTimestamp=now())
            self._write(obj, status)
            return self.timing.backup_tick
        if phase == "InProgress":
            restored, warnings, errors = self._put_back(obj, self.held.get(backup_name) or {"items": [], "volumes": {}})
            status.update(phase="FinalizingPartiallyFailed" if errors else "Finalizing", warnings=len(warnings),
                          errors=len(errors), progress={"totalItems": restored, "itemsRestored": restored})
            self._write(obj, status)
            return self.timing.backup_tick
        status["phase"] = {"Finalizing": "Completed", "FinalizingPartiallyFailed": "PartiallyFailed"}.get(
            phase, "Completed")
        status["completionTimestamp"] = now()
        self._write(obj, status)
        return None

    def _put_back(self, restore: dict[str, Any], held: dict[str, Any]) -> tuple[int, list[str], list[str]]:
        spec = restore.get("spec") or {}
        restore_name, backup_name = restore["metadata"]["name"], str(spec.get("backupName", ""))
        update = spec.get("existingResourcePolicy") == "update"
        included = {r.lower() for r in spec.get("includedResources") or []}
        excluded = {r.lower() for r in spec.get("excludedResources") or []}
        namespaces = set(spec.get("includedNamespaces") or ["*"])
        warnings: list[str] = []
        errors: list[str] = []
        count = 0
        # Velero restores claims before what mounts them (its default resource priorities).
        ordered = sorted(held["items"], key=lambda o: (o["kind"] != "PersistentVolumeClaim",
                                                       o["kind"] not in ("Secret", "ConfigMap")))
        for item in ordered:
            resource = next((r for r in RESOURCES if r.kind == item["kind"]
                             and r.api_version == item.get("apiVersion")), None)
            if resource is None or item["kind"] in NOT_RESTORED:
                continue
            names = {resource.plural, f"{resource.plural}.{resource.group}".rstrip(".")}
            if (included and not names & included and "*" not in included) or names & excluded:
                continue
            namespace = item["metadata"].get("namespace", "")
            if "*" not in namespaces and namespace not in namespaces:
                continue
            wanted = copy.deepcopy(item)
            wanted.pop("status", None)
            meta = wanted["metadata"]
            for field_name in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                               "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(field_name, None)
            meta.setdefault("labels", {}).update({"velero.io/backup-name": backup_name,
                                                  "velero.io/restore-name": restore_name})
            current = self.store.find(resource, namespace, meta["name"])
            if current is None:
                try:
                    self.store.create(resource, wanted)
                except ApiError as exc:
                    errors.append(f"error restoring {resource.plural}/{namespace}/{meta['name']}: {exc}")
                    continue
                count += 1
                if item["kind"] == "PersistentVolumeClaim":
                    self._put_data(restore, namespace, meta["name"], held)
                continue
            if _same(current, item):
                continue  # "Restore of X skipped: it already exists in the cluster and is the same"
            if not update:
                warnings.append(f"could not restore, {item['kind']}:{meta['name']} already exists. Warning: the "
                                "in-cluster version is different than the backed-up version")
                continue

            def patch(live: dict[str, Any], wanted: dict[str, Any] = wanted) -> None:
                for key, value in wanted.items():
                    if key not in ("metadata", "status", "apiVersion", "kind"):
                        live[key] = value
                live["metadata"].setdefault("labels", {}).update(wanted["metadata"].get("labels") or {})
                live["metadata"].setdefault("annotations", {}).update(wanted["metadata"].get("annotations") or {})

            self.store.update(resource, namespace, meta["name"], patch)
            count += 1
        return count, warnings, errors

    def _put_data(self, restore: dict[str, Any], namespace: str, claim: str, held: dict[str, Any]) -> None:
        files = held["volumes"].get(f"{namespace}/{claim}")
        if files is None:
            return  # the backup holds the claim, not its data: it comes back empty
        self.sim.volumes[("pvc", namespace, claim)] = dict(files)
        self.store.create(self.res("PodVolumeRestore"), {
            "metadata": {"name": f"{restore['metadata']['name']}-{uuid.uuid4().hex[:5]}",
                         "namespace": restore["metadata"]["namespace"],
                         "labels": {"velero.io/restore-name": restore["metadata"]["name"],
                                    "velero.io/pvc-name": claim}},
            "spec": {"pod": {"kind": "Pod", "namespace": namespace}, "volume": claim,
                     "backupStorageLocation": "default", "uploaderType": "kopia"},
            "status": {"phase": "Completed", "completionTimestamp": now(),
                       "progress": {"totalBytes": sum(len(v) for v in files.values()),
                                    "bytesDone": sum(len(v) for v in files.values())}}})


def _same(live: dict[str, Any], backed_up: dict[str, Any]) -> bool:
    """Whether the in-cluster object is what the backup holds (metadata and status aside)."""
    def body(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in ("metadata", "status")}

    labels = {k: v for k, v in (live["metadata"].get("labels") or {}).items() if not k.startswith("velero.io/")}
    return body(live) == body(backed_up) and labels == (backed_up["metadata"].get("labels") or {})
