"""`kubectl apply -f` of a `kind: List` against the background rehearsal, as against a real API server.

kubectl splits a List into its items on the client (k8s.io/cli-runtime pkg/resource visitor.go, FlattenListVisitor),
but first validates the document itself: a v1 List has no server-side fieldValidation (query_param_verifier.go,
query_param_verifier_v3.go answer "unsupported" for it), so kubectl checks each item against /openapi/v2, which it
asks for as gnostic's protobuf only (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf). The API
server negotiates that media type (k8s.io/kube-openapi pkg/handler/handler.go); a JSON answer fails in kubectl
with "proto: cannot parse invalid wire-format data".
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from mediaops.sim.protobuf import fields
from tests.conftest import Mediaops, kubectl

NAMESPACE = "list-contract"


def _configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
            "data": data}


def _ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def _apply_list(ops: Mediaops, path: Path, *items: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items)}, sort_keys=False))
    return _ok(kubectl(ops, "apply", "-f", str(path)))


def _namespace(ops: Mediaops, tmp_path: Path) -> None:
    (tmp_path / "namespace.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace",
                                                             "metadata": {"name": NAMESPACE}}))
    _ok(kubectl(ops, "apply", "-f", str(tmp_path / "namespace.yaml")))


def _data(ops: Mediaops, *names: str) -> dict[str, dict[str, str]]:
    listed = json.loads(_ok(kubectl(ops, "get", "configmaps", *names, "-n", NAMESPACE, "-o", "json")))
    objects = listed["items"] if listed["kind"] == "List" else [listed]
    return {o["metadata"]["name"]: o.get("data", {}) for o in objects}


def test_kubectl_applies_a_list_of_two_configmaps(sim: Mediaops, tmp_path: Path) -> None:
    _namespace(sim, tmp_path)
    applied = _apply_list(sim, tmp_path / "list.yaml", _configmap("first", a="1"), _configmap("second", b="2"))
    assert applied.splitlines() == ["configmap/first created", "configmap/second created"]
    assert _data(sim, "first", "second") == {"first": {"a": "1"}, "second": {"b": "2"}}

    # Validated on the client against the OpenAPI document, as kubectl does a List's items with a real server.
    wrong = _configmap("third", c="3")
    wrong["dataa"] = wrong.pop("data")
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [wrong]}))
    refused = kubectl(sim, "apply", "-f", str(tmp_path / "wrong.yaml"))
    assert refused.returncode == 1
    assert 'error validating data: ValidationError(ConfigMap): unknown field "dataa"' in refused.stderr
    assert "proto:" not in refused.stderr
    assert "third" not in _data(sim)


def test_a_listed_namespace_round_trips_through_apply(sim: Mediaops, tmp_path: Path) -> None:
    _namespace(sim, tmp_path)
    _apply_list(sim, tmp_path / "list.yaml", _configmap("first", a="1"), _configmap("second", b="2"))

    listed = yaml.safe_load(_ok(kubectl(sim, "get", "configmaps", "-n", NAMESPACE, "-o", "yaml")))
    assert listed["apiVersion"] == "v1" and listed["kind"] == "List"
    ours = {i["metadata"]["name"]: i for i in listed["items"] if i["metadata"]["name"] in ("first", "second")}
    assert sorted(ours) == ["first", "second"] and all(i["kind"] == "ConfigMap" for i in listed["items"])

    # Applied back as it was read: only the last-applied-configuration annotation changes (it now holds the
    # metadata the server set), so kubectl says "configured", as with a real server; the data stays.
    (tmp_path / "listed.yaml").write_text(yaml.safe_dump(listed))
    again = _ok(kubectl(sim, "apply", "-f", str(tmp_path / "listed.yaml")))
    assert "configmap/first configured" in again and "configmap/second configured" in again
    assert _data(sim, "first", "second") == {"first": {"a": "1"}, "second": {"b": "2"}}
    # Read again, edited and applied back: the edit lands, the other item keeps its data.
    listed = yaml.safe_load(_ok(kubectl(sim, "get", "configmaps", "-n", NAMESPACE, "-o", "yaml")))
    next(i for i in listed["items"] if i["metadata"]["name"] == "first")["data"] = {"a": "changed"}
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(listed))
    edited = _ok(kubectl(sim, "apply", "-f", str(tmp_path / "edited.yaml")))
    assert "configmap/first configured" in edited
    assert _data(sim, "first", "second") == {"first": {"a": "changed"}, "second": {"b": "2"}}


def _get(url: str, accept: str | None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_the_openapi_v2_document_is_negotiated_as_the_api_server_does(sim: Mediaops) -> None:
    config = yaml.safe_load(Path(sim.env["KUBECONFIG"]).read_text())
    url = config["clusters"][0]["cluster"]["server"] + "/openapi/v2"

    code, content_type, body = _get(url, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert code == 200 and content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert not body.startswith(b"k8s\x00")  # gnostic's Document as is: not the API objects' runtime.Unknown
    document = {number: value for number, _, value in fields(body)}  # swagger = 1, info = 2, definitions = 9
    assert document[1] == b"2.0" and {n: v for n, _, v in fields(document[2])}[1] == b"Kubernetes"
    names = {bytes(v) for n, _, named in fields(document[9]) for n, _, v in fields(named) if n == 1}
    assert b"io.k8s.api.v1.ConfigMap" in names

    for accept in (None, "application/json", "application/json, */*", "*/*"):
        code, content_type, body = _get(url, accept)
        assert code == 200 and content_type == "application/json", accept
        assert "io.k8s.api.v1.ConfigMap" in json.loads(body)["definitions"]
    code, content_type, body = _get(url, "application/json;q=0.5, application/com.github.proto-openapi.spec.v2."
                                         "v1.0+protobuf")
    assert code == 200 and content_type.endswith("+protobuf")
    assert _get(url, "text/html")[0] == 406
