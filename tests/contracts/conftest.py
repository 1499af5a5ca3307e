"""Fixtures of the contract tests (tests/contracts/), and the helpers they use; the shared ones (the sample
repository, the rehearsal cluster) are in tests/conftest.py."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediaops.sim.overseerr import Overseerr
from tests.conftest import KUBECTL, Cluster, make_home_ops

MEDIA = Path("kubernetes") / "apps" / "media"


# -- a rehearsal with plex-trakt-sync active, one per module (test_check_faults.py) ------------------------------
def activate_trakt(work: Path) -> None:
    """plex-trakt-sync active, as `mediaops run activate plex-trakt-sync` leaves the repository."""
    (work / MEDIA / "plex-trakt-sync" / "ks.dis").rename(work / MEDIA / "plex-trakt-sync" / "ks.yaml")
    listing = work / MEDIA / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./tautulli/ks.yaml\n",
                                                   "  - ./tautulli/ks.yaml\n  - ./plex-trakt-sync/ks.yaml\n"))


class Rehearsed:
    def __init__(self, sim: Any, kubeconfig: Path) -> None:
        self.sim, self.kubeconfig = sim, kubeconfig

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return kubectl(self, *args)

    def json(self, *args: str) -> Any:
        result = self.kubectl(*args, "-o", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def pod(self, app: str) -> dict[str, Any]:
        items = self.json("get", "pod", "-n", "media", "-l", f"app.kubernetes.io/name={app}")["items"]
        running = [p for p in items if "job-name" not in p["metadata"].get("labels", {})]
        assert len(running) == 1, [p["metadata"]["name"] for p in items]
        return dict(running[0])


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsed]:
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    tmp = tmp_path_factory.mktemp("check-faults")
    home_ops = make_home_ops(tmp, prepare=activate_trakt)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    try:
        yield Rehearsed(sim, sim.kubeconfig(tmp / "kubeconfig"))
    finally:
        sim.stop()
        assert sim.manager.errors == [], sim.manager.errors[:1]


# -- the real kubectl against the `cluster` fixture's rehearsal (test_k8up_volsync.py) ----------------------------
def kubectl(cluster: Any, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """kubectl against this rehearsal, with a discovery cache of its own: the cache is kept by the server's
    address, and a later rehearsal on the same port may serve other kinds."""
    cache = Path(cluster.kubeconfig).parent / "kubectl-cache"
    return subprocess.run([KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(cache), *args],
                          input=input, capture_output=True, text=True, timeout=60)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def apply(cluster: Cluster, *objects: dict[str, Any]) -> None:
    ok(kubectl(cluster, "apply", "-f", "-", input="\n---\n".join(json.dumps(o) for o in objects)))


@pytest.fixture
def credentials(cluster: Cluster) -> Cluster:
    apply(cluster, {"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "k8up-credentials", "namespace": "media"},
                    "stringData": {"repo-password": "rehearsal"}})
    return cluster


@pytest.fixture
def volsync(cluster: Cluster) -> Iterator[Cluster]:
    gone = kubectl(cluster, "get", "replicationsources", "-n", "media")
    assert gone.returncode == 1 and 'the server doesn\'t have a resource type "replicationsources"' in gone.stderr
    cluster.sim.set_fault("volsync-installed", "on")
    apply(cluster, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "restic-tautulli", "namespace": "media"},
                    "stringData": {"RESTIC_REPOSITORY": "s3:http://127.0.2.40:9091/volsync/tautulli",
                                   "RESTIC_PASSWORD": "rehearsal"}})
    yield cluster
    cluster.sim.set_fault("volsync-installed", "off")
    assert kubectl(cluster, "get", "replicationsources", "-n", "media").returncode == 1


# -- the Overseerr API stand-in on its own (test_overseerr.py) ---------------------------------------------------
@pytest.fixture
def overseerr() -> Iterator[Overseerr]:
    served = Overseerr()
    served.start()
    try:
        yield served
    finally:
        served.stop()
