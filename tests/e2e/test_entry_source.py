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


def test_the_undo_reconciles_it_and_says_so(sim: Mediaops) -> None:
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    preview = sim.run("undo", "last", "--dry-run")
    said = " ".join(preview.stdout.split())
    assert preview.returncode == 0, preview.stdout[-3000:]
    assert ("git push && flux reconcile source git home-kubernetes -n flux-system && "
            "flux reconcile kustomization cluster-apps -n flux-system") in said
    undone = sim.run("undo", "last", "--yes")
    assert undone.returncode == 0 and "GitRepository flux-system/home-kubernetes to reconcile" in undone.stdout
    assert kubectl(sim, "get", "kustomization", "plex-exporter", "-n", "media").returncode != 0  # pruned


def test_a_preview_without_a_cluster_names_it_from_the_repository(ops: Mediaops) -> None:
    preview = ops.run("run", "activate", "plex-exporter", "--dry-run")
    said = " ".join(preview.stdout.split())
    assert preview.returncode == 0, preview.stdout[-3000:]
    assert "flux reconcile source git home-kubernetes -n flux-system" in said
    assert "source git flux-system" not in said


def test_status_names_it_when_a_push_is_not_applied_yet(sim: Mediaops, home_ops: HomeOps) -> None:
    (home_ops.path / "README.md").write_text("a note\n")
    home_ops.git("add", "README.md")
    home_ops.git("commit", "--quiet", "-m", "docs: a note")
    home_ops.git("push", "--quiet")
    table = sim.run("status")
    assert "(`flux reconcile source git home-kubernetes -n flux-system`)" in " ".join(table.stdout.split())


def test_a_rotation_previewed_without_a_cluster_names_it_too(ops: Mediaops, tmp_path: Path) -> None:
    from tests.e2e.runbooks.test_plex_token import TOKEN, _with_sops

    _with_sops(ops, tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    preview = ops.run("run", "rotate-plex-token", "--token-file", str(token_file), "--dry-run")
    said = " ".join(preview.stdout.split())
    assert preview.returncode == 0, preview.stdout[-3000:]
    assert ("flux reconcile source git home-kubernetes -n flux-system flux reconcile kustomization cluster-apps -n "
            "flux-system flux reconcile kustomization plex-trakt-sync -n media") in said
    assert "source git flux-system" not in said and TOKEN not in preview.stdout
