"""The client layer and its wrappers against the rehearsal cluster, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from mediaops.cluster import externalsecrets, flux, velero, waits, workloads
from mediaops.cluster.client import Kube, KubeError, NotFound, condition
from mediaops.cluster.lock import Lock, LockHeld
from mediaops.cluster.waits import WaitFailed
from tests.conftest import Cluster, Recorder

MEDIA = "kubernetes/apps/media"


def _activate(path: Path, app: str) -> None:
    (path / MEDIA / app / "ks.dis").rename(path / MEDIA / app / "ks.yaml")
    ns_file = path / MEDIA / "kustomization.yaml"
    ns_file.write_text(ns_file.read_text().replace("  - ./tautulli/ks.yaml\n",
                                                   f"  - ./tautulli/ks.yaml\n  - ./{app}/ks.yaml\n"))


# -- Flux --------------------------------------------------------------------------------------------------
def test_reconcile_with_source_picks_up_a_pushed_commit(cluster: Cluster) -> None:
    sha = cluster.push("chore: touch", lambda p: (p / "README.md").write_text("touched\n"))
    recorder = Recorder()
    state = flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", with_source=True, timeout=30,
                           waiting=recorder)
    assert state.ready == "True" and state.revision == f"main@sha1:{sha}"
    repo = cluster.kube.get("GitRepository", "flux-system", "flux-system")
    assert repo["status"]["artifact"]["revision"] == f"main@sha1:{sha}"
    assert flux.command("Kustomization", "tautulli", "media", with_source=True) == \
        "flux reconcile kustomization tautulli -n media --with-source"


def test_cluster_apps_creates_only_listed_app_kustomizations(cluster: Cluster) -> None:
    def rename_only(path: Path) -> None:
        (path / MEDIA / "plex-exporter" / "ks.dis").rename(path / MEDIA / "plex-exporter" / "ks.yaml")

    cluster.push("feat: rename only", rename_only)
    flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)
    assert cluster.kube.find("Kustomization", "plex-exporter", "media") is None

    def list_it(path: Path) -> None:
        ns_file = path / MEDIA / "kustomization.yaml"
        ns_file.write_text(ns_file.read_text().replace("  - ./mediabox/ks.yaml\n",
                                                       "  - ./mediabox/ks.yaml\n  - ./plex-exporter/ks.yaml\n"))

    cluster.push("feat: list it", list_it)
    flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)
    waits.until(cluster.kube, "Kustomization", "plex-exporter", "media", flux.ready(), timeout=30)
    release = waits.until(cluster.kube, "HelmRelease", "plex-exporter", "media", flux.ready(), timeout=30)
    assert release["status"]["history"][0]["chartVersion"] == "3.7.3"
    secret = cluster.kube.get("Secret", "plex-exporter", "media")  # made by the ExternalSecret
    assert set(secret["data"]) == {"PLEX_TOKEN", "PLEX_SERVER"}
    (pod,) = workloads.pods(cluster.kube, "media", "plex-exporter")
    assert pod["spec"]["nodeName"] == "node-amd64-1"  # its nodeSelector wants amd64


def test_a_failing_reconcile_is_reported_with_its_message(cluster: Cluster) -> None:
    cluster.sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=health check failed: boom")
    with pytest.raises(WaitFailed, match="ReconciliationFailed: health check failed: boom"):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=600)
    cluster.sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=off")
    assert flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30).ready == "True"


def test_unknown_chart_version_fails_with_fluxs_message(cluster: Cluster) -> None:
    def bump(path: Path) -> None:
        release = path / MEDIA / "tautulli" / "app" / "helmrelease.yaml"
        release.write_text(release.read_text().replace("version: 3.7.3", "version: 9.9.9"))

    cluster.push("chore: bad chart", bump)
    flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)
    with pytest.raises(WaitFailed, match=r"no 'app-template' chart with version matching '9\.9\.9' found"):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30)


def _condition(type_: str, status: str) -> Any:
    """A wait condition: the object has the condition ``type_`` at ``status``."""
    return lambda o: waits.Verdict(done=any(c.get("type") == type_ and c.get("status") == status
                                            for c in (o or {}).get("status", {}).get("conditions") or []))


def _named_by(work: Path, variable: str) -> None:
    """tautulli's app applies one more object, a ConfigMap named by ``${variable}``."""
    app = work / MEDIA / "tautulli" / "app"
    (app / "certificate.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${{{variable}}}\ndata:\n  host: tautulli\n")
    listing = app / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./helmrelease.yaml\n",
                                                   "  - ./helmrelease.yaml\n  - ./certificate.yaml\n"))


def test_an_object_whose_name_renders_empty_fails_the_kustomization_with_fluxs_message(cluster: Cluster) -> None:
    """A variable no source defines renders empty (Flux's substitution without strict mode), and an object named by
    it has no name: the Kustomization fails saying so, with nothing of the build applied, and keeps failing so
    until the variable has a value (it did not stay on its previous condition)."""
    def unnamed(path: Path) -> None:
        app = path / MEDIA / "tautulli"
        _named_by(path, "TAUTULLI_DOMAIN")
        values = app / "app" / "values.yaml"
        values.write_text(values.read_text().replace("tag: 2.15.1", "tag: 2.15.3"))
        ks = app / "ks.yaml"
        ks.write_text(ks.read_text() + "  postBuild:\n    substitute:\n      TIMEZONE: Etc/UTC\n")

    cluster.push("feat(media): tautulli behind its own domain", unnamed)
    flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)
    with pytest.raises(WaitFailed, match=r"ReconciliationFailed: ConfigMap/media/ dry-run failed, error: resource "
                                         r"name may not be empty"):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30)
    values = cluster.kube.get("ConfigMap", "tautulli-values", "media")["data"]["values.yaml"]
    assert "2.15.1" in values and "2.15.3" not in values  # nothing of the failed build was applied
    assert cluster.sim.manager.errors == []


def test_a_controllers_apply_never_undoes_a_write_made_since_it_read(cluster: Cluster) -> None:
    """cluster-apps re-applies a child Kustomization from what it read; `flux resume` clears suspend in between.
    The apply merges with the resume's write (as server-side apply does on the server) instead of writing back the
    suspend it read, which left the resume waiting for a reconcile that never came."""
    from mediaops.cluster.kinds import kind

    ks = kind("Kustomization")
    flux.suspend(cluster.kube, "Kustomization", "tautulli", "media")
    read = cluster.sim.store.peek(ks, "media", "tautulli")  # what cluster-apps's apply read
    flux.unsuspend(cluster.kube, "Kustomization", "tautulli", "media")  # the operator's write, meanwhile
    spec = {k: v for k, v in read["spec"].items() if k != "suspend"}
    manifest = {"apiVersion": read["apiVersion"], "kind": "Kustomization",
                "metadata": {"name": "tautulli", "namespace": "media"}, "spec": {**spec, "interval": "2h"}}
    store, reads = cluster.sim.store, []

    def as_read(resource: Any, namespace: str, name: str) -> Any:
        if not reads and name == "tautulli":
            reads.append(name)
            return read
        return type(store).peek(store, resource, namespace, name)

    store.peek = as_read  # type: ignore[method-assign]
    try:
        written = cluster.sim.apply(ks, manifest)
    finally:
        del store.peek
    assert reads and not written["spec"].get("suspend") and written["spec"]["interval"] == "2h", written["spec"]
    assert not cluster.kube.get("Kustomization", "tautulli", "media")["spec"].get("suspend")


def _push_tautulli_values(cluster: Cluster, message: str, old: str, new: str) -> None:
    """Change tautulli's chart values (``old`` to ``new``), commit, push, and have Flux apply the commit."""

    def change(path: Path) -> None:
        values = path / MEDIA / "tautulli" / "app" / "values.yaml"
        values.write_text(values.read_text().replace(old, new))

    cluster.push(message, change)
    flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)


def test_a_kustomization_failing_on_a_rolled_back_release_says_what_the_upgrade_failed_on(cluster: Cluster) -> None:
    """After helm-controller's remediation the HelmRelease's Ready says only "Helm rollback … succeeded", and the
    Kustomization's health check quotes that; the failure itself is in Released, and mediaops adds it."""
    cluster.sim.set_fault("reconcile-fail", "HelmRelease/media/tautulli=upgrade failed: pre-upgrade hook")

    _push_tautulli_values(cluster, "feat(media): tautulli 2.15.3", "tag: 2.15.1", "tag: 2.15.3")
    waits.until(cluster.kube, "HelmRelease", "tautulli", "media", _condition("Remediated", "True"), timeout=30)
    with pytest.raises(WaitFailed) as failed:
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30)
    assert "Helm rollback to previous release" in failed.value.message
    assert "HelmRelease media/tautulli UpgradeFailed:" in failed.value.message
    assert failed.value.message.endswith("upgrade failed: pre-upgrade hook"), failed.value.message


def test_helmrelease_force_upgrades_again(cluster: Cluster) -> None:
    before = cluster.kube.get("HelmRelease", "tautulli", "media")["status"]["history"][0]["version"]
    flux.reconcile(cluster.kube, "HelmRelease", "tautulli", "media", force=True, timeout=30)
    after = cluster.kube.get("HelmRelease", "tautulli", "media")
    assert after["status"]["history"][0]["version"] == before + 1
    assert after["status"]["lastHandledForceAt"] == after["metadata"]["annotations"][flux.FORCE_AT]


def test_suspend_and_resume(cluster: Cluster) -> None:
    assert flux.suspend(cluster.kube, "Kustomization", "tautulli", "media") is False
    assert flux.status(cluster.kube, "Kustomization", "tautulli", "media").suspended
    with pytest.raises(flux.FluxError, match="is suspended"):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=5)
    assert flux.resume(cluster.kube, "Kustomization", "tautulli", "media", timeout=30).ready == "True"
    assert not flux.status(cluster.kube, "Kustomization", "tautulli", "media").suspended


# -- Velero ------------------------------------------------------------------------------------------------
def test_backup_completes_with_progress(cluster: Cluster) -> None:
    velero.backup(cluster.kube, "pre-tautulli-1", namespaces=["media"],
                  selector={"app.kubernetes.io/name": "tautulli"})
    recorder = Recorder()
    outcome = velero.wait(cluster.kube, "Backup", "pre-tautulli-1", timeout=30, waiting=recorder)
    assert outcome.phase == "Completed" and outcome.errors == 0 and outcome.items > 0
    totals = {total for _, _, total in recorder.updates if total}
    assert totals == {outcome.items}
    assert [b["metadata"]["name"] for b in cluster.kube.list("Backup", velero.NAMESPACE)[0]] == ["pre-tautulli-1"]
    velero.restore(cluster.kube, "pre-tautulli-1")
    assert velero.wait(cluster.kube, "Restore", "pre-tautulli-1-restore", timeout=30).phase == "Completed"


def test_partially_failed_backup_is_reported(cluster: Cluster) -> None:
    cluster.sim.set_fault("backup-partial", "on")
    velero.backup(cluster.kube, "pre-a", namespaces=["media"])
    with pytest.raises(WaitFailed, match=r"PartiallyFailed \(1 error\(s\), 2 warning\(s\)\)"):
        velero.wait(cluster.kube, "Backup", "pre-a", timeout=30)
    velero.backup(cluster.kube, "pre-b", namespaces=["media"])
    assert velero.wait(cluster.kube, "Backup", "pre-b", accept_partial=True, timeout=30).phase == "PartiallyFailed"


def test_backup_to_a_missing_location_fails_validation(cluster: Cluster) -> None:
    velero.backup(cluster.kube, "pre-c", namespaces=["media"], location="nowhere")
    with pytest.raises(WaitFailed, match=r'FailedValidation.*backupstoragelocations\.velero\.io "nowhere" not found'):
        velero.wait(cluster.kube, "Backup", "pre-c", timeout=30)


# -- workloads ---------------------------------------------------------------------------------------------
def test_scale_remembers_and_restart_replaces_pods(cluster: Cluster) -> None:
    kube = cluster.kube
    (deployment,) = workloads.workloads(kube, "media", "tautulli")
    assert workloads.scale(kube, "Deployment", "tautulli", "media", 0, note="run-1") == 1
    scaled = kube.get("Deployment", "tautulli", "media")
    assert workloads.remembered(scaled) == 1
    waits.until(kube, "Deployment", "tautulli", "media", workloads.rolled_out(), timeout=30)
    assert workloads.pods(kube, "media", "tautulli") == []
    workloads.scale(kube, "Deployment", "tautulli", "media", 1)
    assert workloads.remembered(kube.get("Deployment", "tautulli", "media")) is None
    workloads.wait_rollout(kube, "Deployment", "tautulli", "media", timeout=30)
    (first,) = workloads.pods(kube, "media", "tautulli")
    workloads.restart(kube, "Deployment", "tautulli", "media")
    workloads.wait_rollout(kube, "Deployment", "tautulli", "media", timeout=30)
    (second,) = workloads.pods(kube, "media", "tautulli")
    assert second["metadata"]["name"] != first["metadata"]["name"] and workloads.pod_ready(second)
    assert deployment["metadata"]["labels"]["app.kubernetes.io/name"] == "tautulli"
    assert workloads.pvc_phase(kube, "media", "tautulli-config") == "Bound"
    assert {"amd64", "arm64"} == {n["kubernetes.io/arch"] for n in workloads.node_labels(kube)}


def test_nas_down_shows_mount_failures(cluster: Cluster) -> None:
    kube = cluster.kube
    cluster.sim.set_fault("nas-down", "on")
    workloads.restart(kube, "Deployment", "calibre-web", "media")
    with pytest.raises(WaitFailed, match="timed out"):
        workloads.wait_rollout(kube, "Deployment", "calibre-web", "media", timeout=1)
    # the old pod cannot unmount: it hangs in Terminating; the new one cannot mount
    (pod,) = [p for p in workloads.pods(kube, "media", "calibre-web") if not p["metadata"].get("deletionTimestamp")]
    events = workloads.events(kube, "media", [pod["metadata"]["name"]])
    assert any(e["reason"] == "FailedMount" and "mount.nfs" in e["message"] for e in events)
    cluster.sim.set_fault("nas-down", "off")
    workloads.wait_rollout(kube, "Deployment", "calibre-web", "media", timeout=30)


def test_a_node_feature_rules_labels_let_a_pod_onto_a_node(cluster: Cluster) -> None:
    """node-feature-discovery's master labels the node that has the hardware a NodeFeatureRule matches (the
    rehearsal's amd64 node stands in): unprefixed names get feature.node.kubernetes.io/, kubernetes.io is denied;
    a pod whose nodeSelector needs the label is Pending (FailedScheduling) until then, as kashalls's acars was."""
    kube = cluster.kube
    kube.create("Deployment", {"metadata": {"name": "radio", "labels": {"app.kubernetes.io/name": "radio"}},
                               "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "radio"}},
                                        "template": {"metadata": {"labels": {"app.kubernetes.io/name": "radio"}},
                                                     "spec": {"nodeSelector": {
                                                         "rtlamr.feature.node.kubernetes.io/rtlamr": "true"},
                                                         "containers": [{"name": "app", "image": "radio:1"}]}}}},
                "media")

    def unschedulable(event: dict[str, Any]) -> bool:  # the Deployment's pod, once made, cannot be placed
        return event.get("reason") == "FailedScheduling" and event["involvedObject"]["name"].startswith("radio-")

    events, rv = kube.list("Event", "media")
    if not any(unschedulable(e) for e in events):
        assert any(unschedulable(e) for _, e in kube.watch("Event", "media", since=rv, timeout=20))
    rule = {"metadata": {"name": "rtlamr-device"}, "spec": {"rules": [{
        "name": "rtlamr", "matchFeatures": [{"feature": "usb.device"}],
        "labels": {"rtlamr.feature.node.kubernetes.io/rtlamr": "true", "usb-radio": "true",
                   "node-role.kubernetes.io/radio": "true"}}]}}
    kube.create("NodeFeatureRule", rule)
    workloads.wait_rollout(kube, "Deployment", "radio", "media", timeout=30)
    labels = kube.get("Node", "node-amd64-1")["metadata"]["labels"]
    assert labels["feature.node.kubernetes.io/usb-radio"] == "true" and "node-role.kubernetes.io/radio" not in labels
    (pod,) = workloads.pods(kube, "media", "radio")
    assert pod["spec"]["nodeName"] == "node-amd64-1"
    kube.delete("NodeFeatureRule", "rtlamr-device")
    waits.until(kube, "Node", "node-amd64-1", None, lambda o: workloads.Verdict(
        done="rtlamr.feature.node.kubernetes.io/rtlamr" not in o["metadata"]["labels"]), timeout=20)


# -- External Secrets ----------------------------------------------------------------------------------------
def test_force_sync_waits_for_the_secret_to_change(cluster: Cluster) -> None:
    kube = cluster.kube
    kube.create("ExternalSecret", {"metadata": {"name": "plex-test", "namespace": "media"}, "spec": {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"},
        "target": {"name": "plex-test"}, "dataFrom": [{"extract": {"key": "plex-api"}}]}})
    waits.until(kube, "ExternalSecret", "plex-test", "media", externalsecrets.ready(), timeout=30)
    cluster.sim.vault["plex-api"]["PLEX_TOKEN"] = "rotated-token-0002"
    before = externalsecrets.secret_version(kube, "plex-test", "media")
    assert externalsecrets.force_sync(kube, "plex-test", "media", timeout=30) == "plex-test"
    assert externalsecrets.secret_version(kube, "plex-test", "media") != before


def _owner_settings(work: Path) -> None:
    """As rwlove/home-ops keeps its cluster-secrets: an ExternalSecret extracting its owner's 1Password item (one
    the rehearsal's vault does not hold) into a Secret every Kustomization substitutes from (here an optional one
    cluster-apps hands down); an app names an object by a variable only that item defines."""
    media = work / "kubernetes" / "apps" / "media"
    calibre = media / "calibre-web" / "app"
    (calibre / "owner-settings.yaml").write_text(
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: owner-settings\nspec:\n"
        "  secretStoreRef:\n    kind: ClusterSecretStore\n    name: onepassword\n  target:\n"
        "    name: owner-settings\n  dataFrom:\n    - extract:\n        key: owner-homelab\n")
    listing = calibre / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./pvc.yaml\n", "  - ./pvc.yaml\n  - ./owner-settings.yaml\n"))
    _named_by(work, "OWNER_DOMAIN")
    entry = work / "kubernetes" / "flux" / "cluster" / "ks.yaml"  # cluster-apps hands its sources down
    entry.write_text(entry.read_text().replace(
        "                kind: ConfigMap\n                optional: true\n",
        "                kind: ConfigMap\n                optional: true\n              - name: owner-settings\n"
        "                kind: Secret\n                optional: true\n", 1))


def test_an_owners_item_extracted_into_a_substitution_source_holds_the_variables_the_apps_need(
        tmp_path: Path) -> None:
    """The keys of an item the vault does not hold are the owner's; extracted into a substitution source, the
    item gives the variables the repository's apps need and no file defines their placeholders (as a template's
    fields get theirs), so the apps that use them reconcile instead of failing on empty names."""
    from mediaops.cluster.kinds import kind
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing
    from tests.conftest import make_home_ops

    home_ops = make_home_ops(tmp_path, prepare=_owner_settings)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    try:
        sim.start(timeout=60)
        kube = Kube(str(sim.kubeconfig(tmp_path / "kubeconfig")), backoff=0.01)
        # tautulli fails on the empty name until calibre-web's ExternalSecret has made the Secret; Flux retries
        waits.until(kube, "ConfigMap", "rehearsal-owner-domain", "media",
                    lambda obj: waits.Verdict(done=obj is not None, status="not there yet"), timeout=30)
        secret = sim.store.get(kind("Secret"), "media", "owner-settings")
        assert set(secret["data"]) == {"OWNER_DOMAIN"}, secret["data"]
        assert flux.reconcile(kube, "Kustomization", "tautulli", "media", timeout=30).ready == "True"
    finally:
        sim.stop()
    assert sim.manager.errors == [], sim.manager.errors[:1]


def test_a_chart_value_of_the_wrong_type_fails_the_release_as_helm_does(cluster: Cluster) -> None:
    _push_tautulli_values(cluster, "fix(media): tautulli's port", "port: &port 8181",
                          "port: &port rehearsal-tautulli-port")
    # the values are a ConfigMap: the release takes them up on its own reconcile, after the Kustomization's apply
    waits.until(cluster.kube, "HelmRelease", "tautulli", "media", _condition("Released", "False"), timeout=30)
    with pytest.raises(WaitFailed, match=r"Helm upgrade failed for release media/tautulli with chart "
                                         r"app-template@3.7.3: unable to build kubernetes objects from release "
                                         r"manifest: error validating \"\": error validating data: "
                                         r"ValidationError\(Service.spec.ports\[0\].port\): invalid type for "
                                         r"io.k8s.api.core.v1.ServicePort.port: got \"string\", expected "
                                         r"\"integer\""):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30)


def test_a_route_of_a_kind_no_crd_defines_fails_the_release_as_helm_does(cluster: Cluster) -> None:
    """A typo in app-template's route ``kind``: the chart renders it at v1alpha2 (no v1 of it is served), and
    Helm cannot map it to a resource."""
    _push_tautulli_values(cluster, "feat(media): tautulli's route", "ingress:\n  app:\n",
                          "route:\n  app:\n    kind: HTTPRoutes\n    hostnames: [tautulli.example.test]\n"
                          "    parentRefs: [{name: internal}]\ningress:\n  app:\n")
    waits.until(cluster.kube, "HelmRelease", "tautulli", "media", _condition("Released", "False"), timeout=30)
    with pytest.raises(WaitFailed, match=r"resource mapping not found for name: \"tautulli\" namespace: \"media\" "
                                         r"from \"\": no matches for kind \"HTTPRoutes\" in version "
                                         r"\"gateway.networking.k8s.io/v1alpha2\""):
        flux.reconcile(cluster.kube, "Kustomization", "tautulli", "media", timeout=30)


def test_force_sync_reports_a_store_that_is_down(cluster: Cluster) -> None:
    kube = cluster.kube
    kube.create("ExternalSecret", {"metadata": {"name": "plex-down", "namespace": "media"}, "spec": {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"},
        "dataFrom": [{"extract": {"key": "plex-api"}}]}})
    waits.until(kube, "ExternalSecret", "plex-down", "media", externalsecrets.ready(), timeout=30)
    cluster.sim.set_fault("store-down", "on")
    with pytest.raises(WaitFailed, match=r"^ExternalSecret media/plex-down: .*ClusterSecretStore onepassword is not "
                                         r"ready"):  # at once, not a timeout's "timed out after …"
        externalsecrets.force_sync(kube, "plex-down", "media", timeout=30)



def test_force_sync_reports_a_store_that_went_down_after_it_was_checked(cluster: Cluster) -> None:
    """The store goes down between force_sync's look at it and its annotation, and the controller's failed
    attempt is already in the patch's answer: that is the failure, reported at once, not a wait to its timeout."""
    kube = cluster.kube
    kube.create("ExternalSecret", {"metadata": {"name": "plex-late", "namespace": "media"}, "spec": {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"},
        "dataFrom": [{"extract": {"key": "plex-api"}}]}})
    waits.until(kube, "ExternalSecret", "plex-late", "media", externalsecrets.ready(), timeout=30)

    class StoreGoesDown:
        """The cluster as force_sync sees it, the store failing just before its patch lands."""

        def __getattr__(self, name: str) -> Any:
            return getattr(kube, name)

        def patch(self, *args: Any, **kwargs: Any) -> Any:
            cluster.sim.set_fault("store-down", "on")
            kube.patch("ExternalSecret", "plex-late", {"metadata": {"annotations": {"touch": "1"}}}, "media")
            waits.until(kube, "ExternalSecret", "plex-late", "media",
                        lambda obj: waits.Verdict(done=(condition(obj) or {}).get("status") == "False"), timeout=30)
            return kube.patch(*args, **kwargs)

    with pytest.raises(WaitFailed, match=r"^ExternalSecret media/plex-late: SecretSyncedError: ClusterSecretStore "
                                         r"onepassword is not ready$"):
        externalsecrets.force_sync(StoreGoesDown(), "plex-late", "media", timeout=20)  # type: ignore[arg-type]


# -- the lock ------------------------------------------------------------------------------------------------
def test_lock_refuses_while_someone_else_holds_it(cluster: Cluster) -> None:
    lock = Lock(cluster.kube, "media")
    with lock.held("mediaops-restart-tautulli", "run-a"):
        lease = cluster.kube.get("Lease", "mediaops-restart-tautulli", "media")
        assert lease["spec"]["holderIdentity"].endswith("@" + __import__("socket").gethostname())
        with pytest.raises(LockHeld, match=r"held by .* \(run run-a"):
            Lock(cluster.kube, "media", patience=0).acquire("mediaops-restart-tautulli", "run-b")
    assert cluster.kube.find("Lease", "mediaops-restart-tautulli", "media") is None
    cluster.sim.set_fault("lease-held", "media/mediaops-nfs-outage-calibre-web")
    with pytest.raises(LockHeld, match=r"held by alice@laptop .*for 10 min"):
        lock.acquire("mediaops-nfs-outage-calibre-web", "run-c")


# -- the client layer under faults -----------------------------------------------------------------------
def test_transient_errors_are_retried(cluster: Cluster) -> None:
    cluster.sim.set_fault("api-errors", "0.5")
    for _ in range(10):
        assert cluster.kube.get("Kustomization", "tautulli", "media")["metadata"]["name"] == "tautulli"
    cluster.sim.set_fault("api-errors", "off")
    cluster.sim.set_fault("api-throttle", "0.5")
    for _ in range(3):
        cluster.kube.list("Pod", "media")
    cluster.sim.set_fault("api-throttle", "off")


def test_a_request_that_always_fails_gives_up_with_one_line(cluster: Cluster) -> None:
    cluster.sim.set_fault("api-errors", "1")
    with pytest.raises(KubeError, match=r"cannot get Kustomization media/tautulli: HTTP 500.*gave up after 6 attempts"):
        cluster.kube.get("Kustomization", "tautulli", "media")


def test_timeouts_are_retried(cluster: Cluster) -> None:
    impatient = Kube(str(cluster.kubeconfig), timeout=0.3, backoff=0.01)
    cluster.sim.server.faults.timeout_seconds = 1.0
    cluster.sim.set_fault("api-timeouts", "0.4")
    for _ in range(5):
        assert impatient.get("Deployment", "tautulli", "media")["kind"] == "Deployment"


def test_not_found_names_the_object(cluster: Cluster) -> None:
    with pytest.raises(NotFound, match="cannot get HelmRelease media/nope: not found"):
        cluster.kube.get("HelmRelease", "nope", "media")


def test_a_dropped_watch_is_resumed(cluster: Cluster) -> None:
    cluster.sim.set_fault("watch-drop", "on")
    cluster.sim.timing.pod_start = 0.5  # the rollout outlasts the first watch, whatever the machine's load
    workloads.restart(cluster.kube, "Deployment", "tautulli", "media")
    recorder = Recorder()
    workloads.wait_rollout(cluster.kube, "Deployment", "tautulli", "media", timeout=30, waiting=recorder)
    watches = [p for m, p in cluster.sim.server.requests if p.endswith("/deployments")]
    assert len(watches) >= 2  # the first watch was dropped and a new one opened


def test_conflicting_updates_are_read_again(cluster: Cluster) -> None:
    kube, calls = cluster.kube, []

    def change(obj: dict) -> None:
        calls.append(1)
        if len(calls) == 1:  # someone else writes between our read and our write
            kube.patch("Deployment", "tautulli", {"metadata": {"labels": {"other": "writer"}}}, "media")
        obj["metadata"].setdefault("annotations", {})["mediaops.io/note"] = "mine"

    updated = kube.update("Deployment", "tautulli", change, "media")
    assert len(calls) == 2
    assert updated["metadata"]["labels"]["other"] == "writer"
    assert updated["metadata"]["annotations"]["mediaops.io/note"] == "mine"


def test_forbidden_is_one_line(cluster: Cluster, tmp_path: Path) -> None:
    denied = tmp_path / "denied"
    denied.write_text(cluster.kubeconfig.read_text().replace("token: rehearsal", "token: denied"))
    with pytest.raises(KubeError, match=r"cannot patch Deployment media/tautulli: forbidden"):
        Kube(str(denied)).patch("Deployment", "tautulli", {"spec": {"replicas": 0}}, "media")


def test_wait_reacts_to_a_status_change(cluster: Cluster) -> None:
    from mediaops.cluster.kinds import kind
    from mediaops.cluster.waits import Verdict

    done = threading.Event()

    def flip() -> None:
        done.wait(5)
        cluster.sim.store.update(kind("Deployment"), "media", "tautulli",
                                 lambda o: o["metadata"].setdefault("annotations", {}).update(flipped="yes"))

    threading.Thread(target=flip, daemon=True).start()

    def flipped(obj: dict | None) -> Verdict:
        done.set()
        return Verdict(done=((obj or {}).get("metadata", {}).get("annotations") or {}).get("flipped") == "yes")

    assert waits.until(cluster.kube, "Deployment", "tautulli", "media", flipped, timeout=30)


def test_exec_through_the_api_and_logs(cluster: Cluster) -> None:
    from mediaops.cluster.client import exec_in, logs

    kube = cluster.kube
    (pod,) = workloads.pods(kube, "media", "tautulli")
    name = pod["metadata"]["name"]
    out, err, code = exec_in(kube, "media", name, ["cat", "/config/config.ini"], container="main")
    assert code == 0 and "[PMS]" in out and err == ""
    new = out.replace("pms_port = 32400", "pms_port = 32401")
    assert exec_in(kube, "media", name, ["tee", "/config/config.ini"], container="main", stdin=new.encode())[2] == 0
    workloads.restart(kube, "Deployment", "tautulli", "media")
    workloads.wait_rollout(kube, "Deployment", "tautulli", "media", timeout=30)
    (again,) = workloads.pods(kube, "media", "tautulli")
    out, _, _ = exec_in(kube, "media", again["metadata"]["name"], ["cat", "/config/config.ini"], container="main")
    assert "pms_port = 32401" in out  # the file lives on the PVC, not in the pod
    current = again["metadata"]["name"]
    assert exec_in(kube, "media", current, ["cat", "/nope"], container="main")[2] == 1
    assert exec_in(kube, "media", current, ["reboot"], container="main")[2] == 127
    assert "starting main (ghcr.io/onedr0p/tautulli:2.15.1)" in logs(kube, "media", again["metadata"]["name"],
                                                                     container="main")


def test_scaling_down_twice_keeps_the_count_first_remembered(cluster: Cluster) -> None:
    """A resumed or repeated scale-down never stores 0 over the count the app must come back to."""
    kube = cluster.kube
    kube.patch("Deployment", "tautulli", {"spec": {"replicas": 2}}, "media", sub="scale")
    assert workloads.scale(kube, "Deployment", "tautulli", "media", 0, note="run-a") == 2
    assert workloads.scale(kube, "Deployment", "tautulli", "media", 0, note="run-b") == 2  # not 0
    obj = kube.get("Deployment", "tautulli", "media")
    assert workloads.remembered(obj) == 2 and obj["spec"]["replicas"] == 0
    workloads.scale(kube, "Deployment", "tautulli", "media", 2)
    obj = kube.get("Deployment", "tautulli", "media")
    assert obj["spec"]["replicas"] == 2 and workloads.remembered(obj) is None


def test_a_controller_error_is_told_in_one_line() -> None:
    """`sim status` names the last controller error: which controller, which object, which exception."""
    from mediaops.sim.cluster import _error_line

    kept = ("helm-controller ('network', 'tailscale-operator'): Traceback (most recent call last):\n"
            '  File "mediaops/sim/manager.py", line 217, in _work\n    again = controller.reconcile(*key)\n'
            "AttributeError: 'str' object has no attribute 'items'\n")
    assert _error_line(kept) == ("helm-controller ('network', 'tailscale-operator'): "
                                 "AttributeError: 'str' object has no attribute 'items'")


def test_a_pod_deleted_while_the_kubelet_looks_at_it_ends_the_look(cluster: Cluster,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A ReplicaSet scaled down deletes a pod between the kubelet's read of it and its status update: the update's
    404 ends that reconcile, as the kubelet moves on, and is no controller error."""
    from mediaops.cluster.kinds import kind

    sim = cluster.sim
    (pod,) = [p for p in sim.store.scan(kind("Pod"), "media") if p["metadata"]["name"].startswith("tautulli-")]
    namespace, name = "media", pod["metadata"]["name"]
    found = sim.store.find

    def deleted_after_the_read(res: Any, ns: str, who: str) -> Any:
        seen = found(res, ns, who)
        if res.kind == "Pod" and who == name and seen is not None:
            sim.store.delete(res, ns, who)
            seen["metadata"]["annotations"].pop("mediaops.sim/started", None)  # it has a status to write
        return seen

    monkeypatch.setattr(sim.store, "find", deleted_after_the_read)
    assert sim.manager.controllers["pods"].reconcile(namespace, name) is None
    assert sim.store.peek(kind("Pod"), namespace, name) is None


def test_a_lease_time_is_read_as_the_api_server_writes_it() -> None:
    """A Lease's renewTime and acquireTime are MicroTimes (RFC 3339 with microseconds, `Z`); a Time has whole
    seconds; another client may write an offset. Anything else is no time at all."""
    from datetime import UTC, datetime

    from mediaops.cluster.lock import _parse

    assert _parse("2026-11-27T08:00:01.250000Z") == datetime(2026, 11, 27, 8, 0, 1, 250000, tzinfo=UTC)
    assert _parse("2026-11-27T08:00:01Z") == datetime(2026, 11, 27, 8, 0, 1, tzinfo=UTC)
    assert _parse("2026-11-27T09:00:01.5+01:00") == datetime(2026, 11, 27, 8, 0, 1, 500000, tzinfo=UTC)
    assert _parse("yesterday") is None and _parse("") is None and _parse(None) is None


def _depends_on_a_pruned_app(work: Path) -> None:
    """tautulli dependsOn a Kustomization no file defines any more (its app deactivated: tyriis/home-ops's
    recyclarr after radarr)."""
    ks = work / MEDIA / "tautulli" / "ks.yaml"
    ks.write_text(ks.read_text().replace("  dependsOn:\n",
                                         "  dependsOn:\n    - name: radarr\n      namespace: media\n"))


def test_a_dependency_that_does_not_exist_is_a_verdict_not_a_wait(tmp_path: Path) -> None:
    """Flux retries 'dependency … not found' for ever; the rehearsal's start does not wait for it to change, and
    names it among what is not Ready."""
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing
    from tests.conftest import make_home_ops

    home_ops = make_home_ops(tmp_path, prepare=_depends_on_a_pruned_app)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    try:
        sim.start(timeout=30)  # settles; before, it waited the whole timeout and failed
        (tautulli,) = [line for line in sim.not_ready() if line.startswith("media/tautulli ")]
        assert "media/radarr" in tautulli and "not found" in tautulli, tautulli
    finally:
        sim.stop()
