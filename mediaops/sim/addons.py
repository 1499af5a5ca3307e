"""Velero and External Secrets, as far as the runbooks touch them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.sim.flux import interval, ready_condition
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import WatchEvent, now

TEMPLATE_FIELD = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}")


def _ttl(value: str) -> timedelta:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value or "")
    hours, minutes, seconds = (int(g or 0) for g in (match.groups() if match else (720, 0, 0)))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


class Velero(Controller):
    """Backup and Restore: New -> InProgress (progress advancing) -> Completed, or the injected failure."""

    name = "velero"
    watches = ("Backup", "Restore")

    def keys_for(self, event: WatchEvent) -> list[Key]:
        meta = event.obj.get("metadata") or {}
        return [(meta.get("namespace", ""), f"{event.resource.kind}/{meta.get('name', '')}")]

    def reconcile(self, namespace: str, name: str) -> float | None:
        kind_name, _, object_name = name.partition("/")
        obj = self.store.find(self.res(kind_name), namespace, object_name)
        if obj is None:
            return None
        status = dict(obj.get("status") or {})
        phase = status.get("phase", "New")
        if phase in ("Completed", "PartiallyFailed", "Failed", "FailedValidation"):
            return None
        spec = obj.get("spec") or {}
        if phase == "New":
            errors = self._validate(kind_name, namespace, spec)
            if errors:
                status.update(phase="FailedValidation", validationErrors=errors)
                self.store.set_status(self.res(kind_name), namespace, object_name, status)
                return None
            total = self._count(kind_name, spec)
            status.update(phase="InProgress", startTimestamp=now(), progress={"totalItems": total, **(
                {"itemsBackedUp": 0} if kind_name == "Backup" else {"itemsRestored": 0})})
            if kind_name == "Backup":
                status.update(expiration=(datetime.now(UTC) + _ttl(str(spec.get("ttl", "720h")))).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"), formatVersion="1.1.0", version=1)
            self.store.set_status(self.res(kind_name), namespace, object_name, status)
            return self.timing.backup_tick
        progress = dict(status.get("progress") or {})
        field = "itemsBackedUp" if kind_name == "Backup" else "itemsRestored"
        total = int(progress.get("totalItems", 0))
        step = max(1, -(-total // self.timing.backup_steps))
        progress[field] = min(total, int(progress.get(field, 0)) + step)
        status["progress"] = progress
        if progress[field] >= total:
            partial = kind_name == "Backup" and self.sim.faults.get("backup-partial")
            status.update(phase="PartiallyFailed" if partial else "Completed", completionTimestamp=now(),
                          errors=1 if partial else 0, warnings=2 if partial else 0)
            if partial:
                status["failureReason"] = "1 item could not be backed up (volume snapshot of a PVC failed)"
            self.store.set_status(self.res(kind_name), namespace, object_name, status)
            return None
        self.store.set_status(self.res(kind_name), namespace, object_name, status)
        return self.timing.backup_tick

    def _validate(self, kind_name: str, namespace: str, spec: dict[str, Any]) -> list[str]:
        if kind_name == "Restore":
            backup = self.store.find(self.res("Backup"), namespace, str(spec.get("backupName", "")))
            if backup is None:
                return [f"backup {spec.get('backupName')} not found"]
            if (backup.get("status") or {}).get("phase") not in ("Completed", "PartiallyFailed"):
                return [f"backup {spec.get('backupName')} is not complete"]
            return []
        location = str(spec.get("storageLocation") or "default")
        bsl = self.store.find(self.res("BackupStorageLocation"), namespace, location)
        if bsl is None:
            return [f"a BackupStorageLocation CRD with the name specified in the backup spec needs to be created "
                    f"before this backup can be executed. Error: backupstoragelocations.velero.io \"{location}\" "
                    "not found"]
        if (bsl.get("status") or {}).get("phase") != "Available":
            return [f"backup storage location {location} is unavailable"]
        return []

    def _count(self, kind_name: str, spec: dict[str, Any]) -> int:
        if kind_name == "Restore":
            backup = self.store.find(self.res("Backup"), "velero", str(spec.get("backupName", ""))) or {}
            return int(((backup.get("status") or {}).get("progress") or {}).get("totalItems", 1))
        selector = ",".join(f"{k}={v}" for k, v in
                            ((spec.get("labelSelector") or {}).get("matchLabels") or {}).items())
        count = 0
        for namespace in spec.get("includedNamespaces") or ["*"]:
            for kind_name_ in ("Deployment", "StatefulSet", "Pod", "Service", "ConfigMap", "Secret",
                               "PersistentVolumeClaim", "Ingress", "CronJob"):
                items, _ = self.store.select(self.res(kind_name_), None if namespace == "*" else namespace, selector)
                count += len(items)
        return max(count, 1)


class Placeholders(dict[str, str]):
    """The fields of a vault item the rehearsal does not hold: any field reads ``rehearsal-<field>``."""

    def __missing__(self, key: str) -> str:
        return f"rehearsal-{key.lower().replace('_', '-')}"


def _synced_version(es: dict[str, Any]) -> str:
    meta = es.get("metadata") or {}
    digest = hashlib.md5(json.dumps([meta.get("annotations") or {}, meta.get("labels") or {}], sort_keys=True)
                         .encode(), usedforsecurity=False).hexdigest()
    return f"{meta.get('generation', 1)}-{digest}"


class ExternalSecrets(Controller):
    """ClusterSecretStores backed by the rehearsal's vault; ExternalSecrets render into Secrets."""

    name = "external-secrets"
    watches = ("ExternalSecret", "ClusterSecretStore", "SecretStore")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.synced: dict[Key, tuple[Any, Any, float]] = {}  # synced resource version, -, when

    def invalidate(self) -> None:
        self.synced.clear()

    def keys_for(self, event: WatchEvent) -> list[Key]:
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "ExternalSecret":
            return [(meta.get("namespace", ""), meta.get("name", ""))]
        if event.resource.kind in ("ClusterSecretStore", "SecretStore"):
            self.sim.manager.enqueue(self.name, ("", "store/" + meta.get("name", "")))
            self.invalidate()
            return [(e["metadata"]["namespace"], e["metadata"]["name"])
                    for e in self.store.all_of(self.res("ExternalSecret"))]
        return []

    def reconcile(self, namespace: str, name: str) -> float | None:
        if name.startswith("store/"):
            return self._store(name.split("/", 1)[1])
        import time

        es = self.store.find(self.res("ExternalSecret"), namespace, name)
        if es is None:
            self.synced.pop((namespace, name), None)
            return None
        spec = es.get("spec") or {}
        refresh = interval(spec.get("refreshInterval", "1h"), 3600) * self.timing.interval_scale
        # external-secrets externalsecret_controller.go: status.syncedResourceVersion is
        # "<generation>-<hash of the labels and annotations>"; any change of those re-syncs (shouldRefresh).
        marker = _synced_version(es)
        previous = self.synced.get((namespace, name))
        policy = spec.get("refreshPolicy") or "Periodic"
        target_name = (spec.get("target") or {}).get("name") or name
        if policy == "CreatedOnce" and self.store.find(self.res("Secret"), namespace, target_name) is not None \
                and (es.get("status") or {}).get("syncedResourceVersion"):
            return None  # created once: never refreshed while its Secret exists, whatever changes
        if previous and previous[0] == marker and (policy == "OnChange" or time.monotonic() - previous[2] < refresh):
            return None if policy == "OnChange" else refresh - (time.monotonic() - previous[2])
        ref = spec.get("secretStoreRef") or {}
        store_kind = ref.get("kind", "SecretStore")
        store = self.store.find(self.res(store_kind), "" if store_kind == "ClusterSecretStore" else namespace,
                                ref.get("name", ""))
        if store is None or not any(c.get("type") == "Ready" and c.get("status") == "True"
                                    for c in (store.get("status") or {}).get("conditions") or []):
            self._status(es, "False", "SecretSyncedError", f"{store_kind} {ref.get('name')} is not ready")
            return self.timing.retry
        fields: dict[str, str] = {}
        try:
            for source in spec.get("dataFrom") or []:
                key = (source.get("extract") or {}).get("key")
                if key:
                    item = self.sim.vault_item(str(key))
                    if isinstance(item, Placeholders):  # an item the vault does not hold: any field reads
                        fields = Placeholders({**fields, **item})
                    else:
                        fields.update(item)
            for item in spec.get("data") or []:
                remote = item.get("remoteRef") or {}
                values = self.sim.vault_item(str(remote.get("key")))
                fields[item["secretKey"]] = values[remote.get("property")] if remote.get("property") else json.dumps(
                    values)
        except KeyError as exc:
            message = f"could not get secret data from provider: item {exc} not found"
            self._status(es, "False", "SecretSyncedError", message)
            self.event(es, "UpdateFailed", message, "Warning")
            return self.timing.retry
        target = spec.get("target") or {}
        template = (target.get("template") or {}).get("data")
        def field(match: re.Match[str]) -> str:
            return fields[match.group(1)] if isinstance(fields, Placeholders) else fields.get(match.group(1), "")

        data = ({k: TEMPLATE_FIELD.sub(field, str(v)) for k, v in template.items()} if template else dict(fields))
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        secret_name = target.get("name") or name
        self.sim.apply(self.res("Secret"), {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret_name, "namespace": namespace,
                         "labels": {"reconcile.external-secrets.io/managed": "true"},
                         "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                                              "name": name, "uid": es["metadata"]["uid"], "controller": True}]},
            "data": encoded})
        self.synced[(namespace, name)] = (marker, None, time.monotonic())
        clock = datetime.now(UTC) + timedelta(seconds=float(self.sim.faults.get("eso-clock-skew") or 0))
        self._status(es, "True", "SecretSynced", "secret synced", refreshTime=clock.strftime(
            "%Y-%m-%dT%H:%M:%SZ"), syncedResourceVersion=marker, binding={"name": secret_name})
        return refresh

    def _status(self, es: dict[str, Any], ready: str, reason: str, message: str, **extra: Any) -> None:
        status = dict(es.get("status") or {})
        status.update(extra)
        status["conditions"] = ready_condition(ready, reason, message)
        self.store.set_status(self.res("ExternalSecret"), es["metadata"]["namespace"], es["metadata"]["name"],
                              status)

    def _store(self, name: str) -> float | None:
        store = self.store.find(self.res("ClusterSecretStore"), "", name)
        if store is None:
            return None
        ok = not self.sim.faults.get("store-down")
        conditions = ready_condition("True" if ok else "False", "Valid" if ok else "InvalidProviderConfig",
                                     "store validated" if ok else "could not reach the 1Password Connect server")
        current = (store.get("status") or {}).get("conditions") or []
        if [(c.get("status"), c.get("reason")) for c in current] != [(c["status"], c["reason"]) for c in conditions]:
            self.store.set_status(self.res("ClusterSecretStore"), "", name,
                                  {"conditions": conditions, "capabilities": "ReadWrite"})
        return None
