"""A cluster that backs up with something mediaops does not drive: no Velero in the repository, VolSync installed
from the volsync-perfectra1n fork's chart, the app's claim backed up by a kopia ReplicationSource and scheduled by
kopiur. The rehearsal installs what the repository installs and nothing more, so the backup step fails here as it
would on that cluster."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KUBECTL, HomeOps, Mediaops, kubectl, make_home_ops

FORK = """\
---
apiVersion: v1
kind: Namespace
metadata:
  name: volsync-system
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: volsync
  namespace: volsync-system
spec:
  interval: 1h
  url: oci://ghcr.io/home-operations/charts-mirror/volsync-perfectra1n
  ref:
    tag: 0.18.5
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: volsync
  namespace: volsync-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: volsync
  values:
    fullnameOverride: volsync
    image:
      repository: ghcr.io/perfectra1n/volsync
      tag: v0.17.11
"""

KOPIA_SOURCE = """\
---
apiVersion: volsync.backube/v1alpha1
kind: ReplicationSource
metadata:
  name: tautulli
spec:
  sourcePVC: tautulli-config
  trigger:
    schedule: "0 * * * *"
  kopia:
    repository: tautulli-volsync-secret
    copyMethod: Snapshot
    compression: zstd-fastest
    retain:
      daily: 7
"""


KOPIUR_SCHEDULE = """\
---
apiVersion: kopiur.home-operations.com/v1alpha1
kind: SnapshotSchedule
metadata:
  name: tautulli
spec:
  policyRef:
    name: tautulli
  schedule:
    cron: H * * * *
"""


def _kopia_without_velero(work: Path) -> None:
    kubernetes = work / "kubernetes"
    shutil.rmtree(kubernetes / "apps" / "velero")
    (kubernetes / "flux" / "meta" / "repositories" / "helm" / "vmware-tanzu.yaml").unlink()
    meta = kubernetes / "flux" / "meta" / "kustomization.yaml"
    meta.write_text(meta.read_text().replace("  - ./repositories/helm/vmware-tanzu.yaml\n", ""))
    (kubernetes / "apps" / "volsync.yaml").write_text(FORK)
    app = kubernetes / "apps" / "media" / "tautulli" / "app"
    (app / "replicationsource.yaml").write_text(KOPIA_SOURCE)
    (app / "snapshotschedule.yaml").write_text(KOPIUR_SCHEDULE)  # and kopiur's, as bjw-s-labs/home-ops has them
    listing = app / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n"
                                                   "  - ./replicationsource.yaml\n  - ./snapshotschedule.yaml\n"))


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path, prepare=_kopia_without_velero)


def test_no_velero_and_kopia_sources_stop_the_backup_before_anything_changes(sim: Mediaops,
                                                                              home_ops: HomeOps) -> None:
    # What the repository installs is there: the fork's chart brought VolSync's CRDs, and the kopia source exists.
    assert kubectl(sim, "get", "crd", "replicationsources.volsync.backube").returncode == 0
    source = kubectl(sim, "get", "replicationsource", "tautulli", "-n", "media", "-o", "jsonpath={.spec.kopia}")
    assert source.returncode == 0 and "tautulli-volsync-secret" in source.stdout, source.stderr
    # What it does not install is not: Velero's API is not served, as on a cluster without Velero.
    velero = kubectl(sim, "get", "backups.velero.io", "-n", "velero")
    assert velero.returncode == 1 and "doesn't have a resource type" in velero.stderr, velero.stderr

    refused = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    said = " ".join(refused.stdout.split())
    assert refused.returncode == 3, refused.stdout[-2000:]
    assert "no backup system can back up media: Velero's storage location is missing" in said, said[-2000:]
    assert ("the ReplicationSource of tautulli-config uses kopia, and mediaops backs up and restores through "
            "restic sources only; media is backed up by kopiur (SnapshotSchedule tautulli), which mediaops does not "
            "drive") in said
    assert "back up with it by hand before going on" in said
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"
    assert home_ops.origin_log() == ["initial import"]

    asked = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--backup-with",
                    "velero", "--yes")
    assert asked.returncode == 3 and "Velero's BackupStorageLocation velero/default is missing" in " ".join(
        asked.stdout.split()), asked.stdout[-2000:]
    assert kubectl(sim, "get", "replicationsources", "-A", "-o", "name").stdout.split() == [
        "replicationsource.volsync.backube/tautulli"]
    # The backups check points at what the cluster has to look with, never at Velero's CLI (tyriis/home-ops):
    # the command it shows runs.
    (found,) = json.loads(sim.run("check", "tautulli", "--only", "backups", "--json").stdout)["results"]
    assert found["status"] == "fail" and found["command"].startswith("kubectl get "), found
    shown = subprocess.run(found["command"], shell=True, env={**sim.env, "PATH": f"{Path(KUBECTL).parent}:"
                                                                          f"{sim.env['PATH']}"},
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr


def test_deactivation_shows_and_fails_the_backup_no_system_can_take(sim: Mediaops, home_ops: HomeOps) -> None:
    """Deactivating deletes the app's claims: the backup step before it says, in its preview and when it runs,
    that no system can take the backup, and the run stops there, the app still active and nothing pushed."""
    preview = sim.run("run", "deactivate", "tautulli", "--dry-run")
    shown = " ".join(preview.stdout.split())
    assert preview.returncode == 0, preview.stdout[-2000:]
    assert "# the backup cannot be taken: no backup system can back up media" in shown, shown[-3000:]
    assert "velero backup create" not in shown
    failed = sim.run("run", "deactivate", "tautulli", "--yes")
    said = " ".join(failed.stdout.split())
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert ("failed: step 1 (Back up its volumes before the prune deletes them): no backup system can back up "
            "media") in said, said[-2000:]
    assert (home_ops.path / "kubernetes/apps/media/tautulli/ks.yaml").exists()
    assert home_ops.origin_log() == ["initial import"]
    assert kubectl(sim, "get", "kustomization", "tautulli", "-n", "media").returncode == 0


def test_a_restore_without_velero_looks_for_the_other_systems_backups(sim: Mediaops, home_ops: HomeOps) -> None:
    """Without Velero its kinds are not served (404): the restore's search for a backup goes on to K8up and VolSync
    and ends with one line saying none holds the data, instead of stopping on Velero's missing API."""
    refused = sim.run("run", "restore", "tautulli", "--yes")
    said = " ".join(refused.stdout.split())
    assert refused.returncode == 3, refused.stdout[-2000:]
    assert ("no Completed Velero backup nor K8up snapshot holds the data of tautulli-config, nor did a VolSync "
            "ReplicationSource sync it (those that do: none)") in said, said[-2000:]
    assert "the ReplicationSource of tautulli-config uses kopia" in said
    # kopiur schedules the app's snapshots here: the operator hears where the backups are, and how to list K8up's
    # (`snapshots` alone is kopiur's as much as K8up's plural)
    assert ("media is backed up by kopiur (SnapshotSchedule tautulli), which mediaops does not drive: restore with "
            "it by hand") in said
    assert "`kubectl get snapshots.k8up.io -n media`" in said
    assert home_ops.origin_log() == ["initial import"]
