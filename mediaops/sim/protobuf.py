"""Request bodies kubectl sends as protobuf, read as the API server reads them.

kubectl's typed clients send built-in kinds as ``application/vnd.kubernetes.protobuf``: the magic ``k8s\\x00``, then a
runtime.Unknown envelope (k8s.io/apimachinery pkg/runtime/generated.proto: typeMeta = 1 {apiVersion = 1, kind = 2},
raw = 2) around the object's message. Seen with ``kubectl -v=8`` (v1.37) against the rehearsal: every typed
``kubectl create`` subcommand (namespace, serviceaccount, service clusterip/nodeport/loadbalancer/externalname,
deployment, ingress, job, job --from=cronjob/NAME, cronjob, configmap, secret generic/tls/docker-registry, role,
rolebinding, clusterrole, clusterrolebinding, quota, priorityclass, poddisruptionbudget), ``kubectl autoscale``
(an autoscaling/v2 HorizontalPodAutoscaler), ``kubectl debug node/NAME`` (a Pod) and ``kubectl drain --force`` (the
DeleteOptions body of each pod's DELETE) do. ``kubectl run`` (with or without ``--overrides``), ``kubectl expose``,
``kubectl create -f``/``replace``/``delete`` send JSON, and ``scale``, ``label``, ``annotate``, ``set``, ``rollout``,
``cordon``, ``taint``, ``patch`` and ``apply`` send JSON patches. The rehearsal reads the kinds of ``ROOTS`` (and
DeleteOptions in any group version, as metav1.AddToGroupVersion registers it in every one) and answers 415 for any
other.

The message table below is generated from k8s.io/api (the ``protobuf:"..."`` tags of ``types.go`` for the field
numbers, ``json:"..."`` for the JSON names, ``omitempty``, pointers and inlined structs; checked field by field
against the package's ``generated.proto``: core/v1, batch/v1, apps/v1, networking/v1, rbac/v1, policy/v1,
scheduling/v1 and autoscaling/v2) and k8s.io/apimachinery (pkg/apis/meta/v1 types.go and generated.proto) at commits
10b39a39bcee and eed236ceee2c. The object is then what encoding/json would write of the Go struct: a non-pointer
string, number, bool, slice or map with ``omitempty`` is left out when it is the zero value (gogo-protobuf writes
those fields always; encoding/json never leaves out a struct), a pointer is kept as sent (it is on the wire only when
set), an inlined struct's fields are the parent's (``json:",inline"``), metav1.Time is RFC 3339 (and left out when
zero), intstr.IntOrString a number or a string (pkg/util/intstr/generated.proto: type = 1, intVal = 2,
strVal = 3), resource.Quantity its string (pkg/api/resource/generated.proto and quantity_proto.go: a message
{string = 1}, also as the value of a ResourceList map), FieldsV1 and RawExtension their raw JSON. A field the table
does not know is refused (415) rather than dropped.

The other way, ``openapi_v2_document`` writes the /openapi/v2 document as the API server serves it to a client that
asks for ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` (kubectl does, and accepts nothing else):
gnostic's openapi_v2.Document, without the ``k8s\\x00`` envelope of the API's objects.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, datetime
from typing import Any

import yaml

REPEATED, OMIT, INLINE = 1, 2, 4
ROOTS = {("batch/v1", "Job"): "batch.Job", ("batch/v1", "CronJob"): "batch.CronJob",
         ("v1", "ConfigMap"): "core.ConfigMap", ("v1", "Secret"): "core.Secret",
         ("v1", "Namespace"): "core.Namespace", ("v1", "ServiceAccount"): "core.ServiceAccount",
         ("v1", "Service"): "core.Service", ("v1", "Pod"): "core.Pod", ("v1", "ResourceQuota"): "core.ResourceQuota",
         ("apps/v1", "Deployment"): "apps.Deployment", ("networking.k8s.io/v1", "Ingress"): "networking.Ingress",
         ("rbac.authorization.k8s.io/v1", "Role"): "rbac.Role",
         ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac.ClusterRole",
         ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac.RoleBinding",
         ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac.ClusterRoleBinding",
         ("policy/v1", "PodDisruptionBudget"): "policy.PodDisruptionBudget",
         ("scheduling.k8s.io/v1", "PriorityClass"): "scheduling.PriorityClass",
         ("autoscaling/v2", "HorizontalPodAutoscaler"): "autoscaling.HorizontalPodAutoscaler",
         ("v1", "DeleteOptions"): "meta.DeleteOptions"}
_OMITTABLE = ("string", "bytes", "int", "bool")  # kinds encoding/json's omitempty leaves out when zero (not structs)


class ProtobufError(ValueError):
    """A body the rehearsal cannot read (not a kind of ROOTS, a field it does not know, a malformed message)."""


def fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(number, wire type, value) of each field of a message: varints as int, fixed as bytes, others as bytes."""
    found: list[tuple[int, int, Any]] = []
    at = 0

    def varint() -> int:
        nonlocal at
        value, at = _varint(data, at)
        return value

    while at < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            found.append((number, wire, varint()))
        elif wire == 2:
            size = varint()
            if at + size > len(data):
                raise ProtobufError("truncated protobuf body")
            found.append((number, wire, data[at:at + size]))
            at += size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            found.append((number, wire, data[at:at + width]))
            at += width
        else:
            raise ProtobufError(f"unsupported protobuf wire type {wire}")
    return found


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at``, and where the next field begins."""
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise ProtobufError("truncated protobuf body")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _varints(data: bytes) -> list[int]:
    """A packed repeated varint field."""
    out: list[int] = []
    at = 0
    while at < len(data):
        value, at = _varint(data, at)
        out.append(_signed(value))
    return out


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if wire != (0 if kind in ("int", "bool") else 2):
        raise ProtobufError(f"a {kind} field with wire type {wire}")
    if kind == "string":
        return bytes(value).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()  # []byte is base64 in JSON
    if kind == "int":
        return _signed(int(value))
    if kind == "bool":
        return bool(value)
    if kind == "time":  # metav1.Time: Timestamp {seconds = 1, nanos = 2}; empty when zero
        seconds = next((_signed(v) for n, _, v in fields(value) if n == 1), 0)
        if not seconds:
            return None
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "intstr":  # intstr.IntOrString: type = 1 (0 int, 1 string), intVal = 2, strVal = 3
        parts = {n: v for n, _, v in fields(value)}
        return bytes(parts.get(3, b"")).decode() if parts.get(1) == 1 else _signed(int(parts.get(2, 0)))
    if kind == "quantity":  # resource.Quantity: string = 1 (quantity_proto.go writes it always: "0" when zero)
        quantity = fields(value)
        if any(n != 1 or w != 2 for n, w, _ in quantity):
            raise ProtobufError("a resource.Quantity with a field other than its string")
        return next((bytes(v).decode("utf-8") for _, _, v in quantity), "0")
    if kind == "json":  # FieldsV1 / RawExtension: raw = 1
        raw = next((v for n, _, v in fields(value) if n == 1), b"")
        return json.loads(raw) if raw else None
    return decode(kind, bytes(value))


def _zero(value: Any) -> bool:
    return value in ("", 0, False, None) or value == [] or value == {}


def decode(message: str, data: bytes) -> dict[str, Any]:
    """The JSON object of a message of the table."""
    if message not in MESSAGES:
        raise ProtobufError(f"the rehearsal does not know the protobuf message {message}")
    rows = {row[0]: row for row in MESSAGES[message]}
    out: dict[str, Any] = {}
    for number, wire, value in fields(data):
        row = rows.get(number)
        if row is None:
            raise ProtobufError(f"field {number} of {message} is not one the rehearsal knows")
        _, name, kind, flags = row
        if kind.startswith("map:"):  # a map entry: key = 1, value = 2
            entry = {n: (w, v) for n, w, v in fields(value)}
            key = bytes(entry.get(1, (2, b""))[1]).decode()
            inner_wire, inner = entry.get(2, (2, b""))
            out.setdefault(name, {})[key] = _scalar(kind[4:], inner_wire, inner)
        elif flags & REPEATED:
            if kind in ("int", "bool") and wire == 2:  # packed
                out.setdefault(name, []).extend(bool(v) if kind == "bool" else v for v in _varints(value))
            else:
                out.setdefault(name, []).append(_scalar(kind, wire, value))
        elif flags & INLINE:
            out.update(_scalar(kind, wire, value))
        else:
            out[name] = _scalar(kind, wire, value)
    for _, name, kind, flags in MESSAGES[message]:
        omittable = kind in _OMITTABLE or kind.startswith("map:") or flags & REPEATED
        if name in out and (out[name] is None or (flags & OMIT and omittable and _zero(out[name]))):
            del out[name]
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """An object from a protobuf request body (``k8s\\x00`` + runtime.Unknown), with its apiVersion and kind."""
    if not body.startswith(b"k8s\x00"):
        raise ProtobufError("not a protobuf body")
    envelope = {n: v for n, _, v in fields(body[4:])}
    type_meta = {n: bytes(v).decode() for n, _, v in fields(envelope.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    root = ROOTS.get((api_version, kind)) or ("meta.DeleteOptions" if kind == "DeleteOptions" else None)
    if root is None:
        raise ProtobufError(f"the rehearsal cannot read a protobuf {kind or 'body'}")
    return {"apiVersion": api_version, "kind": kind, **decode(root, bytes(envelope.get(2, b"")))}


# -- the OpenAPI v2 document as protobuf ------------------------------------------------------------------------
# k8s.io/kube-openapi pkg/handler/handler.go (ToProtoBinary) serves the JSON document parsed by gnostic
# (github.com/google/gnostic-models openapiv2/document.go ParseDocument, OpenAPIv2.go) and marshalled as
# openapiv2/OpenAPIv2.proto's Document: no ``k8s\x00`` magic and no runtime.Unknown envelope (those are
# k8s.io/apimachinery pkg/runtime/serializer/protobuf/protobuf.go's, for API objects). kubectl reads it with
# proto.Unmarshal (k8s.io/client-go discovery OpenAPISchema) to validate what it cannot leave to the server's
# fieldValidation, such as each item of a ``kind: List`` (k8s.io/cli-runtime pkg/resource query_param_verifier.go).
# Vendor extensions (``x-...``) and other free values are gnostic's Any: their YAML text (compiler.Marshal).
_STRING, _DOUBLE, _INT, _BOOL, _ANY, _ANYS, _STRINGS = "string", "double", "int", "bool", "any", "anys", "strings"
_SCHEMA_FIELDS: dict[str, tuple[int, str]] = {  # Schema: JSON key -> (field number, kind)
    "$ref": (1, _STRING), "format": (2, _STRING), "title": (3, _STRING), "description": (4, _STRING),
    "default": (5, _ANY), "multipleOf": (6, _DOUBLE), "maximum": (7, _DOUBLE), "exclusiveMaximum": (8, _BOOL),
    "minimum": (9, _DOUBLE), "exclusiveMinimum": (10, _BOOL), "maxLength": (11, _INT), "minLength": (12, _INT),
    "pattern": (13, _STRING), "maxItems": (14, _INT), "minItems": (15, _INT), "uniqueItems": (16, _BOOL),
    "maxProperties": (17, _INT), "minProperties": (18, _INT), "required": (19, _STRINGS), "enum": (20, _ANYS),
    "additionalProperties": (21, "additionalProperties"), "type": (22, "type"), "items": (23, "items"),
    "allOf": (24, "allOf"), "properties": (25, "properties"), "discriminator": (26, _STRING),
    "readOnly": (27, _BOOL), "example": (30, _ANY)}
_SCHEMA_EXTENSIONS, _INFO_EXTENSIONS, _DOCUMENT_EXTENSIONS = 31, 7, 16


def _key(number: int, wire: int) -> bytes:
    return _varint_bytes(number << 3 | wire)


def _varint_bytes(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _message(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a string, bytes or an embedded message, written even when empty)."""
    return _key(number, 2) + _varint_bytes(len(payload)) + payload


def _any(value: Any) -> bytes:
    """gnostic's Any: yaml = 2, the value's YAML text."""
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=True)
    return _message(2, text.removesuffix("...\n").encode())


def _extensions(number: int, obj: dict[str, Any]) -> bytes:
    """NamedAny {name = 1, value = 2} of each ``x-`` key, in the document's order."""
    return b"".join(_message(number, _message(1, key.encode()) + _message(2, _any(value)))
                    for key, value in obj.items() if key.startswith("x-"))


def _unknown(obj: dict[str, Any], known: Any, at: str) -> None:
    extra = [key for key in obj if key not in known and not key.startswith("x-")]
    if extra:
        raise ProtobufError(f"the rehearsal cannot write {', '.join(extra)} of {at} in protobuf")


def _schema(schema: dict[str, Any], at: str) -> bytes:
    """An openapi_v2.Schema, its fields in number order (as proto.Marshal writes them)."""
    if not isinstance(schema, dict):
        raise ProtobufError(f"{at} is not a schema")
    _unknown(schema, _SCHEMA_FIELDS, at)
    out = bytearray()
    for key, (number, kind) in sorted(_SCHEMA_FIELDS.items(), key=lambda item: item[1][0]):
        if key not in schema:
            continue
        value = schema[key]
        if kind == _STRING:
            out += _message(number, str(value).encode()) if value else b""
        elif kind == _DOUBLE:
            out += _key(number, 1) + struct.pack("<d", float(value)) if value else b""
        elif kind in (_INT, _BOOL):
            out += _key(number, 0) + _varint_bytes(int(value)) if value else b""
        elif kind == _ANY:
            out += _message(number, _any(value))
        elif kind == _ANYS:
            out += b"".join(_message(number, _any(v)) for v in value)
        elif kind == _STRINGS:
            out += b"".join(_message(number, str(v).encode()) for v in value)
        elif kind == "additionalProperties":  # AdditionalPropertiesItem: oneof {schema = 1, boolean = 2}
            inner = (_key(2, 0) + _varint_bytes(int(value)) if isinstance(value, bool)
                     else _message(1, _schema(value, f"{at}.additionalProperties")))
            out += _message(number, inner)
        elif kind == "type":  # TypeItem: value = 1, a string or a list of them
            out += _message(number, b"".join(_message(1, str(v).encode())
                                             for v in (value if isinstance(value, list) else [value])))
        elif kind == "items":  # ItemsItem: schema = 1 (gnostic reads one schema, not a list)
            out += _message(number, _message(1, _schema(value, f"{at}.items")))
        elif kind == "allOf":
            out += b"".join(_message(number, _schema(v, f"{at}.allOf")) for v in value)
        else:  # Properties: additional_properties = 1, NamedSchema {name = 1, value = 2}
            out += _message(number, b"".join(
                _message(1, _message(1, name.encode()) + _message(2, _schema(sub, f"{at}.{name}")))
                for name, sub in value.items()))
    out += _extensions(_SCHEMA_EXTENSIONS, schema)
    return bytes(out)


def openapi_v2_document(document: dict[str, Any]) -> bytes:
    """The JSON /openapi/v2 document as gnostic's openapi_v2.Document (swagger = 1, info = 2, paths = 8,
    definitions = 9, vendor_extension = 16). The rehearsal's document has no operations under ``paths``; one
    that had, or a key of the document this does not know, is refused rather than dropped."""
    _unknown(document, ("swagger", "info", "paths", "definitions"), "the OpenAPI document")
    info = document.get("info") or {}
    _unknown(info, ("title", "version", "description"), "the OpenAPI info")
    paths = document.get("paths") or {}
    if any(not key.startswith("x-") for key in paths):
        raise ProtobufError("the rehearsal cannot write the OpenAPI paths' operations in protobuf")
    out = bytearray(_message(1, str(document.get("swagger", "2.0")).encode()))
    out += _message(2, b"".join(_message(n, str(info[k]).encode()) for n, k in
                                ((1, "title"), (2, "version"), (3, "description")) if info.get(k))
                    + _extensions(_INFO_EXTENSIONS, info))
    out += _message(8, _extensions(1, paths))  # Paths: vendor_extension = 1, path = 2
    out += _message(9, b"".join(_message(1, _message(1, name.encode()) + _message(2, _schema(schema, name)))
                                for name, schema in (document.get("definitions") or {}).items()))
    out += _extensions(_DOCUMENT_EXTENSIONS, document)
    return bytes(out)


# -- generated: see the module's docstring --------------------------------------------------------------------
MESSAGES: dict[str, tuple[tuple[int, str, str, int], ...]] = {
    'batch.Job': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'batch.JobSpec', 2),
        (3, 'status', 'batch.JobStatus', 2)),
    'meta.ObjectMeta': ((1, 'name', 'string', 2), (2, 'generateName', 'string', 2), (3, 'namespace', 'string', 2),
        (4, 'selfLink', 'string', 2), (5, 'uid', 'string', 2), (6, 'resourceVersion', 'string', 2),
        (7, 'generation', 'int', 2), (8, 'creationTimestamp', 'time', 2), (9, 'deletionTimestamp', 'time', 0),
        (10, 'deletionGracePeriodSeconds', 'int', 0), (11, 'labels', 'map:string', 2),
        (12, 'annotations', 'map:string', 2), (13, 'ownerReferences', 'meta.OwnerReference', 3),
        (14, 'finalizers', 'string', 3), (17, 'managedFields', 'meta.ManagedFieldsEntry', 3)),
    'meta.OwnerReference': ((5, 'apiVersion', 'string', 0), (1, 'kind', 'string', 0), (3, 'name', 'string', 0),
        (4, 'uid', 'string', 0), (6, 'controller', 'bool', 0), (7, 'blockOwnerDeletion', 'bool', 0)),
    'meta.ManagedFieldsEntry': ((1, 'manager', 'string', 2), (2, 'operation', 'string', 2),
        (3, 'apiVersion', 'string', 2), (4, 'time', 'time', 0), (6, 'fieldsType', 'string', 2),
        (7, 'fieldsV1', 'json', 0), (8, 'subresource', 'string', 2)),
    'batch.JobSpec': ((1, 'parallelism', 'int', 0), (2, 'completions', 'int', 0),
        (3, 'activeDeadlineSeconds', 'int', 0), (11, 'podFailurePolicy', 'batch.PodFailurePolicy', 0),
        (16, 'successPolicy', 'batch.SuccessPolicy', 0), (7, 'backoffLimit', 'int', 0),
        (12, 'backoffLimitPerIndex', 'int', 0), (13, 'maxFailedIndexes', 'int', 0),
        (4, 'selector', 'meta.LabelSelector', 0), (5, 'manualSelector', 'bool', 0),
        (6, 'template', 'core.PodTemplateSpec', 0), (8, 'ttlSecondsAfterFinished', 'int', 0),
        (9, 'completionMode', 'string', 0), (10, 'suspend', 'bool', 0), (14, 'podReplacementPolicy', 'string', 0),
        (15, 'managedBy', 'string', 0), (17, 'scheduling', 'batch.JobSchedulingConfiguration', 0)),
    'batch.PodFailurePolicy': ((1, 'rules', 'batch.PodFailurePolicyRule', 1),),
    'batch.PodFailurePolicyRule': ((1, 'action', 'string', 0),
        (2, 'onExitCodes', 'batch.PodFailurePolicyOnExitCodesRequirement', 0),
        (3, 'onPodConditions', 'batch.PodFailurePolicyOnPodConditionsPattern', 3)),
    'batch.PodFailurePolicyOnExitCodesRequirement': ((1, 'containerName', 'string', 0), (2, 'operator', 'string', 0),
        (3, 'values', 'int', 1)),
    'batch.PodFailurePolicyOnPodConditionsPattern': ((1, 'type', 'string', 0), (2, 'status', 'string', 0)),
    'batch.SuccessPolicy': ((1, 'rules', 'batch.SuccessPolicyRule', 1),),
    'batch.SuccessPolicyRule': ((1, 'succeededIndexes', 'string', 0), (2, 'succeededCount', 'int', 0)),
    'meta.LabelSelector': ((1, 'matchLabels', 'map:string', 2),
        (2, 'matchExpressions', 'meta.LabelSelectorRequirement', 3)),
    'meta.LabelSelectorRequirement': ((1, 'key', 'string', 0), (2, 'operator', 'string', 0),
        (3, 'values', 'string', 3)),
    'core.PodTemplateSpec': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'core.PodSpec', 2)),
    'core.PodSpec': ((1, 'volumes', 'core.Volume', 3), (20, 'initContainers', 'core.Container', 3),
        (2, 'containers', 'core.Container', 1), (34, 'ephemeralContainers', 'core.EphemeralContainer', 3),
        (3, 'restartPolicy', 'string', 2), (4, 'terminationGracePeriodSeconds', 'int', 0),
        (5, 'activeDeadlineSeconds', 'int', 0), (6, 'dnsPolicy', 'string', 2), (7, 'nodeSelector', 'map:string', 2),
        (8, 'serviceAccountName', 'string', 2), (9, 'serviceAccount', 'string', 2),
        (21, 'automountServiceAccountToken', 'bool', 0), (10, 'nodeName', 'string', 2),
        (11, 'hostNetwork', 'bool', 2), (12, 'hostPID', 'bool', 2), (13, 'hostIPC', 'bool', 2),
        (27, 'shareProcessNamespace', 'bool', 0), (14, 'securityContext', 'core.PodSecurityContext', 0),
        (15, 'imagePullSecrets', 'core.LocalObjectReference', 3), (16, 'hostname', 'string', 2),
        (17, 'subdomain', 'string', 2), (18, 'affinity', 'core.Affinity', 0), (19, 'schedulerName', 'string', 2),
        (22, 'tolerations', 'core.Toleration', 3), (23, 'hostAliases', 'core.HostAlias', 3),
        (24, 'priorityClassName', 'string', 2), (25, 'priority', 'int', 0),
        (26, 'dnsConfig', 'core.PodDNSConfig', 0), (28, 'readinessGates', 'core.PodReadinessGate', 3),
        (29, 'runtimeClassName', 'string', 0), (30, 'enableServiceLinks', 'bool', 0),
        (31, 'preemptionPolicy', 'string', 0), (32, 'overhead', 'map:quantity', 2),
        (33, 'topologySpreadConstraints', 'core.TopologySpreadConstraint', 3), (35, 'setHostnameAsFQDN', 'bool', 0),
        (36, 'os', 'core.PodOS', 0), (37, 'hostUsers', 'bool', 0),
        (38, 'schedulingGates', 'core.PodSchedulingGate', 3), (39, 'resourceClaims', 'core.PodResourceClaim', 3),
        (40, 'resources', 'core.ResourceRequirements', 0), (41, 'hostnameOverride', 'string', 0),
        (43, 'schedulingGroup', 'core.PodSchedulingGroup', 0),
        (44, 'evictionResponders', 'core.EvictionResponder', 3)),
    'core.Volume': ((1, 'name', 'string', 0), (2, '', 'core.VolumeSource', 4)),
    'core.VolumeSource': ((1, 'hostPath', 'core.HostPathVolumeSource', 0),
        (2, 'emptyDir', 'core.EmptyDirVolumeSource', 0),
        (3, 'gcePersistentDisk', 'core.GCEPersistentDiskVolumeSource', 0),
        (4, 'awsElasticBlockStore', 'core.AWSElasticBlockStoreVolumeSource', 0),
        (5, 'gitRepo', 'core.GitRepoVolumeSource', 0), (6, 'secret', 'core.SecretVolumeSource', 0),
        (7, 'nfs', 'core.NFSVolumeSource', 0), (8, 'iscsi', 'core.ISCSIVolumeSource', 0),
        (9, 'glusterfs', 'core.GlusterfsVolumeSource', 0),
        (10, 'persistentVolumeClaim', 'core.PersistentVolumeClaimVolumeSource', 0),
        (11, 'rbd', 'core.RBDVolumeSource', 0), (12, 'flexVolume', 'core.FlexVolumeSource', 0),
        (13, 'cinder', 'core.CinderVolumeSource', 0), (14, 'cephfs', 'core.CephFSVolumeSource', 0),
        (15, 'flocker', 'core.FlockerVolumeSource', 0), (16, 'downwardAPI', 'core.DownwardAPIVolumeSource', 0),
        (17, 'fc', 'core.FCVolumeSource', 0), (18, 'azureFile', 'core.AzureFileVolumeSource', 0),
        (19, 'configMap', 'core.ConfigMapVolumeSource', 0),
        (20, 'vsphereVolume', 'core.VsphereVirtualDiskVolumeSource', 0),
        (21, 'quobyte', 'core.QuobyteVolumeSource', 0), (22, 'azureDisk', 'core.AzureDiskVolumeSource', 0),
        (23, 'photonPersistentDisk', 'core.PhotonPersistentDiskVolumeSource', 0),
        (26, 'projected', 'core.ProjectedVolumeSource', 0), (24, 'portworxVolume', 'core.PortworxVolumeSource', 0),
        (25, 'scaleIO', 'core.ScaleIOVolumeSource', 0), (27, 'storageos', 'core.StorageOSVolumeSource', 0),
        (28, 'csi', 'core.CSIVolumeSource', 0), (29, 'ephemeral', 'core.EphemeralVolumeSource', 0),
        (30, 'image', 'core.ImageVolumeSource', 0)),
    'core.HostPathVolumeSource': ((1, 'path', 'string', 0), (2, 'type', 'string', 0)),
    'core.EmptyDirVolumeSource': ((1, 'medium', 'string', 2), (2, 'sizeLimit', 'quantity', 0), (3, 'mode', 'int', 0)),
    'core.GCEPersistentDiskVolumeSource': ((1, 'pdName', 'string', 0), (2, 'fsType', 'string', 2),
        (3, 'partition', 'int', 2), (4, 'readOnly', 'bool', 2)),
    'core.AWSElasticBlockStoreVolumeSource': ((1, 'volumeID', 'string', 0), (2, 'fsType', 'string', 2),
        (3, 'partition', 'int', 2), (4, 'readOnly', 'bool', 2)),
    'core.GitRepoVolumeSource': ((1, 'repository', 'string', 0), (2, 'revision', 'string', 2),
        (3, 'directory', 'string', 2)),
    'core.SecretVolumeSource': ((1, 'secretName', 'string', 2), (2, 'items', 'core.KeyToPath', 3),
        (3, 'defaultMode', 'int', 0), (4, 'optional', 'bool', 0), (5, 'defaultUser', 'int', 0)),
    'core.KeyToPath': ((1, 'key', 'string', 0), (2, 'path', 'string', 0), (3, 'mode', 'int', 0),
        (4, 'user', 'int', 0)),
    'core.NFSVolumeSource': ((1, 'server', 'string', 0), (2, 'path', 'string', 0), (3, 'readOnly', 'bool', 2)),
    'core.ISCSIVolumeSource': ((1, 'targetPortal', 'string', 0), (2, 'iqn', 'string', 0), (3, 'lun', 'int', 0),
        (4, 'iscsiInterface', 'string', 2), (5, 'fsType', 'string', 2), (6, 'readOnly', 'bool', 2),
        (7, 'portals', 'string', 3), (8, 'chapAuthDiscovery', 'bool', 2), (11, 'chapAuthSession', 'bool', 2),
        (10, 'secretRef', 'core.LocalObjectReference', 0), (12, 'initiatorName', 'string', 0)),
    'core.LocalObjectReference': ((1, 'name', 'string', 2),),
    'core.GlusterfsVolumeSource': ((1, 'endpoints', 'string', 0), (2, 'path', 'string', 0),
        (3, 'readOnly', 'bool', 2)),
    'core.PersistentVolumeClaimVolumeSource': ((1, 'claimName', 'string', 0), (2, 'readOnly', 'bool', 2)),
    'core.RBDVolumeSource': ((1, 'monitors', 'string', 1), (2, 'image', 'string', 0), (3, 'fsType', 'string', 2),
        (4, 'pool', 'string', 2), (5, 'user', 'string', 2), (6, 'keyring', 'string', 2),
        (7, 'secretRef', 'core.LocalObjectReference', 0), (8, 'readOnly', 'bool', 2)),
    'core.FlexVolumeSource': ((1, 'driver', 'string', 0), (2, 'fsType', 'string', 2),
        (3, 'secretRef', 'core.LocalObjectReference', 0), (4, 'readOnly', 'bool', 2),
        (5, 'options', 'map:string', 2)),
    'core.CinderVolumeSource': ((1, 'volumeID', 'string', 0), (2, 'fsType', 'string', 2), (3, 'readOnly', 'bool', 2),
        (4, 'secretRef', 'core.LocalObjectReference', 0)),
    'core.CephFSVolumeSource': ((1, 'monitors', 'string', 1), (2, 'path', 'string', 2), (3, 'user', 'string', 2),
        (4, 'secretFile', 'string', 2), (5, 'secretRef', 'core.LocalObjectReference', 0), (6, 'readOnly', 'bool', 2)),
    'core.FlockerVolumeSource': ((1, 'datasetName', 'string', 2), (2, 'datasetUUID', 'string', 2)),
    'core.DownwardAPIVolumeSource': ((1, 'items', 'core.DownwardAPIVolumeFile', 3), (2, 'defaultMode', 'int', 0),
        (3, 'defaultUser', 'int', 0)),
    'core.DownwardAPIVolumeFile': ((1, 'path', 'string', 0), (2, 'fieldRef', 'core.ObjectFieldSelector', 0),
        (3, 'resourceFieldRef', 'core.ResourceFieldSelector', 0), (4, 'mode', 'int', 0), (5, 'user', 'int', 0)),
    'core.ObjectFieldSelector': ((1, 'apiVersion', 'string', 2), (2, 'fieldPath', 'string', 0)),
    'core.ResourceFieldSelector': ((1, 'containerName', 'string', 2), (2, 'resource', 'string', 0),
        (3, 'divisor', 'quantity', 2)),
    'core.FCVolumeSource': ((1, 'targetWWNs', 'string', 3), (2, 'lun', 'int', 0), (3, 'fsType', 'string', 2),
        (4, 'readOnly', 'bool', 2), (5, 'wwids', 'string', 3)),
    'core.AzureFileVolumeSource': ((1, 'secretName', 'string', 0), (2, 'shareName', 'string', 0),
        (3, 'readOnly', 'bool', 2)),
    'core.ConfigMapVolumeSource': ((1, '', 'core.LocalObjectReference', 4), (2, 'items', 'core.KeyToPath', 3),
        (3, 'defaultMode', 'int', 0), (4, 'optional', 'bool', 0), (5, 'defaultUser', 'int', 0)),
    'core.VsphereVirtualDiskVolumeSource': ((1, 'volumePath', 'string', 0), (2, 'fsType', 'string', 2),
        (3, 'storagePolicyName', 'string', 2), (4, 'storagePolicyID', 'string', 2)),
    'core.QuobyteVolumeSource': ((1, 'registry', 'string', 0), (2, 'volume', 'string', 0),
        (3, 'readOnly', 'bool', 2), (4, 'user', 'string', 2), (5, 'group', 'string', 2), (6, 'tenant', 'string', 2)),
    'core.AzureDiskVolumeSource': ((1, 'diskName', 'string', 0), (2, 'diskURI', 'string', 0),
        (3, 'cachingMode', 'string', 0), (4, 'fsType', 'string', 0), (5, 'readOnly', 'bool', 0),
        (6, 'kind', 'string', 0)),
    'core.PhotonPersistentDiskVolumeSource': ((1, 'pdID', 'string', 0), (2, 'fsType', 'string', 2)),
    'core.ProjectedVolumeSource': ((1, 'sources', 'core.VolumeProjection', 1), (2, 'defaultMode', 'int', 0),
        (3, 'defaultUser', 'int', 0)),
    'core.VolumeProjection': ((1, 'secret', 'core.SecretProjection', 0),
        (2, 'downwardAPI', 'core.DownwardAPIProjection', 0), (3, 'configMap', 'core.ConfigMapProjection', 0),
        (4, 'serviceAccountToken', 'core.ServiceAccountTokenProjection', 0),
        (5, 'clusterTrustBundle', 'core.ClusterTrustBundleProjection', 0),
        (6, 'podCertificate', 'core.PodCertificateProjection', 0)),
    'core.SecretProjection': ((1, '', 'core.LocalObjectReference', 4), (2, 'items', 'core.KeyToPath', 3),
        (4, 'optional', 'bool', 0)),
    'core.DownwardAPIProjection': ((1, 'items', 'core.DownwardAPIVolumeFile', 3),),
    'core.ConfigMapProjection': ((1, '', 'core.LocalObjectReference', 4), (2, 'items', 'core.KeyToPath', 3),
        (4, 'optional', 'bool', 0)),
    'core.ServiceAccountTokenProjection': ((1, 'audience', 'string', 2), (2, 'expirationSeconds', 'int', 0),
        (3, 'path', 'string', 0), (4, 'user', 'int', 0)),
    'core.ClusterTrustBundleProjection': ((1, 'name', 'string', 0), (2, 'signerName', 'string', 0),
        (3, 'labelSelector', 'meta.LabelSelector', 0), (5, 'optional', 'bool', 0), (4, 'path', 'string', 0),
        (6, 'user', 'int', 0)),
    'core.PodCertificateProjection': ((1, 'signerName', 'string', 2), (2, 'keyType', 'string', 2),
        (3, 'maxExpirationSeconds', 'int', 0), (4, 'credentialBundlePath', 'string', 2), (5, 'keyPath', 'string', 2),
        (6, 'certificateChainPath', 'string', 2), (7, 'userAnnotations', 'map:string', 2), (8, 'user', 'int', 0)),
    'core.PortworxVolumeSource': ((1, 'volumeID', 'string', 0), (2, 'fsType', 'string', 2),
        (3, 'readOnly', 'bool', 2)),
    'core.ScaleIOVolumeSource': ((1, 'gateway', 'string', 0), (2, 'system', 'string', 0),
        (3, 'secretRef', 'core.LocalObjectReference', 0), (4, 'sslEnabled', 'bool', 2),
        (5, 'protectionDomain', 'string', 2), (6, 'storagePool', 'string', 2), (7, 'storageMode', 'string', 2),
        (8, 'volumeName', 'string', 2), (9, 'fsType', 'string', 2), (10, 'readOnly', 'bool', 2)),
    'core.StorageOSVolumeSource': ((1, 'volumeName', 'string', 2), (2, 'volumeNamespace', 'string', 2),
        (3, 'fsType', 'string', 2), (4, 'readOnly', 'bool', 2), (5, 'secretRef', 'core.LocalObjectReference', 0)),
    'core.CSIVolumeSource': ((1, 'driver', 'string', 0), (2, 'readOnly', 'bool', 0), (3, 'fsType', 'string', 0),
        (4, 'volumeAttributes', 'map:string', 2), (5, 'nodePublishSecretRef', 'core.LocalObjectReference', 0)),
    'core.EphemeralVolumeSource': ((1, 'volumeClaimTemplate', 'core.PersistentVolumeClaimTemplate', 0),),
    'core.PersistentVolumeClaimTemplate': ((1, 'metadata', 'meta.ObjectMeta', 2),
        (2, 'spec', 'core.PersistentVolumeClaimSpec', 0)),
    'core.PersistentVolumeClaimSpec': ((1, 'accessModes', 'string', 3), (4, 'selector', 'meta.LabelSelector', 0),
        (2, 'resources', 'core.VolumeResourceRequirements', 2), (3, 'volumeName', 'string', 2),
        (5, 'storageClassName', 'string', 0), (6, 'volumeMode', 'string', 0),
        (7, 'dataSource', 'core.TypedLocalObjectReference', 0), (8, 'dataSourceRef', 'core.TypedObjectReference', 0),
        (9, 'volumeAttributesClassName', 'string', 0)),
    'core.VolumeResourceRequirements': ((1, 'limits', 'map:quantity', 2), (2, 'requests', 'map:quantity', 2)),
    'core.TypedLocalObjectReference': ((1, 'apiGroup', 'string', 0), (2, 'kind', 'string', 0),
        (3, 'name', 'string', 0)),
    'core.TypedObjectReference': ((1, 'apiGroup', 'string', 0), (2, 'kind', 'string', 0), (3, 'name', 'string', 0),
        (4, 'namespace', 'string', 0)),
    'core.ImageVolumeSource': ((1, 'reference', 'string', 2), (2, 'pullPolicy', 'string', 2)),
    'core.Container': ((1, 'name', 'string', 0), (2, 'image', 'string', 2), (3, 'command', 'string', 3),
        (4, 'args', 'string', 3), (5, 'workingDir', 'string', 2), (6, 'ports', 'core.ContainerPort', 3),
        (19, 'envFrom', 'core.EnvFromSource', 3), (7, 'env', 'core.EnvVar', 3),
        (8, 'resources', 'core.ResourceRequirements', 2), (23, 'resizePolicy', 'core.ContainerResizePolicy', 3),
        (24, 'restartPolicy', 'string', 0), (25, 'restartPolicyRules', 'core.ContainerRestartRule', 3),
        (9, 'volumeMounts', 'core.VolumeMount', 3), (21, 'volumeDevices', 'core.VolumeDevice', 3),
        (10, 'livenessProbe', 'core.Probe', 0), (11, 'readinessProbe', 'core.Probe', 0),
        (22, 'startupProbe', 'core.Probe', 0), (12, 'lifecycle', 'core.Lifecycle', 0),
        (13, 'terminationMessagePath', 'string', 2), (20, 'terminationMessagePolicy', 'string', 2),
        (14, 'imagePullPolicy', 'string', 2), (15, 'securityContext', 'core.SecurityContext', 0),
        (16, 'stdin', 'bool', 2), (17, 'stdinOnce', 'bool', 2), (18, 'tty', 'bool', 2)),
    'core.ContainerPort': ((1, 'name', 'string', 2), (2, 'hostPort', 'int', 2), (3, 'containerPort', 'int', 0),
        (4, 'protocol', 'string', 2), (5, 'hostIP', 'string', 2)),
    'core.EnvFromSource': ((1, 'prefix', 'string', 2), (2, 'configMapRef', 'core.ConfigMapEnvSource', 0),
        (3, 'secretRef', 'core.SecretEnvSource', 0)),
    'core.ConfigMapEnvSource': ((1, '', 'core.LocalObjectReference', 4), (2, 'optional', 'bool', 0)),
    'core.SecretEnvSource': ((1, '', 'core.LocalObjectReference', 4), (2, 'optional', 'bool', 0)),
    'core.EnvVar': ((1, 'name', 'string', 0), (2, 'value', 'string', 2), (3, 'valueFrom', 'core.EnvVarSource', 0)),
    'core.EnvVarSource': ((1, 'fieldRef', 'core.ObjectFieldSelector', 0),
        (2, 'resourceFieldRef', 'core.ResourceFieldSelector', 0),
        (3, 'configMapKeyRef', 'core.ConfigMapKeySelector', 0), (4, 'secretKeyRef', 'core.SecretKeySelector', 0),
        (5, 'fileKeyRef', 'core.FileKeySelector', 0)),
    'core.ConfigMapKeySelector': ((1, '', 'core.LocalObjectReference', 4), (2, 'key', 'string', 0),
        (3, 'optional', 'bool', 0)),
    'core.SecretKeySelector': ((1, '', 'core.LocalObjectReference', 4), (2, 'key', 'string', 0),
        (3, 'optional', 'bool', 0)),
    'core.FileKeySelector': ((1, 'volumeName', 'string', 0), (2, 'path', 'string', 0), (3, 'key', 'string', 0),
        (4, 'optional', 'bool', 0)),
    'core.ResourceRequirements': ((1, 'limits', 'map:quantity', 2), (2, 'requests', 'map:quantity', 2),
        (3, 'claims', 'core.ResourceClaim', 3)),
    'core.ResourceClaim': ((1, 'name', 'string', 0), (2, 'request', 'string', 2)),
    'core.ContainerResizePolicy': ((1, 'resourceName', 'string', 0), (2, 'restartPolicy', 'string', 0)),
    'core.ContainerRestartRule': ((1, 'action', 'string', 2),
        (2, 'exitCodes', 'core.ContainerRestartRuleOnExitCodes', 0)),
    'core.ContainerRestartRuleOnExitCodes': ((1, 'operator', 'string', 2), (2, 'values', 'int', 3)),
    'core.VolumeMount': ((1, 'name', 'string', 0), (2, 'readOnly', 'bool', 2), (7, 'recursiveReadOnly', 'string', 0),
        (3, 'mountPath', 'string', 0), (4, 'subPath', 'string', 2), (5, 'mountPropagation', 'string', 0),
        (6, 'subPathExpr', 'string', 2), (8, 'bindMountOptions', 'string', 3)),
    'core.VolumeDevice': ((1, 'name', 'string', 0), (2, 'devicePath', 'string', 0)),
    'core.Probe': ((1, '', 'core.ProbeHandler', 4), (2, 'initialDelaySeconds', 'int', 2),
        (3, 'timeoutSeconds', 'int', 2), (4, 'periodSeconds', 'int', 2), (5, 'successThreshold', 'int', 2),
        (6, 'failureThreshold', 'int', 2), (7, 'terminationGracePeriodSeconds', 'int', 0)),
    'core.ProbeHandler': ((1, 'exec', 'core.ExecAction', 0), (2, 'httpGet', 'core.HTTPGetAction', 0),
        (3, 'tcpSocket', 'core.TCPSocketAction', 0), (4, 'grpc', 'core.GRPCAction', 0)),
    'core.ExecAction': ((1, 'command', 'string', 3),),
    'core.HTTPGetAction': ((1, 'path', 'string', 2), (2, 'port', 'intstr', 0), (3, 'host', 'string', 2),
        (4, 'scheme', 'string', 2), (5, 'httpHeaders', 'core.HTTPHeader', 3), (6, 'protocol', 'string', 0)),
    'core.HTTPHeader': ((1, 'name', 'string', 0), (2, 'value', 'string', 0)),
    'core.TCPSocketAction': ((1, 'port', 'intstr', 0), (2, 'host', 'string', 2)),
    'core.GRPCAction': ((1, 'port', 'int', 0), (2, 'service', 'string', 0), (3, 'mode', 'string', 0)),
    'core.Lifecycle': ((1, 'postStart', 'core.LifecycleHandler', 0), (2, 'preStop', 'core.LifecycleHandler', 0),
        (3, 'stopSignal', 'string', 0)),
    'core.LifecycleHandler': ((1, 'exec', 'core.ExecAction', 0), (2, 'httpGet', 'core.HTTPGetAction', 0),
        (3, 'tcpSocket', 'core.TCPSocketAction', 0), (4, 'sleep', 'core.SleepAction', 0)),
    'core.SleepAction': ((1, 'seconds', 'int', 0),),
    'core.SecurityContext': ((1, 'capabilities', 'core.Capabilities', 0), (2, 'privileged', 'bool', 0),
        (3, 'seLinuxOptions', 'core.SELinuxOptions', 0),
        (10, 'windowsOptions', 'core.WindowsSecurityContextOptions', 0), (4, 'runAsUser', 'int', 0),
        (8, 'runAsGroup', 'int', 0), (5, 'runAsNonRoot', 'bool', 0), (6, 'readOnlyRootFilesystem', 'bool', 0),
        (7, 'allowPrivilegeEscalation', 'bool', 0), (9, 'procMount', 'string', 0),
        (11, 'seccompProfile', 'core.SeccompProfile', 0), (12, 'appArmorProfile', 'core.AppArmorProfile', 0)),
    'core.Capabilities': ((1, 'add', 'string', 3), (2, 'drop', 'string', 3)),
    'core.SELinuxOptions': ((1, 'user', 'string', 2), (2, 'role', 'string', 2), (3, 'type', 'string', 2),
        (4, 'level', 'string', 2)),
    'core.WindowsSecurityContextOptions': ((1, 'gmsaCredentialSpecName', 'string', 0),
        (2, 'gmsaCredentialSpec', 'string', 0), (3, 'runAsUserName', 'string', 0), (4, 'hostProcess', 'bool', 0)),
    'core.SeccompProfile': ((1, 'type', 'string', 0), (2, 'localhostProfile', 'string', 0)),
    'core.AppArmorProfile': ((1, 'type', 'string', 0), (2, 'localhostProfile', 'string', 0)),
    'core.EphemeralContainer': ((1, '', 'core.EphemeralContainerCommon', 4), (2, 'targetContainerName', 'string', 2)),
    'core.EphemeralContainerCommon': ((1, 'name', 'string', 0), (2, 'image', 'string', 2),
        (3, 'command', 'string', 3), (4, 'args', 'string', 3), (5, 'workingDir', 'string', 2),
        (6, 'ports', 'core.ContainerPort', 3), (19, 'envFrom', 'core.EnvFromSource', 3),
        (7, 'env', 'core.EnvVar', 3), (8, 'resources', 'core.ResourceRequirements', 2),
        (23, 'resizePolicy', 'core.ContainerResizePolicy', 3), (24, 'restartPolicy', 'string', 0),
        (25, 'restartPolicyRules', 'core.ContainerRestartRule', 3), (9, 'volumeMounts', 'core.VolumeMount', 3),
        (21, 'volumeDevices', 'core.VolumeDevice', 3), (10, 'livenessProbe', 'core.Probe', 0),
        (11, 'readinessProbe', 'core.Probe', 0), (22, 'startupProbe', 'core.Probe', 0),
        (12, 'lifecycle', 'core.Lifecycle', 0), (13, 'terminationMessagePath', 'string', 2),
        (20, 'terminationMessagePolicy', 'string', 2), (14, 'imagePullPolicy', 'string', 2),
        (15, 'securityContext', 'core.SecurityContext', 0), (16, 'stdin', 'bool', 2), (17, 'stdinOnce', 'bool', 2),
        (18, 'tty', 'bool', 2)),
    'core.PodSecurityContext': ((1, 'seLinuxOptions', 'core.SELinuxOptions', 0),
        (8, 'windowsOptions', 'core.WindowsSecurityContextOptions', 0), (2, 'runAsUser', 'int', 0),
        (6, 'runAsGroup', 'int', 0), (3, 'runAsNonRoot', 'bool', 0), (4, 'supplementalGroups', 'int', 3),
        (12, 'supplementalGroupsPolicy', 'string', 0), (5, 'fsGroup', 'int', 0), (7, 'sysctls', 'core.Sysctl', 3),
        (9, 'fsGroupChangePolicy', 'string', 0), (10, 'seccompProfile', 'core.SeccompProfile', 0),
        (11, 'appArmorProfile', 'core.AppArmorProfile', 0), (13, 'seLinuxChangePolicy', 'string', 0)),
    'core.Sysctl': ((1, 'name', 'string', 0), (2, 'value', 'string', 0)),
    'core.Affinity': ((1, 'nodeAffinity', 'core.NodeAffinity', 0), (2, 'podAffinity', 'core.PodAffinity', 0),
        (3, 'podAntiAffinity', 'core.PodAntiAffinity', 0)),
    'core.NodeAffinity': ((1, 'requiredDuringSchedulingIgnoredDuringExecution', 'core.NodeSelector', 0),
        (2, 'preferredDuringSchedulingIgnoredDuringExecution', 'core.PreferredSchedulingTerm', 3)),
    'core.NodeSelector': ((1, 'nodeSelectorTerms', 'core.NodeSelectorTerm', 1),),
    'core.NodeSelectorTerm': ((1, 'matchExpressions', 'core.NodeSelectorRequirement', 3),
        (2, 'matchFields', 'core.NodeSelectorRequirement', 3)),
    'core.NodeSelectorRequirement': ((1, 'key', 'string', 0), (2, 'operator', 'string', 0),
        (3, 'values', 'string', 3)),
    'core.PreferredSchedulingTerm': ((1, 'weight', 'int', 0), (2, 'preference', 'core.NodeSelectorTerm', 0)),
    'core.PodAffinity': ((1, 'requiredDuringSchedulingIgnoredDuringExecution', 'core.PodAffinityTerm', 3),
        (2, 'preferredDuringSchedulingIgnoredDuringExecution', 'core.WeightedPodAffinityTerm', 3)),
    'core.PodAffinityTerm': ((1, 'labelSelector', 'meta.LabelSelector', 0), (2, 'namespaces', 'string', 3),
        (3, 'topologyKey', 'string', 0), (4, 'namespaceSelector', 'meta.LabelSelector', 0),
        (5, 'matchLabelKeys', 'string', 3), (6, 'mismatchLabelKeys', 'string', 3)),
    'core.WeightedPodAffinityTerm': ((1, 'weight', 'int', 0), (2, 'podAffinityTerm', 'core.PodAffinityTerm', 0)),
    'core.PodAntiAffinity': ((1, 'requiredDuringSchedulingIgnoredDuringExecution', 'core.PodAffinityTerm', 3),
        (2, 'preferredDuringSchedulingIgnoredDuringExecution', 'core.WeightedPodAffinityTerm', 3)),
    'core.Toleration': ((1, 'key', 'string', 2), (2, 'operator', 'string', 2), (3, 'value', 'string', 2),
        (4, 'effect', 'string', 2), (5, 'tolerationSeconds', 'int', 0)),
    'core.HostAlias': ((1, 'ip', 'string', 0), (2, 'hostnames', 'string', 3)),
    'core.PodDNSConfig': ((1, 'nameservers', 'string', 3), (2, 'searches', 'string', 3),
        (3, 'options', 'core.PodDNSConfigOption', 3)),
    'core.PodDNSConfigOption': ((1, 'name', 'string', 2), (2, 'value', 'string', 0)),
    'core.PodReadinessGate': ((1, 'conditionType', 'string', 0),),
    'core.TopologySpreadConstraint': ((1, 'maxSkew', 'int', 0), (2, 'topologyKey', 'string', 0),
        (3, 'whenUnsatisfiable', 'string', 0), (4, 'labelSelector', 'meta.LabelSelector', 0),
        (5, 'minDomains', 'int', 0), (6, 'nodeAffinityPolicy', 'string', 0), (7, 'nodeTaintsPolicy', 'string', 0),
        (8, 'matchLabelKeys', 'string', 3)),
    'core.PodOS': ((1, 'name', 'string', 0),),
    'core.PodSchedulingGate': ((1, 'name', 'string', 0),),
    'core.PodResourceClaim': ((1, 'name', 'string', 0), (3, 'resourceClaimName', 'string', 0),
        (4, 'resourceClaimTemplateName', 'string', 0)),
    'core.PodSchedulingGroup': ((1, 'podGroupName', 'string', 0),),
    'core.EvictionResponder': ((1, 'name', 'string', 0), (2, 'priority', 'int', 0)),
    'batch.JobSchedulingConfiguration': (
        (1, 'schedulingPolicy', 'k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy', 0),
        (2, 'schedulingConstraints', 'k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints', 0),
        (3, 'disruptionMode', 'k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupDisruptionMode', 0),
        (4, 'resourceClaims', 'k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupResourceClaim', 3)),
    'batch.JobStatus': ((1, 'conditions', 'batch.JobCondition', 3), (2, 'startTime', 'time', 0),
        (3, 'completionTime', 'time', 0), (4, 'active', 'int', 2), (5, 'succeeded', 'int', 2),
        (6, 'failed', 'int', 2), (11, 'terminating', 'int', 0), (7, 'completedIndexes', 'string', 2),
        (10, 'failedIndexes', 'string', 0), (8, 'uncountedTerminatedPods', 'batch.UncountedTerminatedPods', 0),
        (9, 'ready', 'int', 0)),
    'batch.JobCondition': ((1, 'type', 'string', 0), (2, 'status', 'string', 0), (3, 'lastProbeTime', 'time', 2),
        (4, 'lastTransitionTime', 'time', 2), (5, 'reason', 'string', 2), (6, 'message', 'string', 2)),
    'batch.UncountedTerminatedPods': ((1, 'succeeded', 'string', 3), (2, 'failed', 'string', 3)),
    'batch.CronJob': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'batch.CronJobSpec', 2),
        (3, 'status', 'batch.CronJobStatus', 2)),
    'batch.CronJobSpec': ((1, 'schedule', 'string', 0), (8, 'timeZone', 'string', 0),
        (2, 'startingDeadlineSeconds', 'int', 0), (3, 'concurrencyPolicy', 'string', 2), (4, 'suspend', 'bool', 0),
        (5, 'jobTemplate', 'batch.JobTemplateSpec', 0), (6, 'successfulJobsHistoryLimit', 'int', 0),
        (7, 'failedJobsHistoryLimit', 'int', 0)),
    'batch.JobTemplateSpec': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'batch.JobSpec', 2)),
    'batch.CronJobStatus': ((1, 'active', 'core.ObjectReference', 3), (4, 'lastScheduleTime', 'time', 0),
        (5, 'lastSuccessfulTime', 'time', 0)),
    'core.ObjectReference': ((1, 'kind', 'string', 2), (2, 'namespace', 'string', 2), (3, 'name', 'string', 2),
        (4, 'uid', 'string', 2), (5, 'apiVersion', 'string', 2), (6, 'resourceVersion', 'string', 2),
        (7, 'fieldPath', 'string', 2)),
    'core.ConfigMap': ((1, 'metadata', 'meta.ObjectMeta', 2), (4, 'immutable', 'bool', 0),
        (2, 'data', 'map:string', 2), (3, 'binaryData', 'map:bytes', 2)),
    'core.Secret': ((1, 'metadata', 'meta.ObjectMeta', 2), (5, 'immutable', 'bool', 0), (2, 'data', 'map:bytes', 2),
        (4, 'stringData', 'map:string', 2), (3, 'type', 'string', 2)),
    # kubectl create namespace/serviceaccount/service/deployment/ingress/role/rolebinding/clusterrole/
    # clusterrolebinding/quota/priorityclass/poddisruptionbudget, autoscale, debug node/, drain --force: k8s.io/api
    # core/v1, apps/v1, networking/v1, rbac/v1, policy/v1, scheduling/v1, autoscaling/v2 generated.proto, and
    # k8s.io/apimachinery pkg/apis/meta/v1/generated.proto (DeleteOptions)
    'core.Namespace': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'core.NamespaceSpec', 2),
        (3, 'status', 'core.NamespaceStatus', 2)),
    'core.ServiceAccount': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'secrets', 'core.ObjectReference', 3),
        (3, 'imagePullSecrets', 'core.LocalObjectReference', 3), (4, 'automountServiceAccountToken', 'bool', 0)),
    'core.Service': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'core.ServiceSpec', 2),
        (3, 'status', 'core.ServiceStatus', 2)),
    'core.Pod': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'core.PodSpec', 2),
        (3, 'status', 'core.PodStatus', 2)),
    'core.ResourceQuota': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'core.ResourceQuotaSpec', 2),
        (3, 'status', 'core.ResourceQuotaStatus', 2)),
    'apps.Deployment': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'apps.DeploymentSpec', 2),
        (3, 'status', 'apps.DeploymentStatus', 2)),
    'networking.Ingress': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'spec', 'networking.IngressSpec', 2),
        (3, 'status', 'networking.IngressStatus', 2)),
    'rbac.Role': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'rules', 'rbac.PolicyRule', 1)),
    'rbac.ClusterRole': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'rules', 'rbac.PolicyRule', 1),
        (3, 'aggregationRule', 'rbac.AggregationRule', 0)),
    'rbac.RoleBinding': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'subjects', 'rbac.Subject', 3),
        (3, 'roleRef', 'rbac.RoleRef', 0)),
    'rbac.ClusterRoleBinding': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'subjects', 'rbac.Subject', 3),
        (3, 'roleRef', 'rbac.RoleRef', 0)),
    'policy.PodDisruptionBudget': ((1, 'metadata', 'meta.ObjectMeta', 2),
        (2, 'spec', 'policy.PodDisruptionBudgetSpec', 2), (3, 'status', 'policy.PodDisruptionBudgetStatus', 2)),
    'scheduling.PriorityClass': ((1, 'metadata', 'meta.ObjectMeta', 2), (2, 'value', 'int', 0),
        (3, 'globalDefault', 'bool', 2), (4, 'description', 'string', 2), (5, 'preemptionPolicy', 'string', 0)),
    'autoscaling.HorizontalPodAutoscaler': ((1, 'metadata', 'meta.ObjectMeta', 2),
        (2, 'spec', 'autoscaling.HorizontalPodAutoscalerSpec', 2),
        (3, 'status', 'autoscaling.HorizontalPodAutoscalerStatus', 2)),
    'meta.DeleteOptions': ((1, 'gracePeriodSeconds', 'int', 0), (2, 'preconditions', 'meta.Preconditions', 0),
        (3, 'orphanDependents', 'bool', 0), (4, 'propagationPolicy', 'string', 0), (5, 'dryRun', 'string', 3),
        (6, 'ignoreStoreReadErrorWithClusterBreakingPotential', 'bool', 0)),
    'core.NamespaceSpec': ((1, 'finalizers', 'string', 3),),
    'core.NamespaceStatus': ((1, 'phase', 'string', 2), (2, 'conditions', 'core.NamespaceCondition', 3)),
    'core.ServiceSpec': ((1, 'ports', 'core.ServicePort', 3), (2, 'selector', 'map:string', 2),
        (3, 'clusterIP', 'string', 2), (18, 'clusterIPs', 'string', 3), (4, 'type', 'string', 2),
        (5, 'externalIPs', 'string', 3), (7, 'sessionAffinity', 'string', 2), (8, 'loadBalancerIP', 'string', 2),
        (9, 'loadBalancerSourceRanges', 'string', 3), (10, 'externalName', 'string', 2),
        (11, 'externalTrafficPolicy', 'string', 2), (12, 'healthCheckNodePort', 'int', 2),
        (13, 'publishNotReadyAddresses', 'bool', 2), (14, 'sessionAffinityConfig', 'core.SessionAffinityConfig', 0),
        (19, 'ipFamilies', 'string', 3), (17, 'ipFamilyPolicy', 'string', 0),
        (20, 'allocateLoadBalancerNodePorts', 'bool', 0), (21, 'loadBalancerClass', 'string', 0),
        (22, 'internalTrafficPolicy', 'string', 0), (23, 'trafficDistribution', 'string', 0)),
    'core.ServiceStatus': ((1, 'loadBalancer', 'core.LoadBalancerStatus', 2), (2, 'conditions', 'meta.Condition', 3)),
    'core.PodStatus': ((17, 'observedGeneration', 'int', 2), (1, 'phase', 'string', 2),
        (2, 'conditions', 'core.PodCondition', 3), (3, 'message', 'string', 2), (4, 'reason', 'string', 2),
        (11, 'nominatedNodeName', 'string', 2), (5, 'hostIP', 'string', 2), (16, 'hostIPs', 'core.HostIP', 3),
        (6, 'podIP', 'string', 2), (12, 'podIPs', 'core.PodIP', 3), (7, 'startTime', 'time', 0),
        (10, 'initContainerStatuses', 'core.ContainerStatus', 3), (8, 'containerStatuses', 'core.ContainerStatus', 3),
        (9, 'qosClass', 'string', 2), (13, 'ephemeralContainerStatuses', 'core.ContainerStatus', 3),
        (14, 'resize', 'string', 2), (15, 'resourceClaimStatuses', 'core.PodResourceClaimStatus', 3),
        (18, 'extendedResourceClaimStatus', 'core.PodExtendedResourceClaimStatus', 0),
        (19, 'allocatedResources', 'map:quantity', 2), (20, 'resources', 'core.ResourceRequirements', 0),
        (21, 'nodeAllocatableResourceClaimStatuses', 'core.NodeAllocatableResourceClaimStatus', 3),
        (22, 'volumeHealth', 'core.PodVolumeHealth', 3)),
    'core.ResourceQuotaSpec': ((1, 'hard', 'map:quantity', 2), (2, 'scopes', 'string', 3),
        (3, 'scopeSelector', 'core.ScopeSelector', 0)),
    'core.ResourceQuotaStatus': ((1, 'hard', 'map:quantity', 2), (2, 'used', 'map:quantity', 2)),
    'apps.DeploymentSpec': ((1, 'replicas', 'int', 0), (2, 'selector', 'meta.LabelSelector', 0),
        (3, 'template', 'core.PodTemplateSpec', 0), (4, 'strategy', 'apps.DeploymentStrategy', 2),
        (5, 'minReadySeconds', 'int', 2), (6, 'revisionHistoryLimit', 'int', 0), (7, 'paused', 'bool', 2),
        (9, 'progressDeadlineSeconds', 'int', 0)),
    'apps.DeploymentStatus': ((1, 'observedGeneration', 'int', 2), (2, 'replicas', 'int', 2),
        (3, 'updatedReplicas', 'int', 2), (7, 'readyReplicas', 'int', 2), (4, 'availableReplicas', 'int', 2),
        (5, 'unavailableReplicas', 'int', 2), (9, 'terminatingReplicas', 'int', 0),
        (6, 'conditions', 'apps.DeploymentCondition', 3), (8, 'collisionCount', 'int', 0)),
    'networking.IngressSpec': ((4, 'ingressClassName', 'string', 0),
        (1, 'defaultBackend', 'networking.IngressBackend', 0), (2, 'tls', 'networking.IngressTLS', 3),
        (3, 'rules', 'networking.IngressRule', 3)),
    'networking.IngressStatus': ((1, 'loadBalancer', 'networking.IngressLoadBalancerStatus', 2),),
    'rbac.PolicyRule': ((1, 'verbs', 'string', 1), (2, 'apiGroups', 'string', 3), (3, 'resources', 'string', 3),
        (4, 'resourceNames', 'string', 3), (5, 'nonResourceURLs', 'string', 3)),
    'rbac.AggregationRule': ((1, 'clusterRoleSelectors', 'meta.LabelSelector', 3),),
    'rbac.Subject': ((1, 'kind', 'string', 0), (2, 'apiGroup', 'string', 2), (3, 'name', 'string', 0),
        (4, 'namespace', 'string', 2)),
    'rbac.RoleRef': ((1, 'apiGroup', 'string', 0), (2, 'kind', 'string', 0), (3, 'name', 'string', 0)),
    'policy.PodDisruptionBudgetSpec': ((1, 'minAvailable', 'intstr', 0), (2, 'selector', 'meta.LabelSelector', 0),
        (3, 'maxUnavailable', 'intstr', 0), (4, 'unhealthyPodEvictionPolicy', 'string', 0)),
    'policy.PodDisruptionBudgetStatus': ((1, 'observedGeneration', 'int', 2), (2, 'disruptedPods', 'map:time', 2),
        (3, 'disruptionsAllowed', 'int', 0), (4, 'currentHealthy', 'int', 0), (5, 'desiredHealthy', 'int', 0),
        (6, 'expectedPods', 'int', 0), (7, 'conditions', 'meta.Condition', 3)),
    'autoscaling.HorizontalPodAutoscalerSpec': ((1, 'scaleTargetRef', 'autoscaling.CrossVersionObjectReference', 0),
        (2, 'minReplicas', 'int', 0), (3, 'maxReplicas', 'int', 0), (4, 'metrics', 'autoscaling.MetricSpec', 3),
        (5, 'behavior', 'autoscaling.HorizontalPodAutoscalerBehavior', 0)),
    'autoscaling.HorizontalPodAutoscalerStatus': ((1, 'observedGeneration', 'int', 0), (2, 'lastScaleTime', 'time', 0),
        (3, 'currentReplicas', 'int', 2), (4, 'desiredReplicas', 'int', 0),
        (5, 'currentMetrics', 'autoscaling.MetricStatus', 1),
        (6, 'conditions', 'autoscaling.HorizontalPodAutoscalerCondition', 3)),
    'meta.Preconditions': ((1, 'uid', 'string', 0), (2, 'resourceVersion', 'string', 0)),
    'core.NamespaceCondition': ((1, 'type', 'string', 0), (2, 'status', 'string', 0),
        (4, 'lastTransitionTime', 'time', 2), (5, 'reason', 'string', 2), (6, 'message', 'string', 2)),
    'core.ServicePort': ((1, 'name', 'string', 2), (2, 'protocol', 'string', 2), (6, 'appProtocol', 'string', 0),
        (3, 'port', 'int', 0), (4, 'targetPort', 'intstr', 2), (5, 'nodePort', 'int', 2)),
    'core.SessionAffinityConfig': ((1, 'clientIP', 'core.ClientIPConfig', 0),),
    'core.LoadBalancerStatus': ((1, 'ingress', 'core.LoadBalancerIngress', 3),),
    'meta.Condition': ((1, 'type', 'string', 0), (2, 'status', 'string', 0), (3, 'observedGeneration', 'int', 2),
        (4, 'lastTransitionTime', 'time', 0), (5, 'reason', 'string', 0), (6, 'message', 'string', 0)),
    'core.PodCondition': ((1, 'type', 'string', 0), (7, 'observedGeneration', 'int', 2), (2, 'status', 'string', 0),
        (3, 'lastProbeTime', 'time', 2), (4, 'lastTransitionTime', 'time', 2), (5, 'reason', 'string', 2),
        (6, 'message', 'string', 2)),
    'core.HostIP': ((1, 'ip', 'string', 0),),
    'core.PodIP': ((1, 'ip', 'string', 0),),
    'core.ContainerStatus': ((1, 'name', 'string', 0), (2, 'state', 'core.ContainerState', 2),
        (3, 'lastState', 'core.ContainerState', 2), (4, 'ready', 'bool', 0), (5, 'restartCount', 'int', 0),
        (6, 'image', 'string', 0), (7, 'imageID', 'string', 0), (8, 'containerID', 'string', 2),
        (9, 'started', 'bool', 0), (10, 'allocatedResources', 'map:quantity', 2),
        (11, 'resources', 'core.ResourceRequirements', 0), (12, 'volumeMounts', 'core.VolumeMountStatus', 3),
        (13, 'user', 'core.ContainerUser', 0), (14, 'allocatedResourcesStatus', 'core.ResourceStatus', 3),
        (15, 'stopSignal', 'string', 0)),
    'core.PodResourceClaimStatus': ((1, 'name', 'string', 0), (2, 'resourceClaimName', 'string', 0)),
    'core.PodExtendedResourceClaimStatus': ((1, 'requestMappings', 'core.ContainerExtendedResourceRequest', 1),
        (2, 'resourceClaimName', 'string', 0)),
    'core.NodeAllocatableResourceClaimStatus': ((1, 'resourceClaimName', 'string', 0), (2, 'containers', 'string', 3),
        (4, 'mapping', 'core.NodeAllocatableMappedResources', 3),
        (5, 'overhead', 'core.NodeAllocatableOverheadResources', 3)),
    'core.PodVolumeHealth': ((1, 'name', 'string', 0), (2, 'healthConditions', 'core.VolumeHealthCondition', 3),
        (3, 'lastTransitionTime', 'time', 2)),
    'core.ScopeSelector': ((1, 'matchExpressions', 'core.ScopedResourceSelectorRequirement', 3),),
    'apps.DeploymentStrategy': ((1, 'type', 'string', 2), (2, 'rollingUpdate', 'apps.RollingUpdateDeployment', 0)),
    'apps.DeploymentCondition': ((1, 'type', 'string', 0), (2, 'status', 'string', 0), (6, 'lastUpdateTime', 'time', 2),
        (7, 'lastTransitionTime', 'time', 2), (4, 'reason', 'string', 2), (5, 'message', 'string', 2)),
    'networking.IngressBackend': ((4, 'service', 'networking.IngressServiceBackend', 0),
        (3, 'resource', 'core.TypedLocalObjectReference', 0)),
    'networking.IngressTLS': ((1, 'hosts', 'string', 3), (2, 'secretName', 'string', 2)),
    'networking.IngressRule': ((1, 'host', 'string', 2), (2, '', 'networking.IngressRuleValue', 4)),
    'networking.IngressLoadBalancerStatus': ((1, 'ingress', 'networking.IngressLoadBalancerIngress', 3),),
    'autoscaling.CrossVersionObjectReference': ((1, 'kind', 'string', 0), (2, 'name', 'string', 0),
        (3, 'apiVersion', 'string', 2)),
    'autoscaling.MetricSpec': ((1, 'type', 'string', 0), (2, 'object', 'autoscaling.ObjectMetricSource', 0),
        (3, 'pods', 'autoscaling.PodsMetricSource', 0), (4, 'resource', 'autoscaling.ResourceMetricSource', 0),
        (7, 'containerResource', 'autoscaling.ContainerResourceMetricSource', 0),
        (5, 'external', 'autoscaling.ExternalMetricSource', 0)),
    'autoscaling.HorizontalPodAutoscalerBehavior': ((1, 'scaleUp', 'autoscaling.HPAScalingRules', 0),
        (2, 'scaleDown', 'autoscaling.HPAScalingRules', 0)),
    'autoscaling.MetricStatus': ((1, 'type', 'string', 0), (2, 'object', 'autoscaling.ObjectMetricStatus', 0),
        (3, 'pods', 'autoscaling.PodsMetricStatus', 0), (4, 'resource', 'autoscaling.ResourceMetricStatus', 0),
        (7, 'containerResource', 'autoscaling.ContainerResourceMetricStatus', 0),
        (5, 'external', 'autoscaling.ExternalMetricStatus', 0)),
    'autoscaling.HorizontalPodAutoscalerCondition': ((1, 'type', 'string', 0), (2, 'status', 'string', 0),
        (3, 'lastTransitionTime', 'time', 2), (4, 'reason', 'string', 2), (5, 'message', 'string', 2),
        (6, 'observedGeneration', 'int', 0)),
    'core.ClientIPConfig': ((1, 'timeoutSeconds', 'int', 0),),
    'core.LoadBalancerIngress': ((1, 'ip', 'string', 2), (2, 'hostname', 'string', 2), (3, 'ipMode', 'string', 0),
        (4, 'ports', 'core.PortStatus', 3)),
    'core.ContainerState': ((1, 'waiting', 'core.ContainerStateWaiting', 0),
        (2, 'running', 'core.ContainerStateRunning', 0), (3, 'terminated', 'core.ContainerStateTerminated', 0)),
    'core.VolumeMountStatus': ((1, 'name', 'string', 0), (2, 'mountPath', 'string', 0), (3, 'readOnly', 'bool', 2),
        (4, 'recursiveReadOnly', 'string', 0), (5, 'volumeStatus', 'core.VolumeStatus', 0)),
    'core.ContainerUser': ((1, 'linux', 'core.LinuxContainerUser', 0),),
    'core.ResourceStatus': ((1, 'name', 'string', 0), (2, 'resources', 'core.ResourceHealth', 3)),
    'core.ContainerExtendedResourceRequest': ((1, 'containerName', 'string', 0), (2, 'resourceName', 'string', 0),
        (3, 'requestName', 'string', 0)),
    'core.NodeAllocatableMappedResources': ((1, 'name', 'string', 0), (2, 'quantity', 'quantity', 0)),
    'core.NodeAllocatableOverheadResources': ((1, 'name', 'string', 0), (2, 'perPod', 'quantity', 0),
        (3, 'perContainer', 'quantity', 0)),
    'core.VolumeHealthCondition': ((1, 'status', 'string', 0), (2, 'reason', 'string', 0), (3, 'message', 'string', 2)),
    'core.ScopedResourceSelectorRequirement': ((1, 'scopeName', 'string', 0), (2, 'operator', 'string', 0),
        (3, 'values', 'string', 3)),
    'apps.RollingUpdateDeployment': ((1, 'maxUnavailable', 'intstr', 0), (2, 'maxSurge', 'intstr', 0)),
    'networking.IngressServiceBackend': ((1, 'name', 'string', 0), (2, 'port', 'networking.ServiceBackendPort', 2)),
    'networking.IngressRuleValue': ((1, 'http', 'networking.HTTPIngressRuleValue', 0),),
    'networking.IngressLoadBalancerIngress': ((1, 'ip', 'string', 2), (2, 'hostname', 'string', 2),
        (4, 'ports', 'networking.IngressPortStatus', 3)),
    'autoscaling.ObjectMetricSource': ((1, 'describedObject', 'autoscaling.CrossVersionObjectReference', 0),
        (2, 'target', 'autoscaling.MetricTarget', 0), (3, 'metric', 'autoscaling.MetricIdentifier', 0)),
    'autoscaling.PodsMetricSource': ((1, 'metric', 'autoscaling.MetricIdentifier', 0),
        (2, 'target', 'autoscaling.MetricTarget', 0)),
    'autoscaling.ResourceMetricSource': ((1, 'name', 'string', 0), (2, 'target', 'autoscaling.MetricTarget', 0)),
    'autoscaling.ContainerResourceMetricSource': ((1, 'name', 'string', 0),
        (2, 'target', 'autoscaling.MetricTarget', 0), (3, 'container', 'string', 0)),
    'autoscaling.ExternalMetricSource': ((1, 'metric', 'autoscaling.MetricIdentifier', 0),
        (2, 'target', 'autoscaling.MetricTarget', 0)),
    'autoscaling.HPAScalingRules': ((3, 'stabilizationWindowSeconds', 'int', 0), (1, 'selectPolicy', 'string', 0),
        (2, 'policies', 'autoscaling.HPAScalingPolicy', 3), (4, 'tolerance', 'quantity', 0)),
    'autoscaling.ObjectMetricStatus': ((1, 'metric', 'autoscaling.MetricIdentifier', 0),
        (2, 'current', 'autoscaling.MetricValueStatus', 0),
        (3, 'describedObject', 'autoscaling.CrossVersionObjectReference', 0)),
    'autoscaling.PodsMetricStatus': ((1, 'metric', 'autoscaling.MetricIdentifier', 0),
        (2, 'current', 'autoscaling.MetricValueStatus', 0)),
    'autoscaling.ResourceMetricStatus': ((1, 'name', 'string', 0), (2, 'current', 'autoscaling.MetricValueStatus', 0)),
    'autoscaling.ContainerResourceMetricStatus': ((1, 'name', 'string', 0),
        (2, 'current', 'autoscaling.MetricValueStatus', 0), (3, 'container', 'string', 0)),
    'autoscaling.ExternalMetricStatus': ((1, 'metric', 'autoscaling.MetricIdentifier', 0),
        (2, 'current', 'autoscaling.MetricValueStatus', 0)),
    'core.PortStatus': ((1, 'port', 'int', 0), (2, 'protocol', 'string', 0), (3, 'error', 'string', 0)),
    'core.ContainerStateWaiting': ((1, 'reason', 'string', 2), (2, 'message', 'string', 2)),
    'core.ContainerStateRunning': ((1, 'startedAt', 'time', 2),),
    'core.ContainerStateTerminated': ((1, 'exitCode', 'int', 0), (2, 'signal', 'int', 2), (3, 'reason', 'string', 2),
        (4, 'message', 'string', 2), (5, 'startedAt', 'time', 2), (6, 'finishedAt', 'time', 2),
        (7, 'containerID', 'string', 2)),
    'core.VolumeStatus': ((1, 'image', 'core.ImageVolumeStatus', 0),),
    'core.LinuxContainerUser': ((1, 'uid', 'int', 0), (2, 'gid', 'int', 0), (3, 'supplementalGroups', 'int', 3)),
    'core.ResourceHealth': ((1, 'resourceID', 'string', 0), (2, 'health', 'string', 2), (6, 'message', 'string', 0)),
    'networking.ServiceBackendPort': ((1, 'name', 'string', 2), (2, 'number', 'int', 2)),
    'networking.HTTPIngressRuleValue': ((1, 'paths', 'networking.HTTPIngressPath', 1),),
    'networking.IngressPortStatus': ((1, 'port', 'int', 0), (2, 'protocol', 'string', 0), (3, 'error', 'string', 0)),
    'autoscaling.MetricTarget': ((1, 'type', 'string', 0), (2, 'value', 'quantity', 0),
        (3, 'averageValue', 'quantity', 0), (4, 'averageUtilization', 'int', 0)),
    'autoscaling.MetricIdentifier': ((1, 'name', 'string', 0), (2, 'selector', 'meta.LabelSelector', 0)),
    'autoscaling.HPAScalingPolicy': ((1, 'type', 'string', 0), (2, 'value', 'int', 0), (3, 'periodSeconds', 'int', 0)),
    'autoscaling.MetricValueStatus': ((1, 'value', 'quantity', 0), (2, 'averageValue', 'quantity', 0),
        (3, 'averageUtilization', 'int', 0)),
    'core.ImageVolumeStatus': ((1, 'imageRef', 'string', 2),),
    'networking.HTTPIngressPath': ((1, 'path', 'string', 2), (3, 'pathType', 'string', 0),
        (2, 'backend', 'networking.IngressBackend', 0)),
}
