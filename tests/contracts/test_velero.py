"""Velero's contracts as its sources state them (vmware-tanzu/velero), exercised against the rehearsal.

Each test fails if mediaops's wrapper or the rehearsal goes back to a rule Velero does not follow: a backup
that holds volume data without file-system backup, a restore that overwrites what exists, phases that
skip the queue and the finaliser.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from mediaops.cluster import flux, velero, waits, workloads
from mediaops.cluster.kinds import kind
from mediaops.cluster.waits import Verdict, WaitFailed
from tests.conftest import Cluster

APP = "app.kubernetes.io/name=calibre-web"


def _files(cluster: Cluster, claim: str = "calibre-web-config") -> dict[str, bytes]:
    return dict(cluster.sim.volumes.get(("pvc", "media", claim), {}))


def _backup(cluster: Cluster, name: str, *, volumes: bool, selector: dict[str, str] | None = None) -> dict:
    velero.backup(cluster.kube, name, namespaces=["media"], selector=selector or {"app.kubernetes.io/name":
                                                                                 "calibre-web"}, volumes=volumes)
    return waits.until(cluster.kube, "Backup", name, velero.NAMESPACE,
                             lambda o: Verdict(done=((o or {}).get("status") or {}).get("phase") in
                                               velero.FAILED_PHASES | {"Completed"}), timeout=20)


def _phases(cluster: Cluster, kind: str, name: str, start: Any) -> list[str]:
    """Every phase the object went through, from a watch opened before it was created."""
    seen: list[str] = []
    _, rv = cluster.kube.list(kind, velero.NAMESPACE)
    done = threading.Event()

    def watch() -> None:
        for _, obj in cluster.kube.watch(kind, velero.NAMESPACE, name=name, since=rv, timeout=20):
            phase = (obj.get("status") or {}).get("phase")
            if phase and (not seen or seen[-1] != phase):
                seen.append(phase)
            if phase in velero.FAILED_PHASES | {"Completed"}:
                break
        done.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    start()
    done.wait(25)
    return seen


def test_without_file_system_backup_a_backup_holds_no_volume_data(cluster: Cluster) -> None:
    """pkg/util/podvolume/pod_volume.go GetVolumesByPod: with defaultVolumesToFsBackup off (Velero's default)
    only volumes a pod's backup.velero.io/backup-volumes annotation names are backed up; none is here."""
    backup = _backup(cluster, "objects-only", volumes=False)
    assert backup["status"]["phase"] == "Completed"
    assert velero.volume_backups(cluster.kube, "objects-only") == {}


def test_file_system_backup_takes_the_claims_of_running_pods_and_skips_nfs_by_policy(cluster: Cluster) -> None:
    """defaultVolumesToFsBackup takes every pod volume but secrets, config maps and the like; the
    resource policy's `nfs: {}` condition skips the NAS share (internal/resourcepolicies)."""
    backup = _backup(cluster, "with-data", volumes=True)
    assert backup["status"]["phase"] == "Completed"
    held = velero.volume_backups(cluster.kube, "with-data")
    assert sorted(held) == ["calibre-web-config"]
    items, _ = cluster.kube.list("PodVolumeBackup", velero.NAMESPACE, labels="velero.io/backup-name=with-data")
    volumes = sorted(i["spec"]["volume"] for i in items)
    assert "config" in volumes and "books" not in volumes  # emptyDirs are taken too; the NFS share is not
    plan = velero.volume_plan(cluster.kube, "media", APP)
    assert plan.claims == ["calibre-web-config"] and plan.problems() == []
    assert any(v.nfs.startswith("127.0.2.40:") for v in plan.volumes)


def test_a_stopped_pod_is_skipped_without_an_error(cluster: Cluster) -> None:
    """pkg/podvolume/backupper.go: a pod that is not running has its volumes skipped, and the backup is
    still Completed: mediaops must find this out before, from the plan."""
    workloads.scale(cluster.kube, "Deployment", "calibre-web", "media", 0)
    for pod in workloads.pods(cluster.kube, "media", "calibre-web"):
        waits.gone(cluster.kube, "Pod", pod["metadata"]["name"], "media", timeout=20)
    problems = velero.volume_plan(cluster.kube, "media", APP).problems()
    assert problems == [] or "no running pod" in problems[0]
    backup = _backup(cluster, "stopped", volumes=True)
    assert backup["status"]["phase"] == "Completed" and backup["status"].get("errors", 0) == 0
    assert velero.volume_backups(cluster.kube, "stopped") == {}


def test_no_node_agent_on_the_pods_node_is_an_error(cluster: Cluster) -> None:
    """pkg/nodeagent/node_agent.go IsRunningInNode: no running role=node-agent pod on the node is an error,
    so the backup ends PartiallyFailed; the plan says so beforehand."""
    cluster.sim.set_fault("node-agent-down", "on")
    assert "no running Velero node-agent pod" in velero.volume_plan(cluster.kube, "media", APP).problems()[0]
    backup = _backup(cluster, "no-agent", volumes=True)
    assert backup["status"]["phase"] == "PartiallyFailed" and backup["status"]["errors"] == 1


def test_backup_phases_go_through_the_queue_and_the_finaliser(cluster: Cluster) -> None:
    """backup_queue_controller.go (New → Queued → ReadyToStart), backup_controller.go (InProgress),
    backup_finalizer_controller.go (Finalizing → Completed)."""
    seen = _phases(cluster, "Backup", "phased", lambda: velero.backup(
        cluster.kube, "phased", namespaces=["media"], selector={"app.kubernetes.io/name": "tautulli"}))
    assert seen[-5:] == ["Queued", "ReadyToStart", "InProgress", "Finalizing", "Completed"]


def test_a_failed_plugin_operation_ends_partially_failed(cluster: Cluster) -> None:
    cluster.sim.set_fault("backup-partial", "on")
    seen = _phases(cluster, "Backup", "partial", lambda: velero.backup(
        cluster.kube, "partial", namespaces=["media"], selector={"app.kubernetes.io/name": "tautulli"}))
    assert seen[-3:] == ["WaitingForPluginOperationsPartiallyFailed", "FinalizingPartiallyFailed",
                         "PartiallyFailed"]
    with pytest.raises(WaitFailed, match="ended PartiallyFailed"):
        velero.wait(cluster.kube, "Backup", "partial", timeout=10)
    assert velero.wait(cluster.kube, "Backup", "partial", accept_partial=True, timeout=10).phase == "PartiallyFailed"


def test_a_backup_being_deleted_fails_the_wait_at_once(cluster: Cluster) -> None:
    _backup(cluster, "going", volumes=False)
    cluster.sim.store.update(kind("Backup"), velero.NAMESPACE, "going",
                             lambda o: o["status"].update(phase="Deleting"), subresource="status")
    with pytest.raises(WaitFailed, match="being deleted"):
        velero.wait(cluster.kube, "Backup", "going", timeout=30)


def test_a_restore_onto_the_running_app_brings_back_nothing(cluster: Cluster) -> None:
    """pkg/restore/restore.go restoreItem: what exists and differs is skipped with a warning; a claim's data is
    never written over. This is why `velero restore create --from-backup` alone is no way back."""
    before = _files(cluster)
    _backup(cluster, "before", volumes=True)
    cluster.sim.volumes[("pvc", "media", "calibre-web-config")] = {"app.db": b"migrated"}
    workloads.restart(cluster.kube, "Deployment", "calibre-web", "media")  # the spec differs from the backup
    cluster.kube.create("Restore", {"metadata": {"name": "plain", "namespace": velero.NAMESPACE},
                                    "spec": {"backupName": "before"}}, velero.NAMESPACE)
    outcome = velero.wait(cluster.kube, "Restore", "plain", timeout=20)
    assert outcome.phase == "Completed" and outcome.warnings >= 1
    assert _files(cluster) == {"app.db": b"migrated"} != before
    assert velero.volume_restores(cluster.kube, "plain") == {}


def test_a_restore_after_the_claim_is_deleted_brings_its_data_back(cluster: Cluster) -> None:
    before = _files(cluster)
    _backup(cluster, "good", volumes=True)
    cluster.sim.volumes[("pvc", "media", "calibre-web-config")] = {"app.db": b"migrated"}
    # Flux held off first: kustomize-controller would apply the deleted claim again (an empty one).
    flux.suspend(cluster.kube, "Kustomization", "calibre-web", "media")
    flux.suspend(cluster.kube, "HelmRelease", "calibre-web", "media")
    for item in workloads.workloads(cluster.kube, "media", "calibre-web"):
        cluster.kube.patch(item["kind"], item["metadata"]["name"], {"spec": {"replicas": 0}}, "media", sub="scale")
    for pod in workloads.pods(cluster.kube, "media", "calibre-web"):
        waits.gone(cluster.kube, "Pod", pod["metadata"]["name"], "media", timeout=20)
    cluster.kube.delete("PersistentVolumeClaim", "calibre-web-config", "media")
    waits.gone(cluster.kube, "PersistentVolumeClaim", "calibre-web-config", "media", timeout=20)
    assert _files(cluster) == {}  # reclaim policy Delete: the data went with the claim
    velero.restore(cluster.kube, "good", "good-restore")
    outcome = velero.wait(cluster.kube, "Restore", "good-restore", timeout=20)
    assert outcome.phase == "Completed"
    assert sorted(velero.volume_restores(cluster.kube, "good-restore")) == ["calibre-web-config"]
    assert _files(cluster) == before
    claim = cluster.kube.get("PersistentVolumeClaim", "calibre-web-config", "media")
    assert claim["metadata"]["labels"]["velero.io/restore-name"] == "good-restore"
    deployment = cluster.kube.get("Deployment", "calibre-web", "media")  # existingResourcePolicy update
    assert deployment["spec"]["replicas"] == 1


def test_the_policy_command_shown_makes_the_configmap_the_backup_uses(cluster: Cluster) -> None:
    """The first half of the command the backup step shows, run with the real kubectl, writes the very
    ConfigMap mediaops writes (the velero half needs the velero binary, which the tests do not have)."""
    shown = velero.backup_command("b", namespaces=["media"])
    policy_part = shown.split(" && velero ")[0]
    result = subprocess.run(["bash", "-c", policy_part], env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig),
                                                              "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    made = cluster.kube.get("ConfigMap", velero.POLICY, velero.NAMESPACE)
    assert made["data"] == {"policy.yaml": velero.POLICY_YAML}


def test_the_velero_chart_renders_its_locations_schedules_and_node_agent_from_values() -> None:
    """vmware-tanzu/helm-charts charts/velero: a BackupStorageLocation per configuration.backupStorageLocation entry
    (named default unless named, config values quoted), a Schedule <fullname>-<key> per schedules entry that is not
    disabled, the node-agent DaemonSet only with deployNodeAgent, and its CRDs (crds/)."""
    from mediaops.sim.charts import render

    values = {"deployNodeAgent": True, "image": {"repository": "velero/velero", "tag": "v1.17.0"},
              "configuration": {"backupStorageLocation": [
                  {"provider": "aws", "bucket": "velero", "default": True, "config": {"s3ForcePathStyle": True}},
                  {"name": "offsite", "provider": "aws", "bucket": "far", "prefix": "home"}]},
              "schedules": {"daily": {"schedule": "0 3 * * *", "template": {"includedNamespaces": ["media"]}},
                            "off": {"disabled": True, "schedule": "@hourly"}}}
    objects = render("velero", "velero", "velero", values)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    assert {c["metadata"]["name"] for c in by_kind["CustomResourceDefinition"]} >= {
        "backups.velero.io", "restores.velero.io", "backupstoragelocations.velero.io", "schedules.velero.io",
        "podvolumebackups.velero.io"}
    default, offsite = by_kind["BackupStorageLocation"]
    assert default["metadata"] == {"name": "default", "namespace": "velero", "labels": default["metadata"]["labels"]}
    assert default["spec"] == {"provider": "aws", "accessMode": "ReadWrite", "default": True,
                               "objectStorage": {"bucket": "velero"}, "config": {"s3ForcePathStyle": "True"}}
    assert offsite["metadata"]["name"] == "offsite" and offsite["spec"]["objectStorage"] == {"bucket": "far",
                                                                                            "prefix": "home"}
    assert [(s["metadata"]["name"], s["spec"]) for s in by_kind["Schedule"]] == [
        ("velero-daily", {"schedule": "0 3 * * *", "template": {"includedNamespaces": ["media"]}})]
    agent, = by_kind["DaemonSet"]
    assert agent["metadata"]["name"] == "node-agent"
    assert agent["spec"]["template"]["metadata"]["labels"]["role"] == "node-agent"
    # fullname: the release's name when it holds the chart's, else <release>-velero; no node agent unless asked
    other = render("backups", "storage", "velero", {"schedules": {"daily": {"schedule": "@daily"}}})
    assert [o["metadata"]["name"] for o in other if o["kind"] == "Schedule"] == ["backups-velero-daily"]
    assert not [o for o in other if o["kind"] == "DaemonSet"]
    unset, = [o for o in other if o["kind"] == "BackupStorageLocation"]  # the chart's default: nothing to reach
    assert unset["metadata"]["name"] == "default" and unset["spec"]["objectStorage"] == {"bucket": ""}


def test_the_sample_installs_velero_and_a_location_without_a_bucket_is_unavailable(cluster: Cluster) -> None:
    """Velero is on the cluster because the repository's HelmRelease installs it: the server validates its
    location (Available), a node-agent pod runs on each node, and a location without a bucket is Unavailable,
    which stops a backup through Velero before it starts."""
    location = velero.default_location(cluster.kube)
    assert location is not None and location["status"]["phase"] == "Available"
    assert velero.server_namespace(cluster.kube) == "velero"
    agents, _ = cluster.kube.list("Pod", velero.NAMESPACE, labels="role=node-agent")
    assert sorted(p["spec"]["nodeName"] for p in agents) == ["node-amd64-1", "node-arm64-1"]
    release = cluster.kube.find("BackupStorageLocation", "default", velero.NAMESPACE)
    assert release["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "velero"
    cluster.kube.patch("BackupStorageLocation", "default", {"spec": {"objectStorage": {"bucket": ""}}},
                       velero.NAMESPACE)
    waits.until(cluster.kube, "BackupStorageLocation", "default", velero.NAMESPACE,
                lambda o: Verdict(done=((o or {}).get("status") or {}).get("phase") == "Unavailable"), timeout=20)
    from mediaops.cluster.backups import NoBackupSystem, choose

    with pytest.raises(NoBackupSystem, match="Velero's BackupStorageLocation velero/default is Unavailable"):
        choose(cluster.kube, "media", "velero", ["calibre-web-config"])
