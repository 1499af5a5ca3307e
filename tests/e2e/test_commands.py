"""The command shown is the command run: written from the objects the step acts on, never with a
`<placeholder>`, and (for kubectl) pasted into a shell it does what the step does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, kubectl

PLACEHOLDER = re.compile(r"<[a-z_ ]+>|\{[a-z_]+\}")
RUNS = [["activate", "plex-exporter"], ["deactivate", "tautulli"], ["nfs-outage", "--planned"],
        ["backup-before-upgrade", "tautulli", "--chart-version", "3.7.2"], ["reconcile", "tautulli", "--force"],
        ["restart", "tautulli", "--force"], ["trakt-reauth", "--force"]]


def _plans(ops: Mediaops, *args: str) -> dict[str, str]:
    result = ops.run("run", *args, "--dry-run", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return {e["title"]: e.get("command") or "" for e in events if e["event"] == "step_plan"}


def test_no_preview_has_a_placeholder(sim: Mediaops, home_ops: HomeOps) -> None:
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    for args in RUNS:
        for title, command in _plans(sim, *args).items():
            literal = command.replace("nfs: {}", "").replace("%{http_code}", "")  # a YAML map, a curl format
            assert not PLACEHOLDER.search(literal), (args[0], title, command)


def _paste(ops: Mediaops, command: str) -> None:
    env = {**ops.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{ops.env.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (command, result.stderr)


def _deployment(ops: Mediaops) -> dict:
    return json.loads(kubectl(ops, "get", "deployment", "calibre-web", "-n", "media", "-o", "json").stdout)


@pytest.mark.parametrize("by", ["the step", "the pasted command"])
def test_the_scale_down_and_back_pasted_do_what_the_steps_do(sim: Mediaops, home_ops: HomeOps,
                                                             by: str) -> None:
    """nfs-outage's scale-down, then its scale-back, done by the run or by pasting what its preview showed:
    the same replicas and annotations at each point."""
    plans = _plans(sim, "nfs-outage", "--planned")
    down = plans["Scale their workloads to 0, remembering the replicas"]
    back = plans["Scale back to the remembered replicas"]
    run_id = re.search(r"scaled-by=(\S+)", down).group(1)  # type: ignore[union-attr]
    if by == "the step":
        from mediaops.cluster import workloads
        from mediaops.cluster.client import Kube

        kube = Kube(sim.env["KUBECONFIG"])
        workloads.scale(kube, "Deployment", "calibre-web", "media", 0, note=run_id)
    else:
        _paste(sim, down)
    after_down = _deployment(sim)
    assert after_down["spec"]["replicas"] == 0
    assert after_down["metadata"]["annotations"]["mediaops.io/previous-replicas"] == "1"
    assert after_down["metadata"]["annotations"]["mediaops.io/scaled-by"] == run_id
    if by == "the step":
        workloads.scale(kube, "Deployment", "calibre-web", "media", 1)
    else:
        _paste(sim, back)
    after_back = _deployment(sim)
    assert after_back["spec"]["replicas"] == 1
    assert not {"mediaops.io/previous-replicas", "mediaops.io/scaled-by"} & set(
        after_back["metadata"].get("annotations") or {})


def test_the_restart_and_waits_pasted_run_against_the_cluster(sim: Mediaops, home_ops: HomeOps) -> None:
    plans = _plans(sim, "restart", "tautulli", "--force")
    before = _get_template_annotations(sim)
    for command in plans.values():
        _paste(sim, command)
    assert _get_template_annotations(sim) != before  # restarted: a new restartedAt
    waits = _plans(sim, "activate", "plex-exporter")
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    _paste(sim, waits["Wait until the app's Kustomization exists and is Ready"])
    _paste(sim, waits["Wait until its HelmRelease is Ready"])


def _get_template_annotations(ops: Mediaops) -> dict:
    obj = json.loads(kubectl(ops, "get", "deployment", "tautulli", "-n", "media", "-o", "json").stdout)
    return dict(obj["spec"]["template"]["metadata"].get("annotations") or {})


@pytest.mark.parametrize(("args", "title"), [
    (["activate", "plex-exporter"], "Commit the activation"),
    (["backup-before-upgrade", "tautulli", "--image-tag", "2.15.2"], "Commit the upgrade")],
    ids=["activate", "upgrade"])
def test_the_commit_pasted_makes_the_commit_the_step_made(ops: Mediaops, home_ops: HomeOps, args: list[str],
                                                          title: str) -> None:
    """The commit made by the run, then undone in the index and made again by pasting the command the run
    showed: the same tree and the same message (the version and the Mediaops-Run trailer included)."""
    result = ops.run("--sim", "run", *args, "--no-push", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    shown = next(e["command"] for e in events if e["event"] == "step_plan" and e["title"] == title)
    made = home_ops.git("log", "-1", "--format=%T%n%B")
    home_ops.git("reset", "--quiet", "--mixed", "HEAD~1")
    _paste(ops, f"cd {home_ops.path} && {shown}")
    assert home_ops.git("log", "-1", "--format=%T%n%B") == made
