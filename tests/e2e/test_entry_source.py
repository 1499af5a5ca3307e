"""A repository whose entry follows a GitRepository not named flux-system, as a flux-operator FluxInstance names it
after its sync.name (kashalls/home-cluster: home-kubernetes). No flux-system GitRepository exists then: the runbooks
reconcile the one the entry follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, kubectl, make_home_ops


def _synced_as_home_kubernetes(work: Path) -> None:
    """Every Flux Kustomization's sourceRef (the entry's and the apps' ks.yaml and ks.dis) names home-kubernetes."""
    for path in [*work.glob("kubernetes/**/ks.yaml"), *work.glob("kubernetes/**/ks.dis")]:
        text = path.read_text()
        path.write_text(text.replace("    kind: GitRepository\n    name: flux-system\n",
                                     "    kind: GitRepository\n    name: home-kubernetes\n"))


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path, prepare=_synced_as_home_kubernetes)


def test_activation_reconciles_the_gitrepository_the_entry_follows(sim: Mediaops, home_ops: HomeOps) -> None:
    sources = kubectl(sim, "get", "gitrepositories", "-A", "-o", "name")
    assert sources.stdout.split() == ["gitrepository.source.toolkit.fluxcd.io/home-kubernetes"], sources.stderr
    activated = sim.run("run", "activate", "plex-exporter", "--yes")
    said = " ".join(activated.stdout.split())
    assert activated.returncode == 0, activated.stdout[-3000:]
    assert "flux reconcile source git home-kubernetes -n flux-system" in said
    assert "flux reconcile kustomization cluster-apps -n flux-system" in said
    ready = kubectl(sim, "get", "kustomization", "plex-exporter", "-n", "media", "-o",
                    "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
    assert ready.stdout == "True", ready.stderr
