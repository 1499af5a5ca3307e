"""External Secrets, as far as the runbooks touch it, and the vault behind it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.sim.flux import interval, ready_condition
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import WatchEvent

TEMPLATE_FIELD = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}")


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
        opaque, needed = self.sim.expected_variables
        if not template and isinstance(fields, Placeholders) and (target.get("name") or name) in opaque:
            # an item the vault does not hold, extracted into a substitution source: the variables it must hold
            data.update({var: fields[var] for var in needed if var not in data})
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
