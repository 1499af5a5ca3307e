"""The API server's contracts a wrong manifest or an operator's kubectl workflow meets on a real cluster:
schema validation per fieldValidation, finalizers and DeleteOptions, dry runs, server-side apply,
OpenAPI, CRDs, access reviews, events.k8s.io, ReplicaSets and custom resources' printer columns."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mediaops.cluster import waits, workloads
from tests.conftest import Cluster
from tests.contracts.conftest import kubectl

KUBECTL = str(Path(sys.executable).parent / "kubectl")
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": "media"},
              "spec": {"selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


def call(cluster: Cluster, method: str, path: str, body: Any = None, *,
         content_type: str = "application/json") -> tuple[int, dict[str, Any], list[str]]:
    """One raw request: status, JSON answer and the Warning headers."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(cluster.sim.server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Authorization": "Bearer rehearsal"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}"), response.headers.get_all("Warning") or []
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), exc.headers.get_all("Warning") or []


def with_field(obj: dict[str, Any], **spec: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(obj))
    copy["spec"].update(spec)
    return copy


DEPLOYMENTS = "/apis/apps/v1/namespaces/media/deployments"
CONFIGMAPS = "/api/v1/namespaces/media/configmaps"


# -- 1. schema validation ----------------------------------------------------------------------------------
def test_unknown_fields_follow_field_validation(cluster: Cluster) -> None:
    bad = with_field(DEPLOYMENT, foo=1)
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    code, answer, _ = call(cluster, "POST", DEPLOYMENTS + "?fieldValidation=Strict", bad)
    assert code == 400 and answer["reason"] == "BadRequest"
    assert answer["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding '
                                 'error: unknown field "spec.template.spec.containers[0].imagePullPolice", '
                                 'unknown field "spec.foo"')  # in the document's order
    assert cluster.kube.find("Deployment", "web", "media") is None
    code, answer, warnings = call(cluster, "POST", DEPLOYMENTS, bad)  # Warn: the default for other clients
    assert code == 201 and warnings == ['299 - "unknown field \\"spec.template.spec.containers[0].imagePullPolice\\""',
                                        '299 - "unknown field \\"spec.foo\\""']
    stored = cluster.kube.get("Deployment", "web", "media")
    assert "foo" not in stored["spec"] and "imagePullPolice" not in stored["spec"]["template"]["spec"]["containers"][0]
    code, answer, warnings = call(cluster, "PATCH", DEPLOYMENTS + "/web?fieldValidation=Ignore",
                                  {"spec": {"bar": True}}, content_type="application/merge-patch+json")
    assert code == 200 and warnings == [] and "bar" not in answer["spec"]
    code, answer, _ = call(cluster, "POST", DEPLOYMENTS + "?fieldValidation=Loose", DEPLOYMENT)
    assert code == 400 and "fieldValidation" in answer["message"]


def test_kubectl_apply_is_strict_about_unknown_fields(cluster: Cluster) -> None:
    bad = json.dumps(with_field(DEPLOYMENT, replica=2))
    refused = kubectl(cluster, "apply", "-f", "-", input=bad)
    assert refused.returncode == 1
    assert 'strict decoding error: unknown field "spec.replica"' in refused.stderr
    warned = kubectl(cluster, "apply", "--validate=warn", "-f", "-", input=bad)
    assert warned.returncode == 0 and 'Warning: unknown field "spec.replica"' in warned.stderr


def test_missing_required_fields_are_invalid(cluster: Cluster) -> None:
    no_selector = json.loads(json.dumps(DEPLOYMENT))
    del no_selector["spec"]["selector"]
    no_selector["spec"]["template"]["spec"]["containers"] = [{"name": "web"}]
    code, answer, _ = call(cluster, "POST", DEPLOYMENTS, no_selector)
    assert code == 422 and answer["reason"] == "Invalid"
    assert {c["field"] for c in answer["details"]["causes"]} == {"spec.selector",
                                                                 "spec.template.spec.containers[0].image"}
    assert 'Deployment.apps "web" is invalid: [' in answer["message"]
    nameless = json.loads(json.dumps(DEPLOYMENT))
    nameless["spec"]["template"]["spec"]["containers"] = [{"image": "nginx"}]
    code, answer, _ = call(cluster, "POST", DEPLOYMENTS, nameless)
    assert code == 422 and answer["message"].endswith("spec.template.spec.containers[0].name: Required value")
    mismatched = json.loads(json.dumps(DEPLOYMENT))
    mismatched["spec"]["selector"]["matchLabels"] = {"app": "other"}
    code, answer, _ = call(cluster, "POST", DEPLOYMENTS, mismatched)
    assert code == 422 and "`selector` does not match template `labels`" in answer["message"]
    invalid = kubectl(cluster, "apply", "-f", "-", input=json.dumps(no_selector))
    assert invalid.returncode == 1 and "spec.selector: Required value" in invalid.stderr
    # a custom resource is not checked against a schema here
    code, _, warnings = call(cluster, "POST", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/media/kustomizations",
                             {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                              "metadata": {"name": "free"}, "spec": {"anything": 1}})
    assert code == 201 and warnings == []


def test_bad_bodies_are_answered_not_crashed(cluster: Cluster) -> None:
    code, answer, _ = call(cluster, "POST", "/api/v1/namespaces/media/configmaps", b"k8s\x00\x0a\x02",
                           content_type="application/vnd.kubernetes.protobuf")
    assert code == 415 and answer["reason"] == "UnsupportedMediaType"
    code, answer, _ = call(cluster, "POST", "/api/v1/namespaces/media/configmaps", b"\x00{: [",
                           content_type="application/yaml")
    assert code == 400 and answer["kind"] == "Status"
    code, answer, _ = call(cluster, "POST", "/api/v1/namespaces/media/configmaps", b"[1, 2]")
    assert code == 400 and answer["kind"] == "Status"
    code, answer, _ = call(cluster, "PATCH", CONFIGMAPS + "/x?fieldManager=me", b"metadata: [1]",
                           content_type="application/apply-patch+yaml")
    assert code == 400 and answer["kind"] == "Status"
    code, answer, _ = call(cluster, "DELETE", CONFIGMAPS + "/absent", {"preconditions": [1], "dryRun": "All"})
    assert code == 404 and answer["kind"] == "Status"


# -- 2. finalizers, DeleteOptions, dry runs -----------------------------------------------------------------


def test_finalizers_hold_a_deleted_object_until_an_update_empties_them(cluster: Cluster) -> None:
    cluster.kube.create("ConfigMap", {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}, "media")
    code, answer, _ = call(cluster, "DELETE", CONFIGMAPS + "/held")
    assert code == 202 and answer["metadata"]["deletionTimestamp"]
    held = cluster.kube.get("ConfigMap", "held", "media")
    assert held["metadata"]["deletionGracePeriodSeconds"] == 0 and held["metadata"]["finalizers"] == [
        "example.com/keep"]
    code, answer, _ = call(cluster, "PATCH", CONFIGMAPS + "/held", {"metadata": {"finalizers": [
        "example.com/keep", "example.com/more"]}}, content_type="application/merge-patch+json")
    assert code == 422 and "no new finalizers can be added if the object is being deleted" in answer["message"]
    code, answer, _ = call(cluster, "PATCH", CONFIGMAPS + "/held", {"metadata": {"deletionTimestamp": None}},
                           content_type="application/merge-patch+json")
    assert code == 200 and answer["metadata"]["deletionTimestamp"]  # the server's field: a client cannot clear it
    cluster.kube.patch("ConfigMap", "held", {"metadata": {"finalizers": None}}, "media")
    waits.gone(cluster.kube, "ConfigMap", "held", "media", timeout=10)


def test_a_claim_in_use_stays_until_its_pods_are_gone(cluster: Cluster) -> None:
    claim = cluster.kube.get("PersistentVolumeClaim", "tautulli-config", "media")
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    deleted = kubectl(cluster, "delete", "pvc", "tautulli-config", "-n", "media", "--wait=false")
    assert deleted.returncode == 0, deleted.stderr
    terminating = cluster.kube.get("PersistentVolumeClaim", "tautulli-config", "media")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert "Terminating" in kubectl(cluster, "get", "pvc", "tautulli-config", "-n", "media").stdout
    workloads.scale(cluster.kube, "Deployment", "tautulli", "media", 0)
    waits.gone(cluster.kube, "PersistentVolumeClaim", "tautulli-config", "media", timeout=20)
    assert cluster.kube.list("Pod", "media", labels="app.kubernetes.io/name=tautulli")[0] == []


def test_delete_options_preconditions_and_dry_run(cluster: Cluster) -> None:
    cluster.kube.create("ConfigMap", {"metadata": {"name": "target"}, "data": {"a": "1"}}, "media")
    live = cluster.kube.get("ConfigMap", "target", "media")
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}}
    code, answer, _ = call(cluster, "DELETE", CONFIGMAPS + "/target", options)
    assert code == 409 and answer["reason"] == "Conflict"
    assert "Precondition failed: UID in precondition: not-the-uid" in answer["message"]
    code, answer, _ = call(cluster, "DELETE", CONFIGMAPS + "/target",
                           {"preconditions": {"resourceVersion": "1"}})
    assert code == 409 and "ResourceVersion in precondition: 1" in answer["message"]
    code, _, _ = call(cluster, "DELETE", CONFIGMAPS + "/target", {"dryRun": ["All"]})
    assert code == 200 and cluster.kube.find("ConfigMap", "target", "media") is not None
    code, _, _ = call(cluster, "DELETE", CONFIGMAPS + "/target?dryRun=All")
    assert code == 200 and cluster.kube.find("ConfigMap", "target", "media") is not None
    code, answer, _ = call(cluster, "DELETE", CONFIGMAPS + "/target", {"propagationPolicy": "Sometimes"})
    assert code == 422 and "propagationPolicy" in answer["message"]
    code, answer, _ = call(cluster, "POST", CONFIGMAPS + "?dryRun=All", {"metadata": {"name": "dry"}})
    assert code == 201 and answer["metadata"]["name"] == "dry"
    assert cluster.kube.find("ConfigMap", "dry", "media") is None
    code, _, _ = call(cluster, "PATCH", CONFIGMAPS + "/target?dryRun=All", {"data": {"a": "2"}},
                      content_type="application/merge-patch+json")
    assert code == 200 and cluster.kube.get("ConfigMap", "target", "media")["data"] == {"a": "1"}
    dry = kubectl(cluster, "delete", "configmap", "target", "-n", "media", "--dry-run=server")
    assert dry.returncode == 0 and "(server dry run)" in dry.stdout
    code, _, _ = call(cluster, "DELETE", CONFIGMAPS + "/target", {"preconditions": {
        "uid": live["metadata"]["uid"], "resourceVersion": live["metadata"]["resourceVersion"]}})
    assert code == 200 and cluster.kube.find("ConfigMap", "target", "media") is None


def _replica_sets(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    items = cluster.kube.list("ReplicaSet", "media")[0]
    return [rs for rs in items if rs["metadata"]["name"].startswith(app + "-")]


def test_orphan_and_foreground_deletion(cluster: Cluster) -> None:
    (rs,) = _replica_sets(cluster, "tautulli")
    (pod,) = cluster.kube.list("Pod", "media", labels="app.kubernetes.io/name=tautulli")[0]
    orphaned = kubectl(cluster, "delete", "deployment", "tautulli", "-n", "media", "--cascade=orphan")
    assert orphaned.returncode == 0, orphaned.stderr
    kept = cluster.kube.get("ReplicaSet", rs["metadata"]["name"], "media")
    assert "ownerReferences" not in kept["metadata"]
    assert cluster.kube.find("Pod", pod["metadata"]["name"], "media") is not None
    (calibre_rs,) = _replica_sets(cluster, "calibre-web")
    foreground = kubectl(cluster, "delete", "deployment", "calibre-web", "-n", "media", "--cascade=foreground")
    assert foreground.returncode == 0, foreground.stderr
    waits.gone(cluster.kube, "Deployment", "calibre-web", "media", timeout=20)
    assert cluster.kube.find("ReplicaSet", calibre_rs["metadata"]["name"], "media") is None
    assert cluster.kube.list("Pod", "media", labels="app.kubernetes.io/name=calibre-web")[0] == []


def test_foreground_deletion_waits_for_a_pod_stuck_on_a_dead_nas(cluster: Cluster) -> None:
    cluster.sim.set_fault("nas-down", "on")
    code, answer, _ = call(cluster, "DELETE", DEPLOYMENTS + "/calibre-web", {"propagationPolicy": "Foreground"})
    assert code == 202 and "foregroundDeletion" in answer["metadata"]["finalizers"]
    pods = cluster.kube.list("Pod", "media", labels="app.kubernetes.io/name=calibre-web")[0]
    # Terminating, every one (a rollout may have had two): their NFS mount does not let go.
    assert pods and all(pod["metadata"].get("deletionTimestamp") for pod in pods), pods
    assert cluster.kube.find("Deployment", "calibre-web", "media") is not None
    cluster.sim.set_fault("nas-down", "off")
    # Returns at the DELETED event; the bound only keeps a loaded machine from failing it.
    waits.gone(cluster.kube, "Deployment", "calibre-web", "media", timeout=60)


# -- 3. server-side apply -------------------------------------------------------------------------------------
def test_server_side_apply_owns_fields_and_refuses_conflicts(cluster: Cluster) -> None:
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "namespace": "media"},
                "data": {"a": "1", "b": "2"}}
    created = kubectl(cluster, "apply", "--server-side", "-f", "-", input=json.dumps(manifest))
    assert created.returncode == 0 and "serverside-applied" in created.stdout, created.stderr
    live = cluster.kube.get("ConfigMap", "owned", "media")
    (entry,) = live["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    manifest["data"] = {"a": "changed"}
    clash = kubectl(cluster, "apply", "--server-side", "--field-manager=other", "-f", "-",
                    input=json.dumps(manifest))
    assert clash.returncode == 1 and 'conflict with "kubectl"' in clash.stderr and ".data.a" in clash.stderr
    assert cluster.kube.get("ConfigMap", "owned", "media")["data"] == {"a": "1", "b": "2"}
    forced = kubectl(cluster, "apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-",
                     input=json.dumps(manifest))
    assert forced.returncode == 0, forced.stderr
    live = cluster.kube.get("ConfigMap", "owned", "media")
    assert live["data"] == {"a": "changed", "b": "2"}
    owners = {e["manager"]: e["fieldsV1"] for e in live["metadata"]["managedFields"]}
    assert owners == {"kubectl": {"f:data": {"f:b": {}}}, "other": {"f:data": {"f:a": {}}}}
    # a field the manager no longer applies, and nobody else owns, is removed
    dropped = kubectl(cluster, "apply", "--server-side", "-f", "-", input=json.dumps(
        {**manifest, "data": {"c": "3"}}))
    assert dropped.returncode == 0, dropped.stderr
    assert cluster.kube.get("ConfigMap", "owned", "media")["data"] == {"a": "changed", "c": "3"}
    # an Update by another manager takes the field it changed
    cluster.kube.patch("ConfigMap", "owned", {"data": {"c": "4"}}, "media")
    owners = {e["manager"]: (e["operation"], e["fieldsV1"])
              for e in cluster.kube.get("ConfigMap", "owned", "media")["metadata"]["managedFields"]}
    assert owners["mediaops"] == ("Update", {"f:data": {"f:c": {}}}) and "kubectl" not in owners


def test_server_side_apply_needs_a_field_manager_and_checks_the_schema(cluster: Cluster) -> None:
    code, answer, _ = call(cluster, "PATCH", CONFIGMAPS + "/x", {"metadata": {"name": "x"}},
                           content_type="application/apply-patch+yaml")
    assert code == 400 and "fieldManager" in answer["message"]
    bad = with_field(DEPLOYMENT, foo=1)
    applied = kubectl(cluster, "apply", "--server-side", "-f", "-", input=json.dumps(bad))
    assert applied.returncode == 1 and ".spec.foo: field not declared in schema" in applied.stderr
    partial = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "tautulli", "namespace": "media"},
               "spec": {"replicas": 2}}  # an apply configuration may leave out what the object already has
    scaled = kubectl(cluster, "apply", "--server-side", "--field-manager=scaler", "-f", "-", input=json.dumps(partial))
    assert scaled.returncode == 0, scaled.stderr
    assert cluster.kube.get("Deployment", "tautulli", "media")["spec"]["replicas"] == 2
    incomplete = kubectl(cluster, "apply", "--server-side", "-f", "-", input=json.dumps(
        {**partial, "metadata": {"name": "fresh", "namespace": "media"}}))
    assert incomplete.returncode == 1 and "spec.selector: Required value" in incomplete.stderr


# -- 4. discovery, OpenAPI, CRDs, access reviews, events.k8s.io, ReplicaSets, printer columns -------------------
def test_kubectl_explain_reads_the_openapi(cluster: Cluster) -> None:
    explained = kubectl(cluster, "explain", "deployment.spec")
    assert explained.returncode == 0, explained.stderr
    assert "FIELD: spec <DeploymentSpec>" in explained.stdout and "selector\t<LabelSelector> -required-" in \
        explained.stdout
    code, root, _ = call(cluster, "GET", "/openapi/v3")
    assert code == 200 and "apis/apps/v1" in root["paths"]
    code, v2, _ = call(cluster, "GET", "/openapi/v2")
    assert code == 200 and v2["swagger"] == "2.0" and "io.k8s.api.v1.Deployment" in v2["definitions"]


def test_discovery_is_aggregated_for_clients_that_ask_and_says_what_the_older_documents_say(cluster: Cluster) -> None:
    """A 1.30+ API server answers /api and /apis with one APIGroupDiscoveryList when asked for it (kubectl and
    client-go ask first): kubectl then discovers in two requests instead of one per group version, and what it
    learns is what the older per-group-version documents say."""
    aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    documents = {}
    for path in ("/api", "/apis"):
        request = urllib.request.Request(cluster.sim.server.url + path,
                                         headers={"Accept": aggregated + ",application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == aggregated
            documents[path] = json.loads(response.read())
    assert documents["/api"]["kind"] == "APIGroupDiscoveryList"
    assert [g["metadata"].get("name", "") for g in documents["/api"]["items"]] == [""]
    groups = {g["metadata"]["name"]: g for g in documents["/apis"]["items"]}
    assert "apps" in groups and "kustomize.toolkit.fluxcd.io" in groups and "" not in groups
    seen, versions = {}, []
    for group in [*documents["/api"]["items"], *groups.values()]:
        name = group["metadata"].get("name", "")
        for version in group["versions"]:
            versions.append((name, version["version"]))
            for r in version["resources"]:
                seen[(name, version["version"], r["resource"])] = r
                for sub in r.get("subresources", []):
                    seen[(name, version["version"], f"{r['resource']}/{sub['subresource']}")] = sub
    older = 0
    for group, version in versions:
        code, listing, _ = call(cluster, "GET", f"/apis/{group}/{version}" if group else f"/api/{version}")
        assert code == 200 and listing["kind"] == "APIResourceList"
        for item in listing["resources"]:
            found = seen[(group, version, item["name"])]
            assert (found["responseKind"]["kind"], sorted(found["verbs"])) == (item["kind"], sorted(item["verbs"]))
            if "/" not in item["name"]:
                assert found["scope"] == ("Namespaced" if item["namespaced"] else "Cluster")
                assert found.get("shortNames", []) == item.get("shortNames", [])
            older += 1
    assert older == len(seen)
    fresh = Path(cluster.kubeconfig).parent / "kubectl-cache-aggregated"
    traced = subprocess.run([KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(fresh), "get",
                             "deployment", "tautulli", "-n", "media", "-v=6"], capture_output=True, text=True,
                            timeout=60)
    assert traced.returncode == 0, traced.stderr
    asked = [line.split('url="')[1].split('"')[0].split("?")[0].removeprefix(cluster.sim.server.url)
             for line in traced.stderr.splitlines() if '"Response"' in line]
    assert asked == ["/api", "/apis", "/apis/apps/v1/namespaces/media/deployments/tautulli"], asked
    plain = urllib.request.Request(cluster.sim.server.url + "/apis", headers={"Accept": "application/json"})
    with urllib.request.urlopen(plain, timeout=10) as response:
        assert json.loads(response.read())["kind"] == "APIGroupList"


def test_kubectl_get_crds_lists_the_custom_kinds(cluster: Cluster) -> None:
    listed = kubectl(cluster, "get", "crds")
    assert listed.returncode == 0, listed.stderr
    assert "kustomizations.kustomize.toolkit.fluxcd.io" in listed.stdout and "backups.velero.io" in listed.stdout
    assert "deployments.apps" not in listed.stdout
    crd = json.loads(kubectl(cluster, "get", "crd", "gitrepositories.source.toolkit.fluxcd.io", "-o", "json").stdout)
    assert [c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]] == [
        "URL", "Age", "Ready", "Status"]
    waited = kubectl(cluster, "wait", "--for=condition=Established", "crd/helmreleases.helm.toolkit.fluxcd.io",
                     "--timeout=10s")
    assert waited.returncode == 0, waited.stderr


def test_kubectl_auth_can_i(cluster: Cluster) -> None:
    allowed = kubectl(cluster, "auth", "can-i", "delete", "pods", "-n", "media")
    assert allowed.returncode == 0 and allowed.stdout.strip() == "yes"
    denied = kubectl(cluster, "auth", "can-i", "delete", "pods", "-n", "media", "--as", "viewer")
    assert denied.returncode == 1 and denied.stdout.strip() == "no"
    reads = kubectl(cluster, "auth", "can-i", "list", "pods", "-n", "media", "--as", "viewer")
    assert reads.returncode == 0
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "patch", "resource": "deployments", "group": "apps"}}}
    request = urllib.request.Request(cluster.sim.server.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                     data=json.dumps(review).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer denied"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["status"]["allowed"] is False


def test_events_are_served_as_events_k8s_io_too(cluster: Cluster) -> None:
    cluster.sim.set_fault("nas-down", "on")
    kubectl(cluster, "rollout", "restart", "deployment/calibre-web", "-n", "media")
    waited = kubectl(cluster, "wait", "--for=jsonpath={.reason}=FailedMount", "events.v1.events.k8s.io", "-n",
                     "media", "--all", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    listed = json.loads(kubectl(cluster, "get", "events.v1.events.k8s.io", "-n", "media", "-o", "json").stdout)
    mount = next(e for e in listed["items"] if e["reason"] == "FailedMount")
    assert mount["apiVersion"] == "events.k8s.io/v1" and mount["regarding"]["kind"] == "Pod"
    assert "mount.nfs" in mount["note"] and "message" not in mount
    cluster.sim.set_fault("nas-down", "off")


def test_deployments_run_their_pods_through_replica_sets(cluster: Cluster) -> None:
    (first,) = _replica_sets(cluster, "tautulli")
    assert first["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    template_hash = first["metadata"]["labels"]["pod-template-hash"]
    (pod,) = cluster.kube.list("Pod", "media", labels=f"pod-template-hash={template_hash}")[0]
    assert pod["metadata"]["ownerReferences"][0] == {**pod["metadata"]["ownerReferences"][0], "kind": "ReplicaSet",
                                                     "name": first["metadata"]["name"]}
    restarted = kubectl(cluster, "rollout", "restart", "deployment/tautulli", "-n", "media")
    assert restarted.returncode == 0, restarted.stderr
    rolled = kubectl(cluster, "rollout", "status", "deployment/tautulli", "-n", "media", "--timeout=30s")
    assert rolled.returncode == 0 and "successfully rolled out" in rolled.stdout
    waits.until(cluster.kube, "ReplicaSet", first["metadata"]["name"], "media",
                      lambda o: workloads.Verdict(done=(o or {}).get("status", {}).get("replicas") == 0), timeout=20)
    sets = {rs["metadata"]["name"]: rs for rs in _replica_sets(cluster, "tautulli")}
    assert len(sets) == 2 and sets[first["metadata"]["name"]]["spec"]["replicas"] == 0
    newest = next(rs for name, rs in sets.items() if name != first["metadata"]["name"])
    assert newest["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    history = kubectl(cluster, "rollout", "history", "deployment/tautulli", "-n", "media")
    assert history.returncode == 0 and "1 " in history.stdout and "2 " in history.stdout


def test_custom_resources_print_their_crd_columns(cluster: Cluster) -> None:
    cluster.kube.create("Backup", {"metadata": {"name": "manual"}, "spec": {"includedNamespaces": ["media"]}},
                        "velero")
    for resource, header in (("kustomizations", ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]),
                             ("helmreleases", ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]),
                             ("gitrepositories", ["NAMESPACE", "NAME", "URL", "AGE", "READY", "STATUS"]),
                             ("backups", ["NAMESPACE", "NAME", "AGE"])):
        listed = kubectl(cluster, "get", resource, "-A")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.splitlines()[0].split() == header, resource


def test_services_print_as_the_api_servers_printer_prints_them(cluster: Cluster) -> None:
    """kubectl get services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE (pkg/printers/internalversion/printers.go
    printService): an ExternalName's target as its external IP, ports as PORT/PROTOCOL."""
    cluster.kube.create("Service", {"metadata": {"name": "nas-web"}, "spec": {
        "type": "ExternalName", "externalName": "nas.internal.test", "ports": [{"port": 5000}]}}, "media")
    listed = kubectl(cluster, "get", "services", "-n", "media")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    (nas,) = [line.split() for line in lines if line.startswith("nas-web ")]
    assert nas[1:5] == ["ExternalName", "<none>", "nas.internal.test", "5000/TCP"]
