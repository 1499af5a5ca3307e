"""kubectl's typed commands send their object as protobuf, and the rehearsal reads it as an API server does.

`kubectl create namespace|serviceaccount|service|deployment|ingress|role|...`, `kubectl autoscale`,
`kubectl debug node/NAME` and `kubectl drain --force` build the object with client-go's typed clients, which send it
as ``application/vnd.kubernetes.protobuf`` (the ``k8s\\x00`` magic and a runtime.Unknown envelope around the kind's
message, k8s.io/api */generated.proto); a real API server reads protobuf for every built-in kind, so none of these
may fail against the rehearsal with 415 UnsupportedMediaType. Each command runs with ``-v=8`` to prove kubectl
really sent protobuf, then the stored object is read back with ``kubectl get -o json``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from mediaops.sim.protobuf import ProtobufError, decode_object
from tests.conftest import KUBECTL, Mediaops, kubectl

NS = "typed"
PROTOBUF = "Content-Type: application/vnd.kubernetes.protobuf"


def sent_as_protobuf(ops: Mediaops, *args: str) -> None:
    """Run a kubectl command that must send its body as protobuf, and must succeed."""
    result = kubectl(ops, "-v=8", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert PROTOBUF in result.stderr, f"kubectl {' '.join(args)} sent no protobuf body"


def get(ops: Mediaops, *args: str) -> Any:
    result = kubectl(ops, "get", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_kubectl_create_subcommands_send_protobuf_the_rehearsal_reads(sim: Mediaops) -> None:
    sent_as_protobuf(sim, "create", "namespace", NS)
    namespace = get(sim, "namespace", NS)
    # as the API server makes a namespace (pkg/registry/core/namespace/strategy.go PrepareForCreate, and
    # SetDefaults_Namespace): Active, the kubernetes finalizer, the label namespaceSelectors match on
    assert namespace["metadata"]["name"] == NS and namespace["status"] == {"phase": "Active"}
    assert namespace["spec"]["finalizers"] == ["kubernetes"]
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": NS}
    shown = kubectl(sim, "get", "namespace", NS).stdout.splitlines()
    assert shown[0].split() == ["NAME", "STATUS", "AGE"] and shown[1].split()[:2] == [NS, "Active"], shown

    sent_as_protobuf(sim, "create", "serviceaccount", "robot", "-n", NS)
    assert get(sim, "serviceaccount", "robot", "-n", NS)["metadata"]["namespace"] == NS

    sent_as_protobuf(sim, "create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", NS)
    web = get(sim, "deployment", "web", "-n", NS)
    assert web["metadata"]["labels"] == {"app": "web"}
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert web["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert [(c["name"], c["image"]) for c in web["spec"]["template"]["spec"]["containers"]] == [("nginx", "nginx:1.27")]

    sent_as_protobuf(sim, "create", "service", "clusterip", "web", "--tcp=80:8080", "-n", NS)
    service = get(sim, "service", "web", "-n", NS)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {"app": "web"}
    assert service["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    sent_as_protobuf(sim, "create", "service", "externalname", "outside", "--external-name=nas.example.com", "-n", NS)
    outside = get(sim, "service", "outside", "-n", NS)["spec"]
    assert (outside["type"], outside["externalName"]) == ("ExternalName", "nas.example.com")

    sent_as_protobuf(sim, "create", "ingress", "web", "--class=nginx", "--rule=web.example.com/api=web:http",
                     "--rule=web.example.com/*=web:80,tls=web-tls", "-n", NS)
    ingress = get(sim, "ingress", "web", "-n", NS)["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"hosts": ["web.example.com"], "secretName": "web-tls"}]
    assert ingress["rules"] == [{"host": "web.example.com", "http": {"paths": [
        {"path": "/api", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]

    sent_as_protobuf(sim, "create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", NS)
    assert get(sim, "role", "reader", "-n", NS)["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    sent_as_protobuf(sim, "create", "rolebinding", "reader", "--role=reader", f"--serviceaccount={NS}:robot", "-n", NS)
    binding = get(sim, "rolebinding", "reader", "-n", NS)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "robot", "namespace": NS}]
    sent_as_protobuf(sim, "create", "clusterrole", "typed-reader", "--verb=get", "--resource=nodes")
    assert get(sim, "clusterrole", "typed-reader")["rules"][0]["resources"] == ["nodes"]
    sent_as_protobuf(sim, "create", "clusterrolebinding", "typed-reader", "--clusterrole=typed-reader",
                     f"--serviceaccount={NS}:robot")
    assert get(sim, "clusterrolebinding", "typed-reader")["roleRef"]["name"] == "typed-reader"

    # resource.Quantity is a message {string = 1} on the wire (k8s.io/apimachinery pkg/api/resource)
    sent_as_protobuf(sim, "create", "quota", "small", "--hard=pods=3,requests.cpu=1500m,requests.memory=1Gi",
                     "-n", NS)
    assert get(sim, "quota", "small", "-n", NS)["spec"]["hard"] == {
        "pods": "3", "requests.cpu": "1500m", "requests.memory": "1Gi"}
    sent_as_protobuf(sim, "create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1", "-n", NS)
    budget = get(sim, "poddisruptionbudget", "web", "-n", NS)["spec"]
    assert budget == {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    sent_as_protobuf(sim, "create", "priorityclass", "typed-high", "--value=1000", "--description=for tests")
    priority = get(sim, "priorityclass", "typed-high")
    assert (priority["value"], priority["description"]) == (1000, "for tests")

    # the kinds that already were read stay read
    sent_as_protobuf(sim, "create", "configmap", "settings", "--from-literal=a=1", "-n", NS)
    assert get(sim, "configmap", "settings", "-n", NS)["data"] == {"a": "1"}


def test_other_kubectl_commands_that_send_protobuf(sim: Mediaops) -> None:
    assert kubectl(sim, "create", "namespace", NS).returncode == 0
    assert kubectl(sim, "create", "deployment", "web", "--image=nginx:1.27", "-n", NS).returncode == 0

    # kubectl autoscale: an autoscaling/v2 HorizontalPodAutoscaler
    sent_as_protobuf(sim, "autoscale", "deployment", "web", "--min=1", "--max=3", "--cpu=80%", "-n", NS)
    hpa = get(sim, "hpa", "web", "-n", NS)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 3)
    assert hpa["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]

    # kubectl create job --from=cronjob: the Job's quantities read as their strings, not as the Quantity message
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": NS},
               "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "Never", "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
                   "containers": [{"name": "run", "image": "busybox:1.37", "command": ["true"],
                                   "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}}}}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], env=sim.env, input=json.dumps(cronjob), text=True,
                          capture_output=True, timeout=60)  # kubectl create -f sends JSON
    assert made.returncode == 0, made.stderr
    sent_as_protobuf(sim, "create", "job", "nightly-now", "--from=cronjob/nightly", "-n", NS)
    spec = get(sim, "job", "nightly-now", "-n", NS)["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"] == {"limits": {"cpu": "100m", "memory": "64Mi"}}
    assert spec["volumes"] == [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}]

    # kubectl debug node/NAME: a Pod
    node = get(sim, "nodes")["items"][0]["metadata"]["name"]
    sent_as_protobuf(sim, "debug", f"node/{node}", "-n", NS, "--image=busybox:1.37", "--", "true")
    pods = [p for p in get(sim, "pods", "-n", NS)["items"] if p["metadata"]["name"].startswith("node-debugger-")]
    assert len(pods) == 1
    assert pods[0]["spec"]["nodeName"] == node and pods[0]["spec"]["hostPID"] is True
    assert [(c["image"], c["command"]) for c in pods[0]["spec"]["containers"]] == [("busybox:1.37", ["true"])]

    # kubectl drain --force: each pod's DELETE carries DeleteOptions as protobuf
    sent_as_protobuf(sim, "drain", node, "--force", "--ignore-daemonsets", "--timeout=30s",
                     "--pod-selector=app.kubernetes.io/managed-by=kubectl-debug")
    assert not [p for p in get(sim, "pods", "-n", NS)["items"] if p["metadata"]["name"].startswith("node-debugger-")]
    assert kubectl(sim, "uncordon", node).returncode == 0


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    """runtime.Unknown {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2} after the magic (short fields only)."""
    type_meta = b"\x0a" + bytes([len(api_version)]) + api_version.encode() + b"\x12" + bytes([len(kind)])
    type_meta += kind.encode()
    return b"k8s\x00" + b"\x0a" + bytes([len(type_meta)]) + type_meta + b"\x12" + bytes([len(raw)]) + raw


def test_a_field_the_table_does_not_know_is_refused_not_dropped() -> None:
    metadata = b"\x0a\x05" + b"\x0a\x03abc"  # ObjectMeta {name = 1}
    assert decode_object(envelope("v1", "Namespace", metadata)) == {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "abc"}}
    with pytest.raises(ProtobufError):
        decode_object(envelope("v1", "Namespace", metadata + b"\xf8\x01\x01"))  # field 31: no such field
    with pytest.raises(ProtobufError):
        decode_object(envelope("v1", "PersistentVolume", metadata))  # a kind kubectl's commands do not send
