"""The kubelet with a NAS gone: unmounting NFS hangs, and a deleted pod stays Terminating."""

from __future__ import annotations

import sys
from pathlib import Path

from mediaops.cluster import waits, workloads
from tests.conftest import Cluster
from tests.contracts.conftest import kubectl

KUBECTL = str(Path(sys.executable).parent / "kubectl")


def _pods(cluster: Cluster) -> list[dict]:
    return cluster.kube.list("Pod", "media", labels="app.kubernetes.io/name=calibre-web")[0]


def test_pods_on_a_dead_nfs_mount_hang_in_terminating_until_the_nas_is_back(cluster: Cluster) -> None:
    (pod,) = _pods(cluster)
    cluster.sim.set_fault("nas-down", "on")
    workloads.scale(cluster.kube, "Deployment", "calibre-web", "media", 0)
    waits.until(cluster.kube, "Deployment", "calibre-web", "media",
                      lambda o: workloads.Verdict(done=(o or {}).get("status", {}).get("replicas") == 0), timeout=20)
    (stuck,) = _pods(cluster)  # still there, with a deletionTimestamp: what `kubectl get pods` shows Terminating
    assert stuck["metadata"]["name"] == pod["metadata"]["name"] and stuck["metadata"]["deletionTimestamp"]
    listed = kubectl(cluster, "get", "pods", "-n", "media")
    assert "Terminating" in listed.stdout
    cluster.sim.set_fault("nas-down", "off")
    waits.gone(cluster.kube, "Pod", pod["metadata"]["name"], "media", timeout=20)
    assert _pods(cluster) == []
