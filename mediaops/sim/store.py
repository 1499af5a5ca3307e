"""The rehearsal cluster's object store: what an API server keeps in etcd, in memory.

Objects carry real metadata (uid, resourceVersion, generation, creationTimestamp); every change is
appended to an event log that watches read from a resourceVersion on, and is handed synchronously to
subscribers (the controllers' queues).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mediaops import selectors
from mediaops.kinds import BY_PLURAL, Resource

LOG_LIMIT = 20000  # events kept for watches; an older resourceVersion answers 410 Gone


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_nano() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ApiError(Exception):
    """An API answer other than success: code, reason and message as a Status object carries them."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict[str, Any]:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: Resource
    obj: dict[str, Any]


Key = tuple[str, str, str, str]  # group, plural, namespace, name


@dataclass
class Store:
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    log: list[WatchEvent] = field(default_factory=list)
    rv: int = 1000
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)
    subscribers: list[Callable[[WatchEvent], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    # -- reading ------------------------------------------------------------------------------------
    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get((resource.group, resource.plural, namespace, name))
            if obj is None:
                label = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
                raise ApiError(404, "NotFound", f'{label} "{name}" not found')
            return copy.deepcopy(obj)

    def find(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(resource, namespace, name)
        except ApiError:
            return None

    def select(self, resource: Resource, namespace: str | None = None, labels: str = "",
             fields: str = "") -> tuple[list[dict[str, Any]], int]:
        label_match, field_match = parse_selector(labels), parse_field_selector(fields)
        with self.lock:
            items = [copy.deepcopy(o) for (g, p, ns, _), o in sorted(self.objects.items())
                     if g == resource.group and p == resource.plural and (namespace in (None, "") or ns == namespace)
                     and label_match(o) and field_match(o)]
            return items, self.rv

    def events_since(self, rv: int) -> list[WatchEvent]:
        with self.lock:
            if self.log and rv < self.log[0].rv - 1:
                raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.log[0].rv - 1})")
            return [e for e in self.log if e.rv > rv]

    # -- writing ------------------------------------------------------------------------------------
    def _record(self, kind: str, resource: Resource, obj: dict[str, Any]) -> None:
        event = WatchEvent(self.rv, kind, resource, copy.deepcopy(obj))
        self.log.append(event)
        if len(self.log) > LOG_LIMIT:
            del self.log[: len(self.log) - LOG_LIMIT]
        self.changed.notify_all()
        for subscriber in list(self.subscribers):
            subscriber(event)

    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = meta.get("name")
            if not name:
                raise ApiError(422, "Invalid", "metadata.name: Required value")
            namespace = meta.get("namespace", "") if resource.namespaced else ""
            if resource.namespaced and not namespace:
                raise ApiError(422, "Invalid", "metadata.namespace: Required value")
            key = (resource.group, resource.plural, namespace, name)
            if key in self.objects:
                raise ApiError(409, "AlreadyExists", f'{resource.plural} "{name}" already exists')
            if resource.namespaced and resource.kind != "Event":
                ns_key = ("", "namespaces", "", namespace)
                if ns_key not in self.objects:
                    raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
            self.rv += 1
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            meta.update(uid=str(uuid.uuid4()), resourceVersion=str(self.rv), creationTimestamp=now(), generation=1)
            if not resource.namespaced:
                meta.pop("namespace", None)
            else:
                meta["namespace"] = namespace
            self.objects[key] = copy.deepcopy(obj)
            self._record("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def replace(self, resource: Resource, obj: dict[str, Any], *, subresource: str = "",
                expect_rv: str | None = None) -> dict[str, Any]:
        """Write a whole object (update) or only its status; bumps generation when the spec changes."""
        with self.lock:
            meta = obj.get("metadata") or {}
            namespace = meta.get("namespace", "") if resource.namespaced else ""
            key = (resource.group, resource.plural, namespace, meta.get("name", ""))
            current = self.objects.get(key)
            if current is None:
                raise ApiError(404, "NotFound", f'{resource.plural} "{meta.get("name")}" not found')
            if expect_rv and expect_rv != current["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource.plural} '
                               f'"{meta.get("name")}": the object has been modified; please apply your changes '
                               "to the latest version and try again")
            new = copy.deepcopy(current)
            if subresource == "status":
                new["status"] = copy.deepcopy(obj.get("status", {}))
            else:
                kept_status = current.get("status")
                new = copy.deepcopy(obj)
                new["apiVersion"], new["kind"] = resource.api_version, resource.kind
                for field_name in ("uid", "creationTimestamp", "generation"):
                    new.setdefault("metadata", {})[field_name] = current["metadata"].get(field_name)
                if resource.namespaced:
                    new["metadata"]["namespace"] = namespace
                if "status" in resource.subresources:  # the main endpoint never changes status
                    new.pop("status", None)
                    if kept_status is not None:
                        new["status"] = kept_status
                if _spec(new) != _spec(current):
                    new["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            if json.dumps(new, sort_keys=True) == json.dumps(current, sort_keys=True):
                return copy.deepcopy(current)
            self.rv += 1
            new["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[key] = new
            self._record("MODIFIED", resource, new)
            return copy.deepcopy(new)

    def update(self, resource: Resource, namespace: str, name: str,
               change: Callable[[dict[str, Any]], None], *, subresource: str = "") -> dict[str, Any]:
        """Read, change in place, write back (for controllers; the store lock makes it atomic)."""
        with self.lock:
            obj = self.get(resource, namespace, name)
            change(obj)
            return self.replace(resource, obj, subresource=subresource)

    def set_status(self, resource: Resource, namespace: str, name: str, status: dict[str, Any]) -> None:
        with self.lock:
            obj = self.find(resource, namespace, name)
            if obj is not None:
                obj["status"] = status
                self.replace(resource, obj, subresource="status")

    def delete(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            key = (resource.group, resource.plural, namespace if resource.namespaced else "", name)
            obj = self.objects.pop(key, None)
            if obj is None:
                raise ApiError(404, "NotFound", f'{resource.plural} "{name}" not found')
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._record("DELETED", resource, obj)
            if resource.kind == "Namespace":
                for other in [k for k in self.objects if k[2] == name]:
                    gone = self.objects.pop(other)
                    self.rv += 1
                    self._record("DELETED", BY_PLURAL[(other[0], other[1])], gone)
            return copy.deepcopy(obj)

    def all_of(self, resource: Resource) -> Iterator[dict[str, Any]]:
        items, _ = self.select(resource)
        return iter(items)


def _spec(obj: dict[str, Any]) -> Any:
    """What a generation counts: everything but metadata and status (annotations do not count)."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


# -- selectors ---------------------------------------------------------------------------------------
def parse_selector(text: str) -> Callable[[dict[str, Any]], bool]:
    """A label selector as kubectl sends it; a bad one is the API server's 400."""
    try:
        return selectors.parse_selector(text)
    except selectors.SelectorError as exc:
        raise ApiError(400, "BadRequest", str(exc)) from None


def field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _field(key: str, op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    if op == "!=":
        return lambda obj: field_value(obj, key) != value
    return lambda obj: field_value(obj, key) == value


def parse_field_selector(text: str) -> Callable[[dict[str, Any]], bool]:
    checks = []
    for part in selectors.split(text or ""):
        key, op, value = re.split(r"(!=|==|=)", part.strip(), maxsplit=1)
        checks.append(_field(key, op, value))
    return lambda obj: all(check(obj) for check in checks)


# -- patches -----------------------------------------------------------------------------------------
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort", "conditions": "type",
              "imagePullSecrets": "name", "envFrom": None}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge patch for the built-in kinds: lists of named things merge by their key."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        result = copy.deepcopy(target) if isinstance(target, dict) else {}
        for name, value in patch.items():
            if name.startswith("$"):
                continue
            if value is None:
                result.pop(name, None)
            else:
                result[name] = strategic_merge_patch(result.get(name), value, name)
        return result
    if isinstance(patch, list) and MERGE_KEYS.get(key) and isinstance(target, list):
        merge_key = MERGE_KEYS[key]
        result_list = copy.deepcopy(target)
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                result_list.append(item)
                continue
            index = next((i for i, old in enumerate(result_list)
                          if isinstance(old, dict) and old.get(merge_key) == item[merge_key]), None)
            if item.get("$patch") == "delete":
                if index is not None:
                    del result_list[index]
            elif index is None:
                result_list.append(item)
            else:
                result_list[index] = strategic_merge_patch(result_list[index], item)
        return result_list
    return copy.deepcopy(patch)


def apply_patch(obj: dict[str, Any], body: Any, content_type: str, resource: Resource) -> dict[str, Any]:
    if "json-patch" in content_type:
        import jsonpatch

        try:
            return jsonpatch.apply_patch(obj, body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(422, "Invalid", f"the JSON patch does not apply: {exc}") from None
    if "strategic-merge-patch" in content_type:
        if resource.group not in ("", "apps", "batch", "networking.k8s.io", "coordination.k8s.io"):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media types include: "
                           f"application/json-patch+json, application/merge-patch+json (for {resource.kind})")
        return strategic_merge_patch(obj, body)
    if "merge-patch" in content_type:
        return merge_patch(obj, body)
    raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {content_type}")
