"""The API server's contracts the client relies on: a write may be committed before its answer is lost."""

from __future__ import annotations

import sys
from pathlib import Path

from mediaops.cluster.lock import Lock
from tests.conftest import Cluster
from tests.contracts.conftest import kubectl

KUBECTL = str(Path(sys.executable).parent / "kubectl")


def test_a_write_committed_before_a_500_is_not_sent_again(cluster: Cluster) -> None:
    """A 5xx can come after the write was committed: the client re-reads before retrying, so a create does
    not meet itself as a 409 ("lock taken by someone else just now") and a patch is not applied twice."""
    cluster.sim.set_fault("api-errors-after-write", "1")  # every write is committed, then answered 500
    Lock(cluster.kube, "media").acquire("mediaops-restart-tautulli", "run-a")
    lease = cluster.kube.get("Lease", "mediaops-restart-tautulli", "media")
    assert lease["metadata"]["annotations"]["mediaops.io/run-id"] == "run-a"
    patched = cluster.kube.patch("Deployment", "tautulli", {"metadata": {"annotations": {"x": "1"}}}, "media")
    assert patched["metadata"]["annotations"]["x"] == "1"
    cluster.kube.delete("Lease", "mediaops-restart-tautulli", "media")
    assert cluster.kube.find("Lease", "mediaops-restart-tautulli", "media") is None


def test_injected_errors_are_well_formed_and_never_block_the_controls(cluster: Cluster, tmp_path: Path) -> None:
    cluster.sim.set_fault("api-errors", "1")
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: media\ndata:\n  a: b\n")
    result = kubectl(cluster, "apply", "-f", str(manifest))
    assert result.returncode != 0
    assert "Bad request syntax" not in result.stderr and "an error on the server" in result.stderr
    answer = cluster.sim.server.faults  # the control endpoint is not faulted: it can switch the fault off
    import json
    import urllib.request

    request = urllib.request.Request(cluster.sim.server.url + "/rehearsal/fault", method="POST",
                                     data=json.dumps({"name": "api-errors", "value": "off"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert answer.error_rate == 0
