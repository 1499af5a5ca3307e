"""The rehearsal cluster's object store: what an API server keeps in etcd, in memory.

Objects carry real metadata (uid, resourceVersion, generation, creationTimestamp); every change is
appended to an event log that watches read from a resourceVersion on, and is handed synchronously to
subscribers (the controllers' queues).

Copy on write: a stored object is never changed in place. A write stores a new object (made from the caller's,
which the caller keeps), so the event log and the subscribers share the stored object itself; what a reader gets
(``get``, ``find``, ``select``) is a copy of the objects it asked for, made outside the lock. ``peek`` and
``scan`` hand out the stored objects themselves, for the controllers' read-only looks (never to be changed).
"""

from __future__ import annotations

import bisect
import copy
import json
import pickle
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mediaops import selectors
from mediaops.cluster.kinds import BY_PLURAL, Resource

PVC_PROTECTION = "kubernetes.io/pvc-protection"
FOREGROUND = "foregroundDeletion"
LOG_LIMIT = 20000  # events kept for watches; an older resourceVersion answers 410 Gone


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_nano() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clone(obj: Any) -> Any:
    """A deep copy of API data: what ``copy.deepcopy`` gives (shared sub-objects stay shared), through pickle,
    which is several times faster for dicts, lists and strings; anything pickle refuses is deep-copied."""
    try:
        return pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
    except Exception:  # an object pickle cannot take (none in API data): the general way
        return copy.deepcopy(obj)


class ApiError(Exception):
    """An API answer other than success: code, reason and message as a Status object carries them."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details: dict[str, Any] | None = None

    def status(self) -> dict[str, Any]:
        answer = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            answer["details"] = self.details
        return answer


@dataclass
class WatchEvent:
    """One change of the store, as a watch delivers it."""

    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: Resource
    obj: dict[str, Any]


Key = tuple[str, str, str, str]  # group, plural, namespace, name


@dataclass
class Store:
    """The rehearsal's objects, their resourceVersions and the log watches read from."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    log: list[WatchEvent] = field(default_factory=list)
    rv: int = 1000
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)
    subscribers: list[Callable[[WatchEvent], None]] = field(default_factory=list)
    # Mutating admission webhooks: each may change an object being created or updated (not its status) before it is
    # stored, as the API server calls them (staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/mutating).
    mutators: list[Callable[[Resource, dict[str, Any]], None]] = field(default_factory=list)
    # How a dependent pod goes when the garbage collector deletes it (the kubelet's part: the workload
    # controllers set it, so a pod on a dead NFS mount stays Terminating); None deletes at once.
    pod_reaper: Callable[[dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)
        # indexes of ``objects``: by (group, plural), and the key of each uid (the garbage collector's look-ups)
        self._types: dict[tuple[str, str], dict[Key, dict[str, Any]]] = {}
        self._uids: dict[str, Key] = {}
        for key, obj in list(self.objects.items()):
            self._put(key, obj)

    def _put(self, key: Key, obj: dict[str, Any]) -> None:
        """Store ``obj`` (the store's own from now on: never changed in place) under ``key``."""
        old = self.objects.get(key)
        if old is not None and self._uids.get(old["metadata"].get("uid", "")) == key:
            del self._uids[old["metadata"]["uid"]]
        self.objects[key] = obj
        self._types.setdefault((key[0], key[1]), {})[key] = obj
        if obj["metadata"].get("uid"):
            self._uids[obj["metadata"]["uid"]] = key

    def _pop(self, key: Key) -> dict[str, Any]:
        obj = self.objects.pop(key)
        self._types[(key[0], key[1])].pop(key, None)
        if self._uids.get(obj["metadata"].get("uid", "")) == key:
            del self._uids[obj["metadata"]["uid"]]
        return obj

    # -- reading ------------------------------------------------------------------------------------
    def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get((resource.group, resource.plural, namespace, name))
        if obj is None:
            label = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
            raise ApiError(404, "NotFound", f'{label} "{name}" not found')
        return clone(obj)  # the stored object never changes: copying it outside the lock is safe

    def peek(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object itself, not a copy, for a read-only look: never change what it returns."""
        with self.lock:
            return self.objects.get((resource.group, resource.plural, namespace, name))

    def scan(self, resource: Resource, namespace: str | None = None) -> list[dict[str, Any]]:
        """The stored objects of a kind (in a namespace), in ``select``'s order, not copies: never change them."""
        with self.lock:
            table = self._types.get((resource.group, resource.plural)) or {}
            return [table[k] for k in sorted(table) if namespace in (None, "") or k[2] == namespace]

    def find(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(resource, namespace, name)
        except ApiError:
            return None

    def select(self, resource: Resource, namespace: str | None = None, labels: str = "",
             fields: str = "") -> tuple[list[dict[str, Any]], int]:
        label_match, field_match = parse_selector(labels), parse_field_selector(fields)
        with self.lock:
            items = [o for o in self.scan(resource, namespace) if label_match(o) and field_match(o)]
            rv = self.rv
        return [clone(o) for o in items], rv

    def events_since(self, rv: int) -> list[WatchEvent]:
        with self.lock:
            if self.log and rv < self.log[0].rv - 1:
                raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.log[0].rv - 1})")
            # the log is in resourceVersion order
            return self.log[bisect.bisect_right(self.log, rv, key=lambda e: e.rv):]

    # -- writing ------------------------------------------------------------------------------------
    def _record(self, kind: str, resource: Resource, obj: dict[str, Any]) -> None:
        """Log a change and hand it to the subscribers; ``obj`` is the store's (never changed again), shared."""
        event = WatchEvent(self.rv, kind, resource, obj)
        self.log.append(event)
        if len(self.log) > LOG_LIMIT:
            del self.log[: len(self.log) - LOG_LIMIT]
        self.changed.notify_all()
        for subscriber in list(self.subscribers):
            subscriber(event)

    def create(self, resource: Resource, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        return clone(self._create(resource, obj, dry_run=dry_run))

    def _create(self, resource: Resource, obj: dict[str, Any], *, dry_run: bool = False,
                owned: bool = False) -> dict[str, Any]:
        """``create``, giving back the object as stored (or as it would be), not a copy: never change it.
        ``owned``: ``obj`` is the caller's own copy, stored as it is rather than copied."""
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
            if resource.kind == "PersistentVolumeClaim" and PVC_PROTECTION not in (meta.get("finalizers") or []):
                # plugin/pkg/admission/storage/storageobjectinuseprotection/admission.go (kubernetes/kubernetes)
                meta["finalizers"] = [*(meta.get("finalizers") or []), PVC_PROTECTION]
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            for mutate in self.mutators:
                mutate(resource, obj)
            if resource.kind == "Namespace":
                # kubernetes pkg/registry/core/namespace/strategy.go PrepareForCreate: status Active, the kubernetes
                # finalizer in spec; pkg/apis/core/v1/defaults.go SetDefaults_Namespace: the
                # kubernetes.io/metadata.name label (what NetworkPolicies and namespaceSelectors match on)
                obj["status"] = {"phase": "Active"}
                spec = obj["spec"] = dict(obj.get("spec") or {})
                finalizers = list(spec.get("finalizers") or [])
                spec["finalizers"] = finalizers if "kubernetes" in finalizers else [*finalizers, "kubernetes"]
                meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
            if not resource.namespaced:
                meta.pop("namespace", None)
            else:
                meta["namespace"] = namespace
            if dry_run:  # everything checked, nothing stored (no resourceVersion either)
                meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
                return obj
            self.rv += 1
            meta.update(uid=str(uuid.uuid4()), resourceVersion=str(self.rv), creationTimestamp=now(), generation=1)
            stored = obj if owned else clone(obj)
            self._put(key, stored)
            self._record("ADDED", resource, stored)
        return stored

    def replace(self, resource: Resource, obj: dict[str, Any], *, subresource: str = "",
                expect_rv: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Write a whole object (update) or only its status; bumps generation when the spec changes."""
        return clone(self._replace(resource, obj, subresource=subresource, expect_rv=expect_rv, dry_run=dry_run))

    def _replace(self, resource: Resource, obj: dict[str, Any], *, subresource: str = "",
                 expect_rv: str | None = None, dry_run: bool = False, owned: bool = False) -> dict[str, Any]:
        """``replace``, giving back the object as stored (or as it would be), not a copy: never change it.
        ``owned``: ``obj`` is the caller's own copy, taken as it is rather than copied (an update's read)."""
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
            if subresource == "status":
                # copy on write: the new object shares what it does not change with the stored one
                new = {**current, "metadata": dict(current["metadata"]), "status": clone(obj.get("status", {}))}
            else:
                kept_status = current.get("status")
                new = obj if owned else clone(obj)
                new["apiVersion"], new["kind"] = resource.api_version, resource.kind
                for field_name in ("uid", "creationTimestamp", "generation"):
                    new.setdefault("metadata", {})[field_name] = current["metadata"].get(field_name)
                if resource.namespaced:
                    new["metadata"]["namespace"] = namespace
                for mutate in self.mutators:
                    mutate(resource, new)
                if "status" in resource.subresources:  # the main endpoint never changes status
                    new.pop("status", None)
                    if kept_status is not None:
                        new["status"] = kept_status
                if _spec(new) != _spec(current):
                    new["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            deleting = current["metadata"].get("deletionTimestamp")
            if deleting and subresource != "status":
                # k8s.io/apimachinery pkg/api/validation/objectmeta.go (ValidateNoNewFinalizers): no new
                # finalizers on an object being deleted.
                added = [f for f in new["metadata"].get("finalizers") or []
                         if f not in (current["metadata"].get("finalizers") or [])]
                if added:
                    shown = ", ".join(json.dumps(a) for a in added)
                    raise ApiError(422, "Invalid", f'{_label(resource)} "{meta.get("name")}" is invalid: '
                                   "metadata.finalizers: Forbidden: no new finalizers can be added if the object "
                                   f"is being deleted, found new finalizers []string{{{shown}}}")
            if _unchanged(new, current, subresource == "status"):
                return current
            if dry_run:
                return new
            self.rv += 1
            new["metadata"]["resourceVersion"] = str(self.rv)
            if (deleting and not new["metadata"].get("finalizers")
                    and new["metadata"].get("deletionGracePeriodSeconds") == 0):
                # staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (ShouldDeleteDuringUpdate):
                # the update that empties the finalizers of an object being deleted removes it.
                self._pop(key)
                self._record("DELETED", resource, new)
                self._collect(resource, new)
                return new
            self._put(key, new)
            self._record("MODIFIED", resource, new)
        return new

    def update(self, resource: Resource, namespace: str, name: str,
               change: Callable[[dict[str, Any]], None], *, subresource: str = "") -> dict[str, Any]:
        """Read, change in place, write back (for controllers; the store lock makes it atomic)."""
        with self.lock:
            obj = self.get(resource, namespace, name)  # a copy of its own: written as it is
            change(obj)
            return clone(self._replace(resource, obj, subresource=subresource, owned=True))

    def set_status(self, resource: Resource, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Write ``status`` (copied) as the object's status, when it exists: nothing else of it is read or copied."""
        with self.lock:
            current = self.peek(resource, namespace, name)
            if current is not None:
                self._replace(resource, {"metadata": current["metadata"], "status": status}, subresource="status")

    def delete(self, resource: Resource, namespace: str, name: str, *, propagation: str = "Background",
               preconditions: dict[str, Any] | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Delete as the API server's generic registry does (staging/src/k8s.io/apiserver/pkg/registry/generic/
        registry/store.go): preconditions first, then an object with finalizers only gets its deletionTimestamp
        (and deletionGracePeriodSeconds 0) and stays until an update empties them; ``propagation`` says what
        happens to the objects it owns (the garbage collector, pkg/controller/garbagecollector)."""
        with self.lock:
            key = (resource.group, resource.plural, namespace if resource.namespaced else "", name)
            obj = self.objects.get(key)
            if obj is None:
                raise ApiError(404, "NotFound", f'{_label(resource)} "{name}" not found')
            meta = obj["metadata"]
            for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                wanted = (preconditions or {}).get(field_name)
                if wanted and wanted != meta.get(field_name):
                    raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_label(resource)} "{name}": '
                                   f"Precondition failed: {label} in precondition: {wanted}, {label} in object "
                                   f"meta: {meta.get(field_name)}")
            finalizers = list(meta.get("finalizers") or [])
            if propagation == "Foreground" and self._dependents(meta.get("uid", "")):
                finalizers.append(FOREGROUND)
            if dry_run:
                shown = clone(obj)
                if finalizers:
                    shown["metadata"].update(finalizers=finalizers, deletionTimestamp=meta.get(
                        "deletionTimestamp") or now(), deletionGracePeriodSeconds=0)
                return shown
            if propagation == "Orphan":
                self._orphan(meta.get("uid", ""))
            if finalizers:
                if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                    return clone(obj)  # already being deleted: nothing changes
                new = {**obj, "metadata": dict(meta)}  # copy on write: only the metadata changes
                new["metadata"].update(finalizers=list(dict.fromkeys(finalizers)),
                                       deletionTimestamp=meta.get("deletionTimestamp") or now(),
                                       deletionGracePeriodSeconds=0)
                self.rv += 1
                new["metadata"]["resourceVersion"] = str(self.rv)
                self._put(key, new)
                self._record("MODIFIED", resource, new)
                if FOREGROUND in finalizers:
                    # a foreground owner's dependents go in the foreground too (garbagecollector.go
                    # attemptToDeleteItem: waitingForDependentsDeletion)
                    for dependent_resource, dependent in self._dependents(meta.get("uid", "")):
                        self._reap(dependent_resource, dependent, "Foreground")
                    self._release(new)
                return clone(self.objects.get(key, new))
            self._pop(key)
            self.rv += 1
            obj = {**obj, "metadata": {**meta, "resourceVersion": str(self.rv)}}
            self._record("DELETED", resource, obj)
            if resource.kind == "Namespace":
                for other in [k for k in self.objects if k[2] == name]:
                    gone = self._pop(other)
                    self.rv += 1
                    self._record("DELETED", BY_PLURAL[(other[0], other[1])], gone)
            self._collect(resource, obj)
            return clone(obj)

    # -- the garbage collector (pkg/controller/garbagecollector/garbagecollector.go) -------------------------
    def _dependents(self, uid: str) -> list[tuple[Resource, dict[str, Any]]]:
        if not uid:
            return []
        return [(BY_PLURAL[(k[0], k[1])], o) for k, o in self.objects.items()
                if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])
                and (k[0], k[1]) in BY_PLURAL]

    def _orphan(self, uid: str) -> None:
        for dependent_resource, dependent in self._dependents(uid):
            refs = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            changed = clone(dependent)
            if refs:
                changed["metadata"]["ownerReferences"] = refs
            else:
                changed["metadata"].pop("ownerReferences", None)
            self.replace(dependent_resource, changed)

    def _reap(self, resource: Resource, obj: dict[str, Any], propagation: str = "Background") -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and resource.kind != "Pod":
            return
        if resource.kind == "Pod" and self.pod_reaper is not None:
            self.pod_reaper(clone(obj))
            return
        try:
            self.delete(resource, meta.get("namespace", ""), meta["name"], propagation=propagation)
        except ApiError:
            pass

    def _collect(self, resource: Resource, obj: dict[str, Any]) -> None:
        """An object is gone: delete what it owned alone (background), and let a foreground owner go."""
        uid = obj["metadata"].get("uid", "")
        for dependent_resource, dependent in self._dependents(uid):
            alive = [r for r in dependent["metadata"].get("ownerReferences") or []
                     if r.get("uid") != uid and self._by_uid(r.get("uid", "")) is not None]
            if not alive:
                self._reap(dependent_resource, dependent)
        for ref in obj["metadata"].get("ownerReferences") or []:
            owner = self._by_uid(ref.get("uid", ""))
            if owner is not None:
                self._release(owner[1])

    def _by_uid(self, uid: str) -> tuple[Key, dict[str, Any]] | None:
        key = self._uids.get(uid)
        return None if key is None else (key, self.objects[key])

    def _release(self, owner: dict[str, Any]) -> None:
        """Foreground deletion: the owner's foregroundDeletion finalizer goes when no dependent is left."""
        meta = owner["metadata"]
        if FOREGROUND not in (meta.get("finalizers") or []) or self._dependents(meta.get("uid", "")):
            return
        found = self._by_uid(meta.get("uid", ""))
        if found is None:
            return
        key, live = found
        changed = clone(live)
        changed["metadata"]["finalizers"] = [f for f in live["metadata"]["finalizers"] if f != FOREGROUND]
        self.replace(BY_PLURAL[(key[0], key[1])], changed)

    def all_of(self, resource: Resource) -> Iterator[dict[str, Any]]:
        items, _ = self.select(resource)
        return iter(items)


def _label(resource: Resource) -> str:
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def _unchanged(new: dict[str, Any], current: dict[str, Any], status_only: bool) -> bool:
    """Whether a write leaves the object as it is (compared as JSON, as etcd holds it). A status write changes
    nothing else: its status alone decides."""
    if status_only:
        return "status" in current and json.dumps(new["status"], sort_keys=True) == json.dumps(
            current["status"], sort_keys=True)
    return json.dumps(new, sort_keys=True) == json.dumps(current, sort_keys=True)


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
