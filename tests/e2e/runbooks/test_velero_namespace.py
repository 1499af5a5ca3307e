"""Velero installed in a namespace of the repository's choosing (here `storage`, with K8up), not the velero CLI's
default: mediaops finds its server where its storage locations are, makes its Backups and the volume-policy
ConfigMap there, and the commands it shows carry `--namespace storage` (velero) and `-n storage` (kubectl)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, kubectl, make_home_ops, read


def _velero_in_storage(work: Path) -> None:
    apps = work / "kubernetes" / "apps"
    shutil.move(apps / "velero" / "velero", apps / "storage" / "velero")
    shutil.rmtree(apps / "velero")
    ks = apps / "storage" / "velero" / "ks.yaml"
    ks.write_text(ks.read_text().replace("namespace velero", "namespace storage")
                  .replace("./kubernetes/apps/velero/velero/app", "./kubernetes/apps/storage/velero/app"))
    listing = apps / "storage" / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./k8up/ks.yaml\n",
                                                   "  - ./k8up/ks.yaml\n  - ./velero/ks.yaml\n"))


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path, prepare=_velero_in_storage)


def test_velero_in_another_namespace_is_found_and_named_in_the_commands(sim: Mediaops, home_ops: HomeOps) -> None:
    locations = kubectl(sim, "get", "backupstoragelocations", "-A", "-o", "jsonpath={.items[*].metadata.namespace}")
    assert locations.stdout.split() == ["storage"], locations.stderr
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--backup-with",
                     "velero", "--yes")
    said = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout[-3000:]
    assert "kubectl create configmap mediaops-skip-nfs -n storage --from-literal" in said
    assert "--resource-policies-configmap mediaops-skip-nfs --ttl 720h --namespace storage --wait" in said
    backups = read(sim, "get", "backups.velero.io", "-n", "storage", "-o", "json")["items"]
    (backup,) = backups
    assert backup["metadata"]["name"].startswith("pre-tautulli-") and backup["status"]["phase"] == "Completed"
    assert kubectl(sim, "get", "configmap", "mediaops-skip-nfs", "-n", "storage").returncode == 0
    volumes = kubectl(sim, "get", "podvolumebackups.velero.io", "-n", "storage", "-o",
                       "jsonpath={.items[*].metadata.labels.velero\\.io/pvc-name}")
    assert volumes.stdout.split() == ["tautulli-config"], volumes.stderr
    assert "data of tautulli-config" in result.stdout
    assert home_ops.origin_log()[0] == "feat(media): upgrade tautulli (chart 3.7.2)"


def test_the_backup_check_reads_and_names_velero_where_it_is(sim: Mediaops, home_ops: HomeOps) -> None:
    """`check --only backups`: before any backup its command lists Velero's backups where they are; after one,
    the backup is found with its claim's data (its PodVolumeBackups read in the backup's namespace)."""
    before = sim.run("check", "tautulli", "--only", "backups", "--json")
    (found,) = json.loads(before.stdout)["results"]
    assert found["status"] == "fail" and found["command"] == "velero backup get --namespace storage", found
    made = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--backup-with",
                   "velero", "--yes")
    assert made.returncode == 0, made.stdout[-2000:]
    after = sim.run("check", "tautulli", "--only", "backups", "--json")
    (found,) = json.loads(after.stdout)["results"]
    assert found["status"] == "ok" and "data of tautulli-config" in found["message"], found
    assert found["command"] == "velero backup get --namespace storage"
