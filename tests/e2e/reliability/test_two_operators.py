"""Two operators at once: runs on different apps are both allowed (one Lease per app) and neither waits out
the other's reconcile request; the one whose clone is behind keeps its commit when the push is rejected, is
told what to do, and resumes after `git pull --rebase`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import MEDIAOPS, HomeOps, Mediaops, git, read


def _ready(ops: Mediaops, kind: str, name: str) -> bool:
    obj = read(ops, "get", kind, name, "-n", "media", "-o", "json")
    return any(c["type"] == "Ready" and c["status"] == "True" for c in obj["status"]["conditions"])


def test_concurrent_runs_on_two_apps_do_not_wait_on_each_other(sim: Mediaops, home_ops: HomeOps) -> None:
    runs = [subprocess.Popen([MEDIAOPS, "run", *args, "--yes", "--json"], env=sim.env, cwd=home_ops.path,
                             stdout=subprocess.PIPE, text=True)
            for args in (["activate", "plex-exporter"], ["reconcile", "calibre-web"], ["reconcile", "tautulli"])]
    for run in runs:
        out, _ = run.communicate(timeout=180)
        events = [json.loads(line) for line in out.splitlines()]
        assert run.returncode == 0, events[-3:]
        assert events[-1]["duration"] < 60  # no one waited out a timeout because of another's request
    assert _ready(sim, "kustomization", "plex-exporter")


def test_a_push_rejected_by_a_newer_origin_keeps_the_commit_and_resumes(sim: Mediaops, home_ops: HomeOps,
                                                                         tmp_path: Path) -> None:
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "--quiet", str(home_ops.origin), str(bob))
    alice = sim.run("run", "activate", "plex-exporter", "--yes")
    assert alice.returncode == 0, alice.stdout[-2000:]
    late = sim.run("--repo", str(bob), "run", "backup-before-upgrade", "tautulli", "--image-tag", "2.15.2", "--yes")
    assert late.returncode == 1
    flat = " ".join(late.stdout.split())
    assert "was rejected" in flat and "git pull --rebase origin main" in flat
    assert git(bob, "log", "-1", "--format=%s") == "feat(media): upgrade tautulli (image 2.15.2)"  # kept
    (run_id,) = [r for r, events in sim.journals().items() if "backup-before-upgrade" in r]
    git(bob, "pull", "--quiet", "--rebase", "origin", "main")
    resumed = sim.run("--repo", str(bob), "resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    log = home_ops.origin_log()
    assert log[0] == "feat(media): upgrade tautulli (image 2.15.2)" and log[1].startswith("feat(media): activate")
    deployment = read(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert "ghcr.io/onedr0p/tautulli:2.15.2" in images
