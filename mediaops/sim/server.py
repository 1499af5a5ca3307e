"""The rehearsal cluster's Kubernetes API over real HTTP on 127.0.0.1.

Serves what the Kubernetes Python client and kubectl use: discovery, get/list/watch, create, update,
merge/JSON/strategic-merge patch, delete, the status and scale subresources, label and field selectors,
resourceVersion semantics (watch from a version, 410 Gone when too old), and server-side Tables for
``kubectl get``. Like a real API server it checks built-in kinds against their schema (fieldValidation),
honours finalizers, DeleteOptions and dryRun, does server-side apply with managedFields, and serves
/openapi/v2 and /openapi/v3, CRDs of the custom kinds, SelfSubjectAccessReviews and events.k8s.io/v1.
Faults (5xx, 429, timeouts, dropped watches) are injected here, per request.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from mediaops.cluster import kinds
from mediaops.cluster.kinds import (
    BUILTIN_GROUPS,
    BY_PLURAL,
    PRINTER_COLUMNS,
    RESOURCES,
    SERVED_WHEN_INSTALLED,
    Resource,
)
from mediaops.sim.store import (
    MERGE_KEYS,
    ApiError,
    Store,
    WatchEvent,
    apply_patch,
    field_value,
    merge_patch,
    now,
    parse_field_selector,
    parse_selector,
    strategic_merge_patch,
)

# -- schema validation of built-in kinds ---------------------------------------------------------------
# The kinds' schemas are the kubernetes Python client's generated models (openapi_types, attribute_map and
# which fields are required), imported on first use.
_MODEL_NAMES = {("", "Event"): "CoreV1Event", ("events.k8s.io", "Event"): "EventsV1Event"}
_MODEL_CACHE: dict[str, Any] = {}
FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


def _models() -> Any:
    if "module" not in _MODEL_CACHE:
        import kubernetes.client as models

        _MODEL_CACHE["module"] = models
    return _MODEL_CACHE["module"]


def model_for(resource: Resource) -> Any:
    """The generated model class of a built-in kind, or None (custom resources, unknown kinds)."""
    name = _model_name(resource)
    return getattr(_models(), name, None) if name else None


def _model_name(resource: Resource) -> str:
    if resource.group not in BUILTIN_GROUPS:
        return ""
    return _MODEL_NAMES.get((resource.group, resource.kind), f"{resource.version.capitalize()}{resource.kind}")


class _SchemaTable:
    """What validation reads of each model (``_fields_of``), by class name, and the OpenAPI documents made from the
    models, kept in the cache directory: importing the client's models costs a rehearsal 0.3 s of CPU on its first
    write, and every background rehearsal (one per cluster test) is a new process. Keyed by the models' files and by
    this module and the protobuf writer, which decide what is kept; entries a process needed and did not find are
    added and written when it exits."""

    def __init__(self) -> None:
        self.entries: dict[str, Any] | None = None
        self.source = ""  # the files the kept entries were made from, with their size and modification time
        self.path: Any = None
        self.dirty = False

    def fields(self, type_name: str) -> tuple[dict[str, tuple[str, str]], list[str]] | None:
        """JSON name -> (attribute, type) and the required JSON names of a model, None when it is none."""
        entries = self.entries if self.entries is not None else self._load()
        if type_name[:1] not in "VCE":  # not a model: str, int, object, datetime...
            return None
        if type_name not in entries:
            cls = _model(type_name)
            entries[type_name] = _fields_of(cls) if cls is not None else None
            self.dirty = True
        return entries[type_name]

    def _load(self) -> dict[str, Any]:
        import atexit
        import binascii
        import importlib.util
        import os

        from mediaops.config import cache_dir, file_stamps, kept

        self.entries = {}
        spec = importlib.util.find_spec("kubernetes")
        if spec is None or not spec.origin:
            return self.entries
        files = [os.path.join(os.path.dirname(spec.origin), "client", "models", "__init__.py"), __file__,
                 os.path.join(os.path.dirname(__file__), "protobuf.py")]
        try:
            self.source = file_stamps(files)
        except OSError:
            return self.entries
        self.path = cache_dir() / f"k8s-models-{binascii.crc32(self.source.encode()):08x}.marshal"
        self.entries = dict(kept(self.path, self.source) or {})
        atexit.register(self.save)
        return self.entries

    def document(self, key: str, make: Callable[[], Any]) -> Any:
        """An OpenAPI document made from the models (``make``), kept in the cache directory for the same sources and
        ``key`` (the kinds it describes): kubectl's apply and create ask for one, and making it imports them."""
        import binascii

        from mediaops.config import keep, kept

        if self.entries is None:
            self._load()
        if self.path is None:
            return make()
        whole = f"{self.source}\n{key}"
        path = self.path.with_name(f"k8s-openapi-{binascii.crc32(whole.encode()):08x}.marshal")
        document = kept(path, whole)
        if document is None:
            document = make()
            keep(path, whole, document, most=64, pattern="k8s-openapi-*.marshal")
        return document

    def save(self) -> None:
        """Write the entries with those other processes kept since this one loaded them: rehearsals run side by
        side, and each would otherwise drop what the others added."""
        from mediaops.config import keep, kept

        if self.dirty and self.path is not None:
            entries = {**(kept(self.path, self.source) or {}), **(self.entries or {})}
            keep(self.path, self.source, entries, most=4, pattern="k8s-models-*.marshal")
            self.dirty = False


SCHEMAS = _SchemaTable()


def _model(type_name: str) -> Any:
    return getattr(_models(), type_name, None) if type_name[:1] in "VCE" else None


def _fields_of(cls: Any) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """JSON name -> (attribute, type) and the required JSON names of a model class."""
    cached = _MODEL_CACHE.get(cls.__name__)
    if cached is None:
        by_json = {json_name: (attr, cls.openapi_types[attr]) for attr, json_name in cls.attribute_map.items()}
        fields = getattr(cls, "model_fields", {})
        required = [cls.attribute_map[a] for a in cls.openapi_types if a in fields and fields[a].is_required()]
        cached = _MODEL_CACHE[cls.__name__] = (by_json, required)
    return cached


def _walk(value: Any, type_name: str, path: str, unknown: list[str], missing: list[str], prune: bool) -> None:
    if type_name.startswith("List[") and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, type_name[5:-1], f"{path}[{index}]", unknown, missing, prune)
        return
    if type_name.startswith("Dict[") and isinstance(value, dict):
        inner = type_name[5:-1].split(", ", 1)[1]
        for key, item in value.items():
            _walk(item, inner, f"{path}.{key}" if path else key, unknown, missing, prune)
        return
    known = SCHEMAS.fields(type_name) if isinstance(value, dict) else None
    if known is None:
        return
    by_json, required = known
    for key in list(value):
        at = f"{path}.{key}" if path else key
        if key not in by_json:
            unknown.append(at)
            if prune:
                del value[key]
            continue
        _walk(value[key], by_json[key][1], at, unknown, missing, prune)
    for key in required:
        if value.get(key) in (None, "") and not (path == "" and key in ("metadata",)):
            missing.append(f"{path}.{key}" if path else key)
    if type_name == "V1Container" and not value.get("image"):
        # pkg/apis/core/validation/validation.go (validateContainers): a container needs an image, also in
        # the pod template of a workload, although the OpenAPI schema leaves it optional.
        missing.append(f"{path}.image")


def _invalid(resource: Resource, name: str, errors: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid as staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go NewInvalid words it."""
    label = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    texts = [f"{field}: {detail}" for field, _, detail in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    error = ApiError(422, "Invalid", f'{label} "{name}" is invalid: {joined}')
    error.details = {"name": name, "group": resource.group, "kind": resource.kind,
                     "causes": [{"reason": reason, "message": detail, "field": field}
                                for field, reason, detail in errors]}
    return error


def validate(resource: Resource, obj: dict[str, Any], mode: str, *, verb: str = "create",
             known_unknown: set[str] | None = None, required: bool = True) -> list[str]:
    """Check a built-in object against its schema; returns the warnings of ``fieldValidation=Warn``.

    Unknown fields as staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go and rest.go handle them
    per fieldValidation (Strict: 400 "strict decoding error", Warn: dropped with a 299 warning, Ignore: dropped);
    missing required fields, then, are the 422 of the kind's validation (pkg/apis/*/validation)."""
    name = _model_name(resource)
    if not name or not isinstance(obj, dict) or SCHEMAS.fields(name) is None:
        return []
    unknown: list[str] = []
    missing: list[str] = []
    _walk(obj, name, "", unknown, missing, prune=mode != "Strict")
    unknown = [u for u in unknown if u not in (known_unknown or set()) and u not in ("apiVersion", "kind")]
    warnings: list[str] = []
    if unknown and mode == "Strict":
        fields = ", ".join(f'unknown field "{u}"' for u in unknown)
        name = (obj.get("metadata") or {}).get("name", "")
        if verb == "apply":
            message = (f"failed to create typed patch object ({name}; {resource.api_version}, Kind={resource.kind}): "
                       + ", ".join(f".{u}: field not declared in schema" for u in unknown))
        else:
            message = (f'{resource.kind} in version "{resource.version}" cannot be handled as a {resource.kind}: '
                       f"strict decoding error: {fields}")
        raise ApiError(400, "BadRequest", message)
    if unknown and mode == "Warn":
        warnings = [f'unknown field "{u}"' for u in unknown]
    errors = [(m, "FieldValueRequired", "Required value") for m in missing] if required else []
    errors += _apps_rules(resource, obj) if required else []
    if errors:
        raise _invalid(resource, (obj.get("metadata") or {}).get("name", ""), errors)
    return warnings


def _apps_rules(resource: Resource, obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """pkg/apis/apps/validation/validation.go: a workload's selector must select its own pod template."""
    if resource.group not in ("apps", "batch") or resource.kind in ("Job", "CronJob"):
        return []
    spec = obj.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        shown = ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
        return [("spec.template.metadata.labels", "FieldValueInvalid",
                 f"Invalid value: map[string]string{{{shown}}}: `selector` does not match template `labels`")]
    return []


def unknown_fields(resource: Resource, obj: dict[str, Any]) -> set[str]:
    """Unknown fields an object already holds (written by the rehearsal's controllers, not through the API)."""
    name = _model_name(resource)
    if not name or SCHEMAS.fields(name) is None:
        return set()
    unknown: list[str] = []
    _walk(copy.deepcopy(obj), name, "", unknown, [], prune=False)
    return set(unknown)


# -- server-side apply and managedFields (sigs.k8s.io/structured-merge-diff, simplified) --------------------
Path = tuple[str, ...]
_SKIP_META = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
              "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def field_paths(obj: Any, prefix: Path = (), top: bool = True) -> set[Path]:
    """The leaf fields of an object as FieldsV1 paths (f:name, k:{"name":..} for keyed list items)."""
    paths: set[Path] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if top and key in ("apiVersion", "kind", "status"):
                continue
            if prefix == ("f:metadata",) and key in _SKIP_META:
                continue
            sub = (*prefix, f"f:{key}")
            if isinstance(value, list) and MERGE_KEYS.get(key) and all(
                    isinstance(i, dict) and MERGE_KEYS[key] in i for i in value):
                merge_key = str(MERGE_KEYS[key])
                for item in value:
                    item_path = (*sub, "k:" + json.dumps({merge_key: item[merge_key]}, separators=(",", ":")))
                    paths |= field_paths(item, item_path, False) or {item_path}
            elif isinstance(value, dict) and value:
                paths |= field_paths(value, sub, False)
            else:
                paths.add(sub)
    return paths


def _step(value: Any, token: str) -> Any:
    if token.startswith("f:"):
        return value.get(token[2:]) if isinstance(value, dict) else None
    key = json.loads(token[2:])
    return next((i for i in value or [] if isinstance(i, dict) and all(i.get(k) == v for k, v in key.items())),
                None) if isinstance(value, list) else None


def value_at(obj: Any, path: Path) -> Any:
    for token in path:
        obj = _step(obj, token)
        if obj is None:
            return None
    return obj


def remove_at(obj: Any, path: Path) -> None:
    parent = value_at(obj, path[:-1]) if len(path) > 1 else obj
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        item = _step(parent, last)
        if item is not None:
            parent.remove(item)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for token in path:
            node = node.setdefault(token, {})
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for token, sub in (tree or {}).items():
        if token == ".":
            continue
        children = {k: v for k, v in (sub or {}).items() if k != "."}
        paths |= from_fields_v1(children, (*prefix, token)) if children else {(*prefix, token)}
    return paths


def _owned(path: Path, owned: set[Path]) -> bool:
    """A path is owned when the manager owns it or one of its ancestors/descendants (an atomic subtree)."""
    return any(path[:len(o)] == o or o[:len(path)] == path for o in owned)


def managed_update(resource: Resource, old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                   operation: str = "Update") -> None:
    """Record an Update (create, put, non-apply patch) in metadata.managedFields: the manager takes the fields it
    changed, which other managers no longer own (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
    fieldmanager, vendored as k8s.io/apimachinery/pkg/util/managedfields)."""
    entries = list((old or {}).get("metadata", {}).get("managedFields") or [])
    changed = {p for p in field_paths(new) if old is None or value_at(old, p) != value_at(new, p)}
    gone = {p for p in field_paths(old or {}) if value_at(new, p) is None}
    result = []
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1"))
        if entry.get("manager") == manager and entry.get("operation") == operation:
            changed |= {p for p in paths if value_at(new, p) is not None}
            continue
        paths = {p for p in paths if p not in changed and p not in gone}
        if paths:
            result.append({**entry, "fieldsV1": to_fields_v1(paths)})
    if changed:
        result.append({"manager": manager, "operation": operation, "apiVersion": resource.api_version,
                       "time": now(), "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(changed)})
    new.setdefault("metadata", {})["managedFields"] = result


def server_side_apply(resource: Resource, live: dict[str, Any] | None, applied: dict[str, Any], manager: str,
                      force: bool) -> dict[str, Any]:
    """PATCH application/apply-patch+yaml: merge the manager's configuration, take ownership of its fields,
    drop the fields it owned and no longer applies, and refuse (409) to change another manager's field unless
    forced (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go applyPatcher; conflicts as
    sigs.k8s.io/structured-merge-diff merge/conflict.go words them)."""
    applied_paths = field_paths(applied)
    entries = list(((live or {}).get("metadata") or {}).get("managedFields") or [])
    conflicts: dict[str, list[Path]] = {}
    mine: set[Path] = set()
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1"))
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            mine = paths
            continue
        for path in applied_paths:
            if any(path[:len(p)] == p or p[:len(path)] == path for p in paths) and live is not None \
                    and value_at(live, path) != value_at(applied, path):
                conflicts.setdefault(f'{entry.get("manager")}|{entry.get("apiVersion", "")}', []).append(path)
    if conflicts and not force:
        causes, lines = [], []
        for owner, clashes in conflicts.items():
            who, _, version = owner.partition("|")
            for path in sorted(clashes):
                shown = "".join(f".{t[2:]}" if t.startswith("f:") else f"[{t[2:]}]" for t in path)
                causes.append({"reason": "FieldManagerConflict",
                               "message": f'conflict with "{who}" using {version}', "field": shown})
                lines.append(f'conflict with "{who}" using {version}: {shown}')
        count = len(causes)
        error = ApiError(409, "Conflict", f"Apply failed with {count} conflict{'s' if count > 1 else ''}: "
                         + "\n".join(lines))
        error.details = {"causes": causes}
        raise error
    merged = copy.deepcopy(live) if live is not None else {}
    body = {k: v for k, v in applied.items() if k != "status"}
    merged = strategic_merge_patch(merged, body) if resource.group in BUILTIN_GROUPS else merge_patch(merged, body)
    others: set[Path] = set()
    result = []
    for entry in entries:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            continue
        paths = from_fields_v1(entry.get("fieldsV1"))
        if force:
            paths = {p for p in paths if not _owned(p, applied_paths)}
        others |= paths
        if paths:
            result.append({**entry, "fieldsV1": to_fields_v1(paths)})
    for path in sorted(mine - applied_paths, key=len, reverse=True):
        if not _owned(path, others) and not _owned(path, applied_paths):
            remove_at(merged, path)
    result.append({"manager": manager, "operation": "Apply", "apiVersion": resource.api_version, "time": now(),
                   "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(applied_paths)})
    merged.setdefault("metadata", {})["managedFields"] = result
    return merged


# -- OpenAPI (what kubectl explain and kubectl's field-validation check read) ------------------------------
_OPENAPI_CACHE: dict[str, Any] = {}
_MODEL_PREFIX = re.compile(r"^(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$")
_SCALARS = {"str": {"type": "string"}, "int": {"type": "integer", "format": "int64"},
            "float": {"type": "number", "format": "double"}, "bool": {"type": "boolean"},
            "datetime": {"type": "string", "format": "date-time"}, "date": {"type": "string", "format": "date"},
            "object": {}}


def _schema_name(class_name: str) -> str:
    match = _MODEL_PREFIX.match(class_name)
    return f"io.k8s.api.{match[1].lower()}.{match[2]}" if match else f"io.k8s.api.{class_name}"


def _property(type_name: str, ref: str, todo: list[str]) -> dict[str, Any]:
    if type_name.startswith("List["):
        return {"type": "array", "items": _property(type_name[5:-1], ref, todo)}
    if type_name.startswith("Dict["):
        return {"type": "object", "additionalProperties": _property(type_name[5:-1].split(", ", 1)[1], ref, todo)}
    if type_name in _SCALARS:
        return dict(_SCALARS[type_name])
    if _model(type_name) is not None:
        todo.append(type_name)
        return {"$ref": ref + _schema_name(type_name)}
    return {}


def _schemas(roots: dict[str, Resource], ref: str) -> dict[str, Any]:
    """Schemas of the models reachable from the root kinds (class name -> resource), from the client's models."""
    schemas: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = _schema_name(name)
        if key in schemas:
            continue
        cls = _model(name)
        if cls is None:
            continue
        by_json, required = _fields_of(cls)
        fields = getattr(cls, "model_fields", {})
        properties = {}
        for json_name, (attr, type_name) in sorted(by_json.items()):
            prop = _property(type_name, ref, todo)
            description = getattr(fields.get(attr), "description", None)
            if description and "$ref" not in prop:
                prop["description"] = description
            elif description:
                prop = {"description": description, "allOf": [prop]}
            properties[json_name] = prop
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        doc = re.split(r"\n\s*Attributes:", cls.__doc__ or "")[0].strip()
        if doc and "Do not edit the class manually" not in doc:
            schema["description"] = doc
        if name in roots:
            resource = roots[name]
            schema["x-kubernetes-group-version-kind"] = [{"group": resource.group, "version": resource.version,
                                                          "kind": resource.kind}]
        schemas[key] = schema
    return schemas


def _custom_schema(resource: Resource) -> dict[str, Any]:
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
            "description": f"{resource.kind} is a custom resource ({resource.plural}.{resource.group}).",
            "x-kubernetes-group-version-kind": [{"group": resource.group, "version": resource.version,
                                                 "kind": resource.kind}]}


def _operation_paths(resources: list[Resource], ref: str, names: dict[Resource, str]) -> dict[str, Any]:
    """Paths with their write operations and the parameters kubectl looks for (fieldValidation on PATCH)."""
    paths: dict[str, Any] = {}
    for r in resources:
        base = f"/api/{r.version}" if not r.group else f"/apis/{r.group}/{r.version}"
        collection = f"{base}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{base}/{r.plural}"
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        body = {"content": {"application/json": {"schema": {"$ref": ref + names[r]}}}}

        def operation(action: str, params: tuple[str, ...], gvk: dict[str, str] = gvk,
                      body: dict[str, Any] = body) -> dict[str, Any]:
            return {"operationId": f"{action}{gvk['kind']}", "x-kubernetes-action": action,
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": [{"name": p, "in": "query", "schema": {"type": "string"}} for p in params],
                    "responses": {"200": {"description": "OK", **body}}}

        writes = ("dryRun", "fieldManager", "fieldValidation")
        paths[collection] = {"get": operation("list", ("labelSelector", "fieldSelector", "watch")),
                             "post": operation("post", writes)}
        paths[collection + "/{name}"] = {"get": operation("get", ()), "put": operation("put", writes),
                                         "patch": operation("patch", (*writes, "force")),
                                         "delete": operation("delete", ("dryRun", "propagationPolicy"))}
    return paths


def openapi_v3(group: str, version: str) -> dict[str, Any] | None:
    key = f"v3:{group}/{version}:{len(RESOURCES)}"  # kinds registered later (CRDs applied) change the document
    if key not in _OPENAPI_CACHE:
        resources = [r for r in RESOURCES if r.group == group and r.version == version]
        if not resources:
            return None
        _OPENAPI_CACHE[key] = SCHEMAS.document(f"v3:{resources!r}", lambda: _openapi_v3(resources))
    return _OPENAPI_CACHE[key]


def _openapi_v3(resources: list[Resource]) -> dict[str, Any]:
    ref = "#/components/schemas/"
    roots = {m.__name__: r for r in resources if (m := model_for(r)) is not None}
    schemas = _schemas(roots, ref)
    names = {r: _schema_name(m.__name__) if (m := model_for(r)) is not None else
             f"{'.'.join(reversed(r.group.split('.')))}.{r.version}.{r.kind}" for r in resources}
    for r in resources:
        if model_for(r) is None:
            schemas[names[r]] = _custom_schema(r)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.0"},
            "paths": _operation_paths(resources, ref, names), "components": {"schemas": schemas}}


def openapi_v2() -> dict[str, Any]:
    key = f"v2:{len(RESOURCES)}"
    if key not in _OPENAPI_CACHE:
        _OPENAPI_CACHE[key] = SCHEMAS.document(f"v2:{RESOURCES!r}", _openapi_v2)
    return _OPENAPI_CACHE[key]


def _openapi_v2() -> dict[str, Any]:
    ref = "#/definitions/"
    roots = {m.__name__: r for r in RESOURCES if (m := model_for(r)) is not None}
    definitions = _schemas(roots, ref)
    for r in RESOURCES:
        if model_for(r) is None:
            definitions[f"{'.'.join(reversed(r.group.split('.')))}.{r.version}.{r.kind}"] = _custom_schema(r)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.31.0"}, "paths": {},
            "definitions": definitions}


# The subtypes /openapi/v2 is offered in, and the Content-Type of each answer (k8s.io/kube-openapi
# pkg/handler/handler.go: subTypeJSON, subTypeProtobufDeprecated (what kubectl asks for), subTypeProtobuf).
_OPENAPI_V2_OFFERS = (("json", "application/json"),
                      ("com.github.proto-openapi.spec.v2@v1.0+protobuf",
                       "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
                      ("com.github.proto-openapi.spec.v2.v1.0+protobuf",
                       "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"))


def openapi_v2_protobuf() -> bytes:
    """/openapi/v2 as the protobuf kubectl asks for (see mediaops.sim.protobuf.openapi_v2_document)."""
    from mediaops.sim.protobuf import openapi_v2_document

    key = f"v2-protobuf:{len(RESOURCES)}"
    if key not in _OPENAPI_CACHE:
        _OPENAPI_CACHE[key] = SCHEMAS.document(f"v2-protobuf:{RESOURCES!r}", lambda: openapi_v2_document(openapi_v2()))
    data: bytes = _OPENAPI_CACHE[key]
    return data


def _accept_clauses(header: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header, best first: by q, then concrete before ``*``
    (github.com/munnerz/goautoneg ParseAccept)."""
    clauses: list[tuple[str, float]] = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        clauses.append((media if "/" in media else media + "/*", q))
    return sorted(clauses, key=lambda c: (-c[1], c[0].startswith("*/"), c[0].endswith("/*")))


def openapi_v3_root() -> dict[str, Any]:
    """/openapi/v3: one document per group-version (staging/src/k8s.io/kube-openapi/pkg/handler3)."""
    versions = sorted({(r.group, r.version) for r in RESOURCES})
    return {"paths": {(f"apis/{g}/{v}" if g else f"api/{v}"): {
        "serverRelativeURL": f"/openapi/v3/{f'apis/{g}/{v}' if g else f'api/{v}'}?hash={len(RESOURCES):08X}"}
        for g, v in versions}}


# -- CustomResourceDefinitions of the custom kinds the registry knows ---------------------------------------
def crd_for(resource: Resource, created: str) -> dict[str, Any]:
    columns = PRINTER_COLUMNS.get((resource.group, resource.kind))
    version: dict[str, Any] = {"name": resource.version, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}
    if "status" in resource.subresources:
        version["subresources"] = {"status": {}}
    if columns:
        version["additionalPrinterColumns"] = [{"name": n, "type": t, "jsonPath": p} for n, t, p in columns]
    names: dict[str, Any] = {"kind": resource.kind, "listKind": f"{resource.kind}List", "plural": resource.plural,
             "singular": resource.singular}
    if resource.short:
        names["shortNames"] = list(resource.short)
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{resource.plural}.{resource.group}", "creationTimestamp": created,
                         "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource.plural}.{resource.group}")),
                         "resourceVersion": "1", "generation": 1},
            "spec": {"group": resource.group, "names": names,
                     "scope": "Namespaced" if resource.namespaced else "Cluster", "versions": [version]},
            "status": {"acceptedNames": names, "storedVersions": [resource.version],
                       "conditions": [{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                                       "lastTransitionTime": created},
                                      {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                                       "lastTransitionTime": created}]}}


# -- events.k8s.io/v1 Events, stored as core/v1 Events (pkg/apis/events/v1/conversion.go) ------------------
_EVENT_FIELDS = (("involvedObject", "regarding"), ("message", "note"), ("count", "deprecatedCount"),
                 ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
                 ("source", "deprecatedSource"), ("related", "related"), ("reason", "reason"), ("type", "type"),
                 ("action", "action"), ("eventTime", "eventTime"), ("series", "series"),
                 ("reportingComponent", "reportingController"), ("reportingInstance", "reportingInstance"))


def event_to_v1(event: dict[str, Any]) -> dict[str, Any]:
    converted = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": event.get("metadata", {})}
    for core, v1 in _EVENT_FIELDS:
        if event.get(core) is not None:
            converted[v1] = event[core]
    if not converted.get("reportingController") and (event.get("source") or {}).get("component"):
        converted["reportingController"] = event["source"]["component"]
    if not converted.get("eventTime"):
        converted["eventTime"] = None
    return converted


def event_from_v1(event: dict[str, Any]) -> dict[str, Any]:
    converted = {"apiVersion": "v1", "kind": "Event", "metadata": event.get("metadata", {})}
    for core, v1 in _EVENT_FIELDS:
        if event.get(v1) is not None:
            converted[core] = event[v1]
    return converted


def _protobuf_fields(data: bytes) -> list[tuple[int, Any]]:
    """The fields of a protobuf message: (number, bytes or int), read by protobuf.fields."""
    from mediaops.sim import protobuf

    try:
        return [(number, value) for number, wire, value in protobuf.fields(data) if wire in (0, 2)]
    except protobuf.ProtobufError as exc:
        raise ApiError(400, "BadRequest", str(exc)) from None


def _access_review_from_protobuf(data: bytes) -> dict[str, Any]:
    """A SelfSubjectAccessReview in the API's protobuf envelope (runtime.Unknown; k8s.io/api/authorization/v1
    generated.proto: spec=2, resourceAttributes=1 with namespace, verb, group, version, resource, subresource,
    name as fields 1-7, nonResourceAttributes=2 with path, verb)."""
    raw = next((v for n, v in _protobuf_fields(data) if n == 2 and isinstance(v, bytes)), b"")
    spec = next((v for n, v in _protobuf_fields(raw) if n == 2 and isinstance(v, bytes)), b"")
    answer: dict[str, Any] = {}
    for number, value in _protobuf_fields(spec):
        if not isinstance(value, bytes):
            continue
        names = ("namespace", "verb", "group", "version", "resource", "subresource", "name") if number == 1 \
            else ("path", "verb")
        attributes = {names[n - 1]: v.decode(errors="replace") for n, v in _protobuf_fields(value)
                      if isinstance(v, bytes) and 0 < n <= len(names)}
        answer["resourceAttributes" if number == 1 else "nonResourceAttributes"] = attributes
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": answer}


def _jsonpath(obj: Any, path: str) -> Any:
    """The JSONPath subset CRD printer columns use: .a.b, [?(@.k=="v")] filters and [*]; of several results the
    first, as the API server's tableconvertor takes (apiextensions-apiserver pkg/registry/customresource/
    tableconvertor/tableconvertor.go: "we can assume to have only one result")."""
    for part in re.findall(r'\.(\w+)|\[\?\(@\.(\w+)\s*==\s*"([^"]*)"\)\]|(\[\*\])', path):
        name, key, value, every = part
        if name:
            obj = obj.get(name) if isinstance(obj, dict) else None
        elif every:
            obj = obj[0] if isinstance(obj, list) and obj else None
        else:
            obj = next((i for i in obj or [] if isinstance(i, dict) and i.get(key) == value), None) \
                if isinstance(obj, list) else None
        if obj is None:
            return None
    return obj


class Faults:
    """Switchable misbehaviour of the API (the controllers have their own switches)."""

    def __init__(self) -> None:
        self.error_rate = 0.0  # share of requests answered 500
        self.throttle_rate = 0.0  # share answered 429 with Retry-After
        self.timeout_rate = 0.0  # share that hang past the client's timeout, then drop
        self.after_write_rate = 0.0  # share of writes committed, then answered 500
        self.timeout_seconds = 3.0
        self.drop_watches = False  # close every watch stream after its first event
        self.rng = random.Random(7)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class Runtime(Protocol):
    """What the server asks of the rehearsal behind it: pods' logs and exec (the container file system is the
    rehearsal's), and its control endpoint ``/rehearsal/…`` (faults, status, the vault stand-in)."""

    def logs(self, namespace: str, pod: str, container: str, tail: int) -> str: ...

    def exec(self, namespace: str, pod: str, container: str, command: list[str],
             stdin: bytes) -> tuple[bytes, bytes, int]: ...

    def control(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]: ...

    def kubelet(self, node: str, path: str, method: str, query: dict[str, str]) -> tuple[int, str, bytes]: ...


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: Store, address: tuple[str, int] = ("127.0.0.1", 0), *,
                 runtime: Runtime | None = None) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.runtime = runtime  # None: an API without pods' logs, exec or a control endpoint
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.requests_lock = threading.Lock()
        self.stopping = threading.Event()
        # A kind first defined by a CustomResourceDefinition written through the API (`kubectl apply -f crd.yaml`)
        # is served while the CRD is there, as apiextensions-apiserver serves a CRD's resource once it is created
        # (established) and stops when it is deleted (kubernetes/apiextensions-apiserver pkg/apiserver
        # customresource_handler.go: a request for a resource whose CRD is gone is answered 404): kinds.DEFINED.
        store.subscribers.append(self._define)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, method: str, path: str) -> None:
        with self.requests_lock:
            self.requests.append((method, path))

    def _define(self, event: WatchEvent) -> None:
        """A CustomResourceDefinition stored: the kind it defines is known from now on (``kinds.DEFINED`` when it
        was not). One the registry cannot read defines nothing, and never fails the write that stored it."""
        if event.resource.kind != "CustomResourceDefinition" or event.type == "DELETED":
            return
        try:
            spec = event.obj.get("spec") or {}
            new = (spec.get("group"), (spec.get("names") or {}).get("kind")) not in {(r.group, r.kind)
                                                                                     for r in RESOURCES}
            defined = kinds.register_crd(event.obj)
        except (AttributeError, TypeError, ValueError, IndexError):
            return
        if defined is not None and new:
            kinds.DEFINED.add((defined.group, defined.plural))

    def serves(self, resource: Resource) -> bool:
        """Whether the API serves a kind: a group of SERVED_WHEN_INSTALLED, or a kind first defined through the
        API (``kinds.DEFINED``), only while its CustomResourceDefinition is in the store (apiextensions-apiserver
        serves a CRD's resource once it is Established, and stops when it is deleted)."""
        if resource.group not in SERVED_WHEN_INSTALLED and (resource.group, resource.plural) not in kinds.DEFINED:
            return True
        crds = BY_PLURAL[("apiextensions.k8s.io", "customresourcedefinitions")]
        return self.store.peek(crds, "", f"{resource.plural}.{resource.group}") is not None

    def shutdown(self) -> None:
        self.stopping.set()
        with self.store.lock:
            self.store.changed.notify_all()
        super().shutdown()


def _discovery(served: Callable[[Resource], bool]) -> dict[str, Any]:
    groups: dict[str, dict[str, list[Resource]]] = {}
    for resource in RESOURCES:
        if not served(resource):
            continue
        groups.setdefault(resource.group, {}).setdefault(resource.version, []).append(resource)
    return groups


def _subresource(resource: Resource, sub: str) -> tuple[str, str, str, list[str]]:
    """A subresource's response kind (group, version, kind) and verbs, as the API server's discovery gives them:
    scale answers autoscaling/v1 Scale, pods/exec is connected to (PodExecOptions, create and get), pods/log read."""
    if sub == "scale":
        return "autoscaling", "v1", "Scale", ["get", "patch", "update"]
    if sub == "exec":
        return "", "v1", "PodExecOptions", ["create", "get"]
    if sub == "log":
        return "", "v1", resource.kind, ["get"]
    return resource.group, resource.version, resource.kind, ["get", "patch", "update"]


def _resource_list(group: str, version: str, resources: list[Resource]) -> dict[str, Any]:
    items = []
    for r in resources:
        items.append({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": list(r.verbs), "shortNames": list(r.short)})
        for sub in r.subresources:
            _, _, kind, verbs = _subresource(r, sub)
            items.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                          "kind": kind, "verbs": verbs})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": items}


def aggregated_media_type(accept: str) -> str | None:
    """The aggregated discovery media type a request accepts first (``Accept: application/json;g=apidiscovery.k8s.io;
    v=v2;as=APIGroupDiscoveryList,application/json``, as kubectl and client-go ask), or None for the older documents.
    An API server since 1.30 answers /api and /apis with one APIGroupDiscoveryList of every group, version and
    resource (staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/wrapper.go): one request where the
    older discovery takes one per group version."""
    for entry in accept.split(","):
        kind, *params = (part.strip() for part in entry.split(";"))
        values = dict(p.partition("=")[::2] for p in params)
        if kind == "application/json" and values.get("g") == "apidiscovery.k8s.io" and \
                values.get("as") == "APIGroupDiscoveryList" and values.get("v") in ("v2", "v2beta1"):
            return f"application/json;g=apidiscovery.k8s.io;v={values['v']};as=APIGroupDiscoveryList"
    return None


def _aggregated(groups: dict[str, dict[str, list[Resource]]], legacy: bool, media_type: str) -> dict[str, Any]:
    """An APIGroupDiscoveryList (staging/src/k8s.io/api/apidiscovery/v2/types.go): the core group alone for /api,
    every other group for /apis, each version's resources with their subresources."""
    def resource(r: Resource) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "resource": r.plural, "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
            "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.singular,
            "verbs": list(r.verbs)}
        if r.short:
            entry["shortNames"] = list(r.short)
        subresources = []
        for sub in r.subresources:
            group, version, kind, verbs = _subresource(r, sub)
            subresources.append({"subresource": sub, "responseKind": {"group": group, "version": version,
                                                                      "kind": kind}, "verbs": verbs})
        if subresources:
            entry["subresources"] = subresources
        return entry

    version = media_type.split(";v=")[1].split(";")[0]
    items = [{"metadata": {"name": group} if group else {},
              "versions": [{"version": v, "resources": [resource(r) for r in resources], "freshness": "Current"}
                           for v, resources in versions.items()]}
             for group, versions in groups.items() if (group == "") == legacy]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}


def _age(stamp: str) -> str:
    try:
        created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return "<unknown>"
    seconds = int((datetime.now(UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ready_cells(obj: dict[str, Any]) -> tuple[str, str]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status", "")), str(condition.get("message", ""))
    return "", ""


def _printer_table(resource: Resource, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """A custom resource's Table from its CRD's additionalPrinterColumns (the default: NAME and AGE), as
    staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor/tableconvertor.go
    renders it: dates as ages, the rest as the JSONPath's value."""
    columns = PRINTER_COLUMNS[(resource.group, resource.kind)] or (("Age", "date", ".metadata.creationTimestamp"),)
    definitions = [{"name": "Name", "type": "string", "format": "name",
                    "description": "Name must be unique within a namespace.", "priority": 0}]
    definitions += [{"name": n, "type": t, "format": "", "description": "", "priority": 0} for n, t, _ in columns]
    rows = []
    for obj in items:
        cells: list[Any] = [obj["metadata"]["name"]]
        for _, type_, path in columns:
            value = _jsonpath(obj, path)
            if type_ == "date":
                cells.append(_age(value) if value else "<unknown>")
            elif value is None:
                cells.append(None)
            else:
                cells.append(value if type_ in ("integer", "number", "boolean") else str(value))
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": obj["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": definitions, "rows": rows}


def _service_cells(obj: dict[str, Any]) -> list[str]:
    """TYPE, CLUSTER-IP, EXTERNAL-IP and PORT(S) as kubernetes pkg/printers/internalversion/printers.go printService
    (getServiceExternalIP, makePortString) prints them."""
    spec = obj.get("spec") or {}
    kind_name = str(spec.get("type") or "ClusterIP")
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    external = list(spec.get("externalIPs") or [])
    if kind_name == "ExternalName":
        external_ip = str(spec.get("externalName") or "")
    elif kind_name == "LoadBalancer":
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        found = [str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")]
        external_ip = ",".join(found + external) or "<pending>"
    else:
        external_ip = ",".join(external) or "<none>"
    ports = ",".join(f"{p.get('port')}:{p['nodePort']}/{p.get('protocol') or 'TCP'}" if p.get("nodePort")
                     else f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in spec.get("ports") or [])
    return [kind_name, str(cluster_ips[0]) if cluster_ips else "<none>", external_ip, ports or "<none>"]


def table(resource: Resource, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """A server-side Table as kubectl get asks for it."""
    if (resource.group, resource.kind) in PRINTER_COLUMNS:
        return _printer_table(resource, items, rv)
    columns = [("Name", "string", "name")]
    kind = resource.kind
    if kind in ("Deployment", "StatefulSet"):
        columns += [("Ready", "string", ""), ("Up-to-date", "integer", ""), ("Available", "integer", "")]
    elif kind == "ReplicaSet":
        columns += [("Desired", "integer", ""), ("Current", "integer", ""), ("Ready", "integer", "")]
    elif kind == "Pod":
        columns += [("Ready", "string", ""), ("Status", "string", ""), ("Restarts", "integer", "")]
    elif kind == "PersistentVolumeClaim":
        columns += [("Status", "string", ""), ("Capacity", "string", "")]
    elif kind == "Namespace":
        columns += [("Status", "string", "")]
    elif kind == "Service":
        columns += [("Type", "string", ""), ("Cluster-IP", "string", ""), ("External-IP", "string", ""),
                    ("Port(s)", "string", "")]
    elif any((o.get("status") or {}).get("conditions") for o in items) or resource.group.endswith("fluxcd.io"):
        columns += [("Ready", "string", ""), ("Status", "string", "")]
    columns.append(("Age", "string", ""))
    rows = []
    for obj in items:
        status = obj.get("status") or {}
        cells: list[Any] = [obj["metadata"]["name"]]
        if kind in ("Deployment", "StatefulSet"):
            want = (obj.get("spec") or {}).get("replicas", 1)
            cells += [f"{status.get('readyReplicas', 0)}/{want}", status.get("updatedReplicas", 0),
                      status.get("availableReplicas", 0)]
        elif kind == "ReplicaSet":
            cells += [(obj.get("spec") or {}).get("replicas", 1), status.get("replicas", 0),
                      status.get("readyReplicas", 0)]
        elif kind == "Pod":
            statuses = status.get("containerStatuses") or []
            ready = sum(1 for c in statuses if c.get("ready"))
            reason = next((c["state"]["waiting"].get("reason") for c in statuses
                           if (c.get("state") or {}).get("waiting")), None)
            terminating = "Terminating" if obj["metadata"].get("deletionTimestamp") else None
            cells += [f"{ready}/{len(statuses)}", terminating or reason or status.get("phase", ""),
                      sum(int(c.get("restartCount", 0)) for c in statuses)]
        elif kind == "PersistentVolumeClaim":
            # pkg/printers/internalversion/printers.go printPersistentVolumeClaim: Terminating once deleted
            phase = "Terminating" if obj["metadata"].get("deletionTimestamp") else status.get("phase", "")
            cells += [phase, ((status.get("capacity") or {}).get("storage", ""))]
        elif kind == "Namespace":  # pkg/printers/internalversion/printers.go printNamespace: NAME STATUS AGE
            cells.append(status.get("phase", ""))
        elif kind == "Service":
            cells += _service_cells(obj)
        elif len(columns) > 2:
            cells += list(_ready_cells(obj))
        cells.append(_age(obj["metadata"].get("creationTimestamp", "")))
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": obj["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": [{"name": n, "type": t, "format": f, "description": n, "priority": 0}
                                  for n, t, f in columns],
            "rows": rows}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm holds the body
    # until the client's delayed ACK of the headers (about 40 ms per response). The API server (Go) sets it.
    disable_nagle_algorithm = True
    server: ApiServer
    _raw: bytes | None = None

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and demos read their own output
        return

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, code: int, body: Any, extra: dict[str, str] | None = None,
              warnings: list[str] | None = None, content_type: str = "application/json") -> None:
        if getattr(self, "_fail_after_write", False) and 200 <= code < 300:
            self._fail_after_write = False
            code, body, extra = 500, ApiError(500, "InternalError", "the rehearsal cluster committed the write, "
                                              "then failed to answer").status(), None
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        for warning in warnings or []:  # RFC 7234 warn-code 299, as the API server sends warnings
            self.send_header("Warning", "299 - " + json.dumps(warning))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        """The request's body, read once: a fault answered before the route must still consume it, or the
        next request on the kept-alive connection would start in the middle of it ("Bad request syntax")."""
        if self._raw is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(length) if length else b""
        return self._raw

    def _body(self) -> Any:
        raw = self._read_body()
        if not raw:
            return None
        if raw.startswith(b"k8s\x00"):  # protobuf (kubectl sends it for some built-in kinds)
            if self.path.split("?")[0].endswith("/selfsubjectaccessreviews"):
                return _access_review_from_protobuf(raw[4:])
            from mediaops.sim.protobuf import ProtobufError, decode_object

            try:  # the kinds kubectl's typed commands send (see mediaops.sim.protobuf's docstring and ROOTS)
                return decode_object(raw)
            except ProtobufError:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json, application/yaml") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            import yaml

            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ApiError(400, "BadRequest", f"the body of the request is neither JSON nor YAML: "
                               f"{str(exc).splitlines()[0]}") from None

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.count(method, url.path)
        faults = self.server.faults
        self._raw = None
        self._fail_after_write = False
        try:
            if method != "GET":
                self._read_body()
            if url.path.startswith("/rehearsal/"):  # the rehearsal's own control: never faulted
                self._route(method, url.path.rstrip("/") or "/", query)
                return
            if faults.roll(faults.timeout_rate):
                time.sleep(faults.timeout_seconds)
                self.close_connection = True
                return
            if faults.roll(faults.error_rate):
                raise ApiError(500, "InternalError", "the rehearsal cluster injected an internal error")
            if faults.roll(faults.throttle_rate):
                self._send(429, ApiError(429, "TooManyRequests", "rehearsal throttling").status(),
                           {"Retry-After": "1"})
                return
            if method != "GET" and faults.roll(faults.after_write_rate):
                self._fail_after_write = True  # the write happens; its answer is lost to a 500
            if method != "GET" and self._viewer() and not url.path.endswith("/selfsubjectaccessreviews"):
                # A read-only user, to rehearse RBAC refusals: any write is forbidden.
                raise ApiError(403, "Forbidden", f'User "viewer" cannot {method.lower()} this resource')
            self._route(method, url.path.rstrip("/") or "/", query)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # A body the checks above did not foresee: an answer, as the API server's panic recovery gives one.
            self._send(500, ApiError(500, "InternalError", f"Internal error occurred: {type(exc).__name__}: "
                                     f"{exc}").status())

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- routing ------------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        parts = [p for p in path.split("/") if p]
        runtime = self.server.runtime
        if parts[:1] == ["rehearsal"] and runtime is not None:
            code, answer = runtime.control(method, path, self._body() if method == "POST" else None)
            self._send(code, answer)
            return
        groups = _discovery(self.server.serves)
        if path == "/openapi/v2":
            self._openapi_v2()
            return
        if path == "/openapi/v3":
            root = openapi_v3_root()
            served = {f"apis/{g}/{v}" for g, versions in groups.items() if g for v in versions}
            self._send(200, {"paths": {k: v for k, v in root["paths"].items()
                                       if not k.startswith("apis/") or k in served}})
            return
        if path.startswith("/openapi/v3/"):
            gv = parts[2:]
            if gv[:1] == ["apis"] and len(gv) == 3 and gv[2] not in groups.get(gv[1], {}):
                raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
            document = openapi_v3(*(("", gv[1]) if gv[:1] == ["api"] and len(gv) == 2 else
                                    (gv[1], gv[2]) if gv[:1] == ["apis"] and len(gv) == 3 else ("-", "-")))
            if document is None:
                raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
            self._send(200, document)
            return
        if path == "/version":
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-mediaops-rehearsal",
                             "platform": "linux/amd64"})
            return
        aggregated = aggregated_media_type(self.headers.get("Accept") or "") if path in ("/api", "/apis") else None
        if aggregated:
            self._send(200, _aggregated(groups, path == "/api", aggregated), content_type=aggregated)
            return
        if path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                             "serverAddress": "127.0.0.1"}]})
            return
        if path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in versions],
                 "preferredVersion": {"groupVersion": f"{g}/{next(iter(versions))}",
                                      "version": next(iter(versions))}}
                for g, versions in groups.items() if g]})
            return
        if parts[:1] == ["api"] and len(parts) == 2:
            self._send(200, _resource_list("", parts[1], groups.get("", {}).get(parts[1], [])))
            return
        if parts[:1] == ["apis"] and len(parts) == 2 and parts[1] in groups:
            versions = groups[parts[1]]
            first = next(iter(versions))
            self._send(200, {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1],
                             "versions": [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions],
                             "preferredVersion": {"groupVersion": f"{parts[1]}/{first}", "version": first}})
            return
        if parts[:1] == ["apis"] and len(parts) == 3 and parts[2] in groups.get(parts[1], {}):
            self._send(200, _resource_list(parts[1], parts[2], groups[parts[1]][parts[2]]))
            return
        if parts[:1] == ["api"]:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        if group == "" and version == "v1" and len(rest) >= 3 and rest[:1] == ["nodes"] and rest[2] == "proxy":
            self._node_proxy(method, rest[1], "/".join(rest[3:]), query)
            return
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces" and group == "":
            rest = ["namespaces", rest[1]]
        resource = BY_PLURAL.get((group, rest[0])) if rest else None
        if resource is None or resource.version != version or not self.server.serves(resource):
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and sub not in resource.subresources:
            raise ApiError(404, "NotFound", f"{resource.plural} has no subresource {sub}")
        self._resource(method, resource, namespace, name, sub, query)

    def _openapi_v2(self) -> None:
        """/openapi/v2 in the first media type of the Accept header the server offers: JSON, or gnostic's protobuf
        (kubectl asks for that one only), else 406 (k8s.io/kube-openapi pkg/handler/handler.go
        RegisterOpenAPIVersionedService, the clauses ordered as github.com/munnerz/goautoneg ParseAccept does)."""
        for media, _ in _accept_clauses(self.headers.get("Accept") or "*/*"):
            kind, _, subtype = media.partition("/")
            for offer, content_type in _OPENAPI_V2_OFFERS:
                if kind in ("application", "*") and subtype in (offer, "*"):
                    if content_type == "application/json":
                        self._send(200, openapi_v2(), {"Vary": "Accept"})
                        return
                    data = openapi_v2_protobuf()
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Vary", "Accept")
                    self.end_headers()
                    self.wfile.write(data)
                    return
        self.send_response(406)
        self.send_header("Content-Length", "0")
        self.send_header("Vary", "Accept")
        self.end_headers()

    def _node_proxy(self, method: str, node: str, path: str, query: dict[str, str]) -> None:
        """``/api/v1/nodes/{node}/proxy/{path}``: the API server forwards to the node's kubelet and relays its
        answer (kubernetes pkg/registry/core/node/rest/proxy.go, strategy.go ResourceLocation: the name may carry a
        scheme and a port, utilnet.SplitSchemeNamePort; an unknown node is 404 ``nodes "x" not found``)."""
        parts = node.split(":")
        name = parts[1] if len(parts) == 3 or (len(parts) == 2 and parts[0] in ("http", "https")) else parts[0]
        self.server.store.get(BY_PLURAL[("", "nodes")], "", name)
        runtime = self.server.runtime
        if runtime is None:
            raise ApiError(503, "ServiceUnavailable", f'no kubelet answers for node "{name}"')
        code, content_type, data = runtime.kubelet(name, path, method, query)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _resource(self, method: str, resource: Resource, namespace: str, name: str, sub: str,
                  query: dict[str, str]) -> None:
        store = self.server.store
        if sub in ("exec", "log"):
            store.get(resource, namespace, name)
            runtime = self.server.runtime
            if runtime is None:
                raise ApiError(501, "NotImplemented", f"this server cannot {sub} in pods")
            if sub == "log":
                text = runtime.logs(namespace, name, query.get("container", ""), int(query.get("tailLines") or 0))
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self._exec(runtime, namespace, name)
            return
        if resource.kind == "SelfSubjectAccessReview":
            self._access_review(method)
            return
        if resource.group == "events.k8s.io":
            self._events_v1(method, namespace, name, query)
            return
        wants_table = "as=Table" in (self.headers.get("Accept") or "")
        if resource.kind == "CustomResourceDefinition" and method in ("PATCH", "PUT") and name:
            self._materialized_crd(resource, name)
        if resource.kind == "CustomResourceDefinition" and method == "GET":
            if query.get("watch") in ("true", "1"):
                self._watch(resource, namespace, query, extra=self._crd_items(query)[0])
            else:
                self._crds(name, wants_table, query)
            return
        if method == "GET" and not name:
            if query.get("watch") in ("true", "1"):
                self._watch(resource, namespace, query)
                return
            items, rv = store.select(resource, namespace, query.get("labelSelector", ""),
                                   query.get("fieldSelector", ""))
            if wants_table:
                self._send(200, table(resource, items, rv))
                return
            self._send(200, {"kind": f"{resource.kind}List", "apiVersion": resource.api_version,
                             "metadata": {"resourceVersion": str(rv)}, "items": items})
            return
        if method == "GET":
            obj = store.get(resource, namespace, name)
            if sub == "scale":
                self._send(200, _scale(obj))
            elif wants_table:
                self._send(200, table(resource, [obj], store.rv))
            else:
                self._send(200, obj)
            return
        if method == "POST":
            body = self._object_body()
            meta = body.setdefault("metadata", {})
            if resource.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                                   "namespace sent on the request")
                meta["namespace"] = namespace
            warnings = validate(resource, body, self._field_validation(query))
            managed_update(resource, None, body, self._manager(query))
            created = store.create(resource, body, dry_run=self._dry_run(query))
            self._send(201, created, warnings=warnings)
            return
        if method == "PUT":
            body = self._object_body()
            if sub == "scale":
                replicas = int((body.get("spec") or {}).get("replicas", 0))
                obj = store.update(resource, namespace, name, lambda o: o.setdefault("spec", {}).update(
                    replicas=replicas))
                self._send(200, _scale(obj))
                return
            meta = body.setdefault("metadata", {})
            meta.setdefault("name", name)
            if resource.namespaced:
                meta["namespace"] = namespace
            expect = meta.get("resourceVersion")
            with store.lock:
                current = store.get(resource, namespace, name)
                warnings = validate(resource, body, self._field_validation(query), verb="update",
                                    known_unknown=unknown_fields(resource, current))
                _keep_deletion(current, body)
                if sub != "status":
                    managed_update(resource, current, body, self._manager(query))
                result = store.replace(resource, body, subresource=sub, expect_rv=expect,
                                       dry_run=self._dry_run(query))
            self._send(200, result, warnings=warnings)
            return
        if method == "PATCH":
            content_type = self.headers.get("Content-Type", "")
            if "apply-patch" in content_type:
                self._apply(resource, namespace, name, sub, query)
                return
            body = self._body()
            with store.lock:
                current = store.get(resource, namespace, name)
                if sub == "scale":
                    scale = apply_patch(_scale(current), body, content_type.replace("strategic-", ""), resource)
                    current.setdefault("spec", {})["replicas"] = int((scale.get("spec") or {}).get("replicas", 0))
                    obj = store.replace(resource, current, dry_run=self._dry_run(query))
                    self._send(200, _scale(obj))
                    return
                patched = apply_patch(current, body, content_type, resource)
                if not isinstance(patched, dict):
                    raise ApiError(400, "BadRequest", "the patch does not leave an object")
                patched.setdefault("metadata", {})["name"] = name
                if resource.namespaced:
                    patched["metadata"]["namespace"] = namespace
                warnings = validate(resource, patched, self._field_validation(query), verb="patch",
                                    known_unknown=unknown_fields(resource, current))
                _keep_deletion(current, patched)
                if sub != "status":
                    managed_update(resource, current, patched, self._manager(query))
                expect = (body or {}).get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
                result = store.replace(resource, patched, subresource=sub, expect_rv=expect,
                                       dry_run=self._dry_run(query))
            self._send(200, result, warnings=warnings)
            return
        if method == "DELETE":
            options = self._delete_options(query)
            if not name:
                items, _ = store.select(resource, namespace, query.get("labelSelector", ""),
                                      query.get("fieldSelector", ""))
                for item in items:
                    try:
                        store.delete(resource, item["metadata"].get("namespace", ""), item["metadata"]["name"],
                                     **options)
                    except ApiError as exc:
                        if exc.code != 404:
                            raise
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}})
                return
            deleted = store.delete(resource, namespace, name, **options)
            # staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go: 202 when the object is not gone yet
            self._send(202 if deleted["metadata"].get("deletionTimestamp") and store.find(
                resource, namespace, name) is not None else 200, deleted)
            return
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def _viewer(self) -> bool:
        """The read-only user: the token "denied", or kubectl's --as viewer (kubectl sends no token over http)."""
        return self.headers.get("Authorization", "") == "Bearer denied" or \
            self.headers.get("Impersonate-User", "") == "viewer"

    # -- kinds the API server answers itself ------------------------------------------------------------
    def _access_review(self, method: str) -> None:
        """SelfSubjectAccessReview (pkg/registry/authorization/selfsubjectaccessreview/rest.go): the rehearsal's
        operator may do anything; the token "denied" (a read-only viewer) may only get, list and watch."""
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on selfsubjectaccessreviews")
        body = self._object_body()
        spec = body.get("spec") or {}
        attributes = spec.get("resourceAttributes") or spec.get("nonResourceAttributes")
        if not isinstance(attributes, dict):
            raise ApiError(422, "Invalid", 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
                           "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                           "nonResourceAttributes or resourceAttributes must be specified")
        viewer = self._viewer()
        allowed = not viewer or attributes.get("verb") in ("get", "list", "watch")
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            status["reason"] = "RBAC: allowed by ClusterRoleBinding \"cluster-admin\"" if not viewer else \
                'RBAC: allowed by ClusterRoleBinding "view"'
        else:
            status["denied"] = False
            status["reason"] = ""
        self._send(201, {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                         "metadata": {"creationTimestamp": None}, "spec": spec, "status": status})

    def _crd_items(self, query: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        store = self.server.store
        crd_res = BY_PLURAL[("apiextensions.k8s.io", "customresourcedefinitions")]
        stored, rv = store.select(crd_res)
        have = {c["metadata"]["name"] for c in stored}
        created = getattr(self.server, "started", now())
        known = [crd_for(r, created) for r in RESOURCES if r.group not in BUILTIN_GROUPS | SERVED_WHEN_INSTALLED
                 and (r.group, r.plural) not in kinds.DEFINED]
        labels = parse_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""))
        items = sorted((c for c in stored + [c for c in known if c["metadata"]["name"] not in have]
                        if labels(c) and fields(c)), key=lambda c: c["metadata"]["name"])
        return items, rv

    def _materialized_crd(self, resource: Resource, name: str) -> None:
        """A CRD this API lists for a custom kind it knows without having stored it (``_crd_items``) is stored
        before it is changed: to a client it exists (`kubectl apply -f` of a chart's CRDs reads it, then patches
        it), so the change must find it, as on a cluster where the chart installed it."""
        store = self.server.store
        if store.peek(resource, "", name) is not None:
            return
        made = next((c for c in self._crd_items({})[0] if c["metadata"]["name"] == name), None)
        if made is not None:
            with contextlib.suppress(ApiError):  # stored meanwhile by another request
                store.create(resource, made)

    def _crds(self, name: str, wants_table: bool, query: dict[str, str]) -> None:
        """The stored CustomResourceDefinitions, and one for every custom kind the registry knows."""
        items, rv = self._crd_items(query)
        if name:
            match = [c for c in items if c["metadata"]["name"] == name]
            if not match:
                raise ApiError(404, "NotFound", f'customresourcedefinitions.apiextensions.k8s.io "{name}" not found')
            items = match
        if wants_table:
            columns = [("Name", "string", "name"), ("Created At", "date", "")]
            self._send(200, {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                             "metadata": {"resourceVersion": str(rv)},
                             "columnDefinitions": [{"name": n, "type": t, "format": f, "description": "",
                                                    "priority": 0} for n, t, f in columns],
                             "rows": [{"cells": [c["metadata"]["name"], c["metadata"].get("creationTimestamp")],
                                       "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                  "metadata": c["metadata"]}} for c in items]})
            return
        if name:
            self._send(200, items[0])
            return
        self._send(200, {"kind": "CustomResourceDefinitionList", "apiVersion": "apiextensions.k8s.io/v1",
                         "metadata": {"resourceVersion": str(rv)}, "items": items})

    def _events_v1(self, method: str, namespace: str, name: str, query: dict[str, str]) -> None:
        store = self.server.store
        core = BY_PLURAL[("", "events")]
        if method == "GET" and query.get("watch") in ("true", "1"):
            self._watch(core, namespace, query, convert=event_to_v1)
            return
        if method == "GET" and not name:
            items, rv = store.select(core, namespace, query.get("labelSelector", ""),
                                     query.get("fieldSelector", ""))
            converted = [event_to_v1(e) for e in items]
            if "as=Table" in (self.headers.get("Accept") or ""):
                self._send(200, table(BY_PLURAL[("events.k8s.io", "events")], converted, rv))
                return
            self._send(200, {"kind": "EventList", "apiVersion": "events.k8s.io/v1",
                             "metadata": {"resourceVersion": str(rv)}, "items": converted})
            return
        if method == "GET":
            self._send(200, event_to_v1(store.get(core, namespace, name)))
            return
        if method == "DELETE":
            self._send(200, event_to_v1(store.delete(core, namespace, name, **self._delete_options(query))))
            return
        body = self._object_body()
        v1_res = BY_PLURAL[("events.k8s.io", "events")]
        if method == "PATCH":
            current = event_to_v1(store.get(core, namespace, name))
            body = apply_patch(current, body, self.headers.get("Content-Type", ""), v1_res)
        body.setdefault("metadata", {})["namespace"] = namespace
        if name:
            body["metadata"]["name"] = name
        warnings = validate(v1_res, body, self._field_validation(query))
        dry = self._dry_run(query)
        if method == "POST":
            self._send(201, event_to_v1(store.create(core, event_from_v1(body), dry_run=dry)), warnings=warnings)
        else:
            self._send(200, event_to_v1(store.replace(core, event_from_v1(body), dry_run=dry)), warnings=warnings)

    # -- request options --------------------------------------------------------------------------------
    def _object_body(self) -> dict[str, Any]:
        body = self._body()
        if body is None:
            body = {}
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise ApiError(400, "BadRequest", "the body of the request is not a Kubernetes object")
        return body

    def _field_validation(self, query: dict[str, str]) -> str:
        """The fieldValidation query parameter; Warn when absent (kubectl sends Strict)."""
        mode = query.get("fieldValidation") or "Warn"
        if mode not in FIELD_VALIDATION:
            raise ApiError(400, "BadRequest", f'fieldValidation "{mode}" is not one of Ignore, Warn, Strict')
        return mode

    def _dry_run(self, query: dict[str, str], values: Any = None) -> bool:
        given = [v for v in [*(values or []), *parse_qs(urlsplit(self.path).query).get("dryRun", [])] if v]
        for value in given:
            if value != "All":
                raise ApiError(400, "BadRequest", f'dryRun: Unsupported value: "{value}": supported values: "All"')
        return bool(given)

    def _manager(self, query: dict[str, str]) -> str:
        """fieldManager, or the client's User-Agent up to its first "/" as the API server derives it."""
        manager = query.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/", 1)[0]
        if len(manager) > 128:
            raise ApiError(422, "Invalid", "fieldManager: Too long: may not be longer than 128")
        return manager

    def _delete_options(self, query: dict[str, str]) -> dict[str, Any]:
        """DeleteOptions from the body (kubectl sends them there) and the query (client-go may)."""
        body = self._body() if self._read_body() else None
        body = body if isinstance(body, dict) else {}
        policy = body.get("propagationPolicy") or query.get("propagationPolicy")
        if policy is None and (body.get("orphanDependents") is True or query.get("orphanDependents") == "true"):
            policy = "Orphan"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
                           f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"')
        dry_run = body.get("dryRun") or []
        return {"propagation": policy or "Background",
                "preconditions": body["preconditions"] if isinstance(body.get("preconditions"), dict) else None,
                "dry_run": self._dry_run(query, [dry_run] if isinstance(dry_run, str) else dry_run)}

    def _apply(self, resource: Resource, namespace: str, name: str, sub: str, query: dict[str, str]) -> None:
        if not query.get("fieldManager"):
            raise ApiError(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                           "value: is required for apply patch")
        applied = self._object_body()
        meta = applied.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        meta["name"] = name
        if resource.namespaced:
            meta["namespace"] = namespace
        mode = self._field_validation(query) if "fieldValidation" in query else "Strict"
        store = self.server.store
        with store.lock:
            current = store.find(resource, namespace, name)
            # an apply configuration may be partial: the merged object is what has to be complete
            warnings = validate(resource, applied, mode, verb="apply", required=current is None,
                                known_unknown=unknown_fields(resource, current) if current else None)
            merged = server_side_apply(resource, current, applied, query["fieldManager"],
                                       query.get("force") in ("true", "1"))
            dry = self._dry_run(query)
            if current is None:
                result = store.create(resource, merged, dry_run=dry)
                self._send(201, result, warnings=warnings)
                return
            validate(resource, copy.deepcopy(merged), "Ignore", verb="apply",
                     known_unknown=unknown_fields(resource, current))
            _keep_deletion(current, merged)
            result = store.replace(resource, merged, subresource=sub, dry_run=dry)
        self._send(200, result, warnings=warnings)

    # -- exec (websocket, channel protocol v4/v5) ---------------------------------------------------------
    def _exec(self, runtime: Any, namespace: str, name: str) -> None:
        import base64
        import hashlib

        url = urlsplit(self.path)
        params = parse_qs(url.query)
        command = params.get("command", [])
        container = (params.get("container") or [""])[-1]
        wants_stdin = (params.get("stdin") or ["false"])[-1] in ("true", "1")
        key = self.headers.get("Sec-WebSocket-Key")
        if not key or "websocket" not in (self.headers.get("Upgrade") or "").lower():
            raise ApiError(400, "BadRequest", "exec needs a websocket upgrade")
        offered = [p.strip() for p in (self.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        protocol = next((p for p in ("v5.channel.k8s.io", "v4.channel.k8s.io") if p in offered), "v4.channel.k8s.io")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        stdin = b""
        while wants_stdin:
            opcode, payload = self._read_frame()
            if opcode == 8 or opcode is None:
                break
            if payload[:1] == b"\x00":
                stdin += payload[1:]
            elif payload[:2] == b"\xff\x00":  # v5: stdin closed
                break
        out, err, code = runtime.exec(namespace, name, container, command, stdin)
        for channel, data in ((1, out), (2, err)):
            if data:
                self._write_frame(bytes([channel]) + data)
        status = {"metadata": {}, "status": "Success"} if code == 0 else {
            "metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        self._write_frame(b"\x03" + json.dumps(status).encode())
        self._write_frame(b"\x03\xe8", opcode=8)
        self.close_connection = True

    def _read_frame(self) -> tuple[int | None, bytes]:
        head = self.rfile.read(2)
        if len(head) < 2:
            return None, b""
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(self.rfile.read(2), "big")
        elif length == 127:
            length = int.from_bytes(self.rfile.read(8), "big")
        mask = self.rfile.read(4) if head[1] & 0x80 else b""
        payload = bytearray(self.rfile.read(length))
        if mask:
            for index in range(len(payload)):
                payload[index] ^= mask[index % 4]
        return opcode, bytes(payload)

    def _write_frame(self, payload: bytes, opcode: int = 2) -> None:
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([len(payload)])
        elif len(payload) < 65536:
            head += bytes([126]) + len(payload).to_bytes(2, "big")
        else:
            head += bytes([127]) + len(payload).to_bytes(8, "big")
        self.wfile.write(head + payload)
        self.wfile.flush()

    # -- watch --------------------------------------------------------------------------------------
    def _watch(self, resource: Resource, namespace: str, query: dict[str, str],
               convert: Any = None, extra: list[dict[str, Any]] | None = None) -> None:
        store = self.server.store

        labels, fields = parse_selector(query.get("labelSelector", "")), parse_field_selector(
            query.get("fieldSelector", ""))
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        since = query.get("resourceVersion")
        with store.lock:
            if since in (None, "", "0"):
                # No version: the current objects as ADDED, then changes (as a real API server does).
                items, rv = store.select(resource, namespace)
                backlog = [("ADDED", o) for o in items if labels(o) and fields(o)]
                seen = {o["metadata"]["name"] for _, o in backlog}
                backlog += [("ADDED", o) for o in extra or [] if o["metadata"]["name"] not in seen]
                position = rv
            else:
                try:
                    position = int(since)
                    store.events_since(position)
                except ApiError as exc:
                    self._start_stream()
                    self._chunk({"type": "ERROR", "object": exc.status()})
                    self._end_stream()
                    return
                except ValueError:
                    raise ApiError(400, "BadRequest", f"invalid resourceVersion {since!r}") from None
                backlog = []
        self._start_stream()
        drop = self.server.faults.drop_watches
        try:
            for kind, obj in backlog:
                self._chunk({"type": kind, "object": convert(obj) if convert else obj})
                if drop:
                    return self._end_stream()
            if query.get("sendInitialEvents") == "true":  # WatchList, as kubectl 1.3x uses it
                self._chunk({"type": "BOOKMARK", "object": {
                    "kind": resource.kind, "apiVersion": resource.api_version,
                    "metadata": {"resourceVersion": str(position),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}})
            while not self.server.stopping.is_set():
                with store.lock:
                    events = [e for e in store.events_since(position)]
                    if not events:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        store.changed.wait(min(remaining, 1.0))
                        continue
                for event in events:
                    position = event.rv
                    if event.resource != resource:
                        continue
                    obj = event.obj
                    if namespace and obj["metadata"].get("namespace") != namespace:
                        continue
                    if not (labels(obj) and fields(obj)):
                        continue
                    self._chunk({"type": event.type, "object": convert(obj) if convert else obj})
                    if drop or self.server.faults.drop_watches:
                        return self._end_stream()
                if time.monotonic() >= deadline:
                    break
            self._end_stream()
        except ApiError as exc:
            self._chunk({"type": "ERROR", "object": exc.status()})
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def _keep_deletion(current: dict[str, Any], new: dict[str, Any]) -> None:
    """deletionTimestamp and deletionGracePeriodSeconds are the server's: a client's write keeps them."""
    meta = new.setdefault("metadata", {})
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds"):
        if key in current["metadata"]:
            meta[key] = current["metadata"][key]
        else:
            meta.pop(key, None)


def _scale(obj: dict[str, Any]) -> dict[str, Any]:
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                          "creationTimestamp") if k in obj["metadata"]},
            "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 0))},
            "status": {"replicas": int((obj.get("status") or {}).get("replicas", 0)),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}


__all__ = ["ApiServer", "Faults", "field_value"]
