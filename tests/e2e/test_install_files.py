"""Repositories that name each app's Flux Kustomization file otherwise than ks.yaml (ahinko/home-ops:
`kubernetes/apps/media/plex/install.yaml`, listed in the namespace's kustomization.yaml, commented out when the app
is disabled): the inventory reads both states, and activation and deactivation list and unlist that file, never
renaming it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Mediaops, clean_env, make_home_ops

MEDIA = Path("kubernetes/apps/media")


def _install_files(work: Path) -> None:
    ns_file = work / MEDIA / "kustomization.yaml"
    (work / MEDIA / "tautulli/ks.yaml").rename(work / MEDIA / "tautulli/install.yaml")
    (work / MEDIA / "plex-exporter/ks.dis").rename(work / MEDIA / "plex-exporter/install.yaml")
    ns_file.write_text(ns_file.read_text().replace("  - ./tautulli/ks.yaml\n", "  - ./tautulli/install.yaml\n"
                                                                               "  #- ./plex-exporter/install.yaml\n"))


def _diff(ops: Mediaops, *args: str) -> str:
    result = ops.run("run", *args, "--dry-run", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    return "".join(e.get("diff") or "" for e in map(json.loads, result.stdout.splitlines())
                   if e["event"] == "step_plan")


def test_an_install_file_is_listed_and_unlisted_never_renamed(tmp_path: Path) -> None:
    home_ops = make_home_ops(tmp_path, prepare=_install_files)
    ops = Mediaops(clean_env(tmp_path), home_ops.path, tmp_path / "state")
    apps = {a["name"]: a for a in json.loads(ops.run("apps", "--json").stdout)}
    assert (apps["tautulli"]["state"], apps["tautulli"]["ks_file"]) == ("active", str(MEDIA / "tautulli/install.yaml"))
    assert (apps["plex-exporter"]["state"], apps["plex-exporter"]["ks_file"]) == (
        "disabled", str(MEDIA / "plex-exporter/install.yaml"))
    assert ops.run("apps", "--check").returncode == 0
    unlisted = _diff(ops, "deactivate", "tautulli")
    assert "-  - ./tautulli/install.yaml\n" in unlisted and "tautulli/ks.dis" not in unlisted  # no rename
    listed = _diff(ops, "activate", "plex-exporter")
    assert "-  #- ./plex-exporter/install.yaml\n+  - ./plex-exporter/install.yaml\n" in listed
    assert "plex-exporter/ks.yaml" not in listed
