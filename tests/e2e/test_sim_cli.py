"""The rehearsal cluster and the cluster commands through the installed CLI, and kubectl against it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, git, kubectl


def test_sim_status_in_process(ops: Mediaops) -> None:
    ops.env["MEDIAOPS_SIM_TIMING"] = "fast"
    result = ops.run("--sim", "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["app"]: r for r in json.loads(result.stdout)}
    assert rows["tautulli"]["kustomization"] == "Ready" and rows["tautulli"]["replicas"] == "1/1"
    assert rows["plex-exporter"]["kustomization"] == "absent"
    assert rows["calibre-web"]["chart"] == "3.7.3"


def test_kubectl_works_against_the_rehearsal(sim: Mediaops) -> None:
    listed = kubectl(sim, "get", "kustomizations", "-A")
    assert listed.returncode == 0, listed.stderr
    assert "cluster-apps" in listed.stdout and "Applied revision: main@sha1:" in listed.stdout
    waited = kubectl(sim, "wait", "--for=condition=Ready", "kustomization/tautulli", "-n", "media", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    rolled = kubectl(sim, "rollout", "status", "deployment/tautulli", "-n", "media", "--timeout=30s")
    assert rolled.returncode == 0 and "successfully rolled out" in rolled.stdout
    described = kubectl(sim, "describe", "helmrelease", "tautulli", "-n", "media")
    assert described.returncode == 0 and "Helm install succeeded" in described.stdout



def test_kubectl_apply_of_a_charts_crds_changes_the_crd_the_rehearsal_lists(sim: Mediaops, tmp_path: Path) -> None:
    """`kubectl apply -f` of a chart's CRDs (helm-controller's, as `flux install --export` gives them) on a kind the
    rehearsal serves: kubectl reads the CRD it lists, then patches it, and the change holds; the kind stays served."""
    listed = kubectl(sim, "get", "crd", "helmreleases.helm.toolkit.fluxcd.io", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    crd = json.loads(listed.stdout)
    for field in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        crd["metadata"].pop(field, None)
    crd.pop("status", None)
    crd["metadata"]["labels"] = {**(crd["metadata"].get("labels") or {}), "app.kubernetes.io/part-of": "flux"}
    manifest = tmp_path / "crds.yaml"
    manifest.write_text(json.dumps(crd))
    applied = kubectl(sim, "apply", "-f", str(manifest))
    assert applied.returncode == 0 and "configured" in applied.stdout, applied.stderr
    label = kubectl(sim, "get", "crd", "helmreleases.helm.toolkit.fluxcd.io", "-o",
                    "jsonpath={.metadata.labels.app\\.kubernetes\\.io/part-of}")
    assert label.returncode == 0 and label.stdout == "flux", label.stderr
    releases = kubectl(sim, "get", "helmreleases", "-n", "media", "-o", "name")
    assert releases.returncode == 0 and "helmrelease.helm.toolkit.fluxcd.io/tautulli" in releases.stdout.split()

def test_faults_toggle_on_a_running_rehearsal(sim: Mediaops) -> None:
    assert "nas-down: on" in sim.run("sim", "fault", "nas-down").stdout
    kubectl(sim, "rollout", "restart", "deployment/calibre-web", "-n", "media")
    events = kubectl(sim, "get", "events", "-n", "media", "-o", "json")
    waited = kubectl(sim, "wait", "--for=jsonpath={.reason}=FailedMount", "event", "-n", "media",
                     "--all", "--timeout=20s")
    assert events.returncode == 0 and waited.returncode == 0, waited.stderr
    status = json.loads(sim.run("status", "--json").stdout)
    assert {r["app"]: r for r in status}["calibre-web"]["replicas"] == "0/1"
    assert "nas-down: off" in sim.run("sim", "fault", "nas-down", "off").stdout
    bogus = sim.run("sim", "fault", "bogus")
    assert bogus.returncode == 2 and "unknown fault 'bogus'" in bogus.stderr


def test_status_flags_suspended_objects(sim: Mediaops) -> None:
    patched = kubectl(sim, "patch", "kustomization", "tautulli", "-n", "media", "--type=merge",
                      "-p", '{"spec":{"suspend":true}}')
    assert patched.returncode == 0, patched.stderr
    rows = {r["app"]: r for r in json.loads(sim.run("status", "--json").stdout)}
    assert rows["tautulli"]["suspended"] == ["Kustomization media/tautulli"] and rows["tautulli"]["alarming"]
    sim.env["COLUMNS"] = "80"
    table = sim.run("status")
    assert "Suspended" in table.stdout and "⚠ media/tautulli: suspended" in table.stdout
    header = table.stdout.splitlines()[1]  # under the context line; nothing cut at 80 columns
    assert header.split() == ["NAME", "NS", "STATUS", "READY", "REVISION", "AGE", "MESSAGE"]


def test_status_failed_shows_only_what_needs_a_look_and_exits_1(sim: Mediaops, home_ops: HomeOps) -> None:
    clean = sim.run("status", "--failed")
    assert clean.returncode == 0, clean.stdout
    assert "every active app is Ready" in clean.stdout
    # A push Flux has not applied yet: every app's revision is behind the branch's head (drift).
    (home_ops.path / "README.md").write_text("a note\n")
    home_ops.git("add", "README.md")
    home_ops.git("commit", "--quiet", "-m", "docs: a note")
    home_ops.git("push", "--quiet")
    kubectl(sim, "patch", "kustomization", "tautulli", "-n", "media", "--type=merge", "-p",
            '{"spec":{"suspend":true}}')
    behind = sim.run("status", "--failed", "-n", "media", "-o", "json")
    assert behind.returncode == 1
    rows = {r["app"]: r for r in json.loads(behind.stdout)}
    assert rows["tautulli"]["suspended"] and all(r["behind"] and r["failing"] for r in rows.values())
    sim.env["COLUMNS"] = "80"
    table = sim.run("status", "--failed")
    assert table.returncode == 1 and "applied revision behind the branch's head" in table.stdout
    assert sim.run("status", "-o", "yaml").stdout.startswith("- app: ")
    wide = sim.run("status", "-o", "wide")
    assert wide.returncode == 0 and "KUSTOMIZATION" in wide.stdout


def test_allowed_contexts_refuse_other_contexts(sim: Mediaops, tmp_path: Path) -> None:
    config = tmp_path / "mediaops.yaml"
    config.write_text("allowed_contexts: [home-prod]\n")
    sim.env["MEDIAOPS_CONFIG"] = str(config)
    refused = sim.run("status")
    assert refused.returncode == 2
    assert "kube context 'rehearsal' is not in allowed_contexts (home-prod)" in refused.stderr
    assert sim.run("--context", "rehearsal", "status").returncode == 0


def test_a_run_takes_the_lock_and_is_refused_when_held(sim: Mediaops, home_ops: HomeOps) -> None:
    sim.run("sim", "fault", "lease-held", "media/mediaops-activate-plex-exporter")
    refused = sim.run("run", "activate", "plex-exporter", "--yes")
    assert refused.returncode == 3  # an unmet precondition: nothing was changed
    assert "lock mediaops-activate-plex-exporter is held by alice@laptop" in refused.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"
    unlocked = sim.run("unlock", "mediaops-activate-plex-exporter", "--yes")
    assert unlocked.returncode == 0 and "held by alice@laptop" in unlocked.stdout
    done = sim.run("run", "activate", "plex-exporter", "--yes", "--no-push")
    assert done.returncode == 0, done.stdout
    assert "context  rehearsal" in done.stdout
    assert kubectl(sim, "get", "lease", "-n", "media", "-o", "name").stdout.strip() == ""


def test_sim_status_on_the_sample_from_the_project_root(mediaops: Mediaops) -> None:
    """The sample is a sub-folder of this checkout: its rehearsal follows that folder of the checkout's commits."""
    from tests.conftest import ROOT

    if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", "HEAD:examples/home-ops/kubernetes"],
                      capture_output=True).returncode != 0:
        pytest.skip("the sample is not committed in this checkout")
    mediaops.cwd = ROOT
    result = mediaops.run("--repo", "examples/home-ops", "--sim", "status", "--json", timeout=90)
    assert result.returncode == 0, result.stderr
    rows = {r["app"]: r for r in json.loads(result.stdout)}
    assert rows["tautulli"]["kustomization"] == "Ready" and rows["calibre-web"]["helmrelease"] == "Ready"
    assert "Traceback" not in result.stderr and "warning" not in result.stderr


def test_a_checkout_on_no_branch_is_rehearsed_at_its_commit(ops: Mediaops, home_ops: HomeOps) -> None:
    """A detached checkout (`git checkout <commit>`, a bisect, a worktree added at a commit): the rehearsal's Flux
    follows that commit, as the branch's tip is followed on a branch."""
    (home_ops.path / "kubernetes/apps/media/tautulli/ks.yaml").rename(
        home_ops.path / "kubernetes/apps/media/tautulli/ks.dis")
    git(home_ops.path, "commit", "--quiet", "--all", "--message", "tautulli disabled on main")
    git(home_ops.path, "checkout", "--quiet", "--detach", "HEAD~1")
    result = ops.run("--sim", "status", "--json", timeout=90)
    assert result.returncode == 0, result.stderr
    rows = {r["app"]: r for r in json.loads(result.stdout)}
    head = git(home_ops.path, "rev-parse", "--short", "HEAD")
    assert rows["tautulli"]["kustomization"] == "Ready" and head.startswith(rows["tautulli"]["revision"][:7])
    assert "not Ready" not in result.stderr


def test_a_checkout_on_no_branch_is_followed_whatever_branch_its_sources_name(home_ops: HomeOps,
                                                                            tmp_path: Path) -> None:
    """A repository's own GitRepository names its branch (onedr0p/home-ops's FluxInstance: refs/heads/main): on a
    detached checkout the rehearsal still follows the checkout's commit, not that branch's tip."""
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    git(home_ops.path, "commit", "--quiet", "--allow-empty", "--message", "newer on main")
    git(home_ops.path, "push", "--quiet")
    tip = git(home_ops.path, "rev-parse", "main")
    on_main = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "a", nas_port=0)
    assert on_main.resolve(f"file://{on_main.origin}", "main") == tip
    git(home_ops.path, "checkout", "--quiet", "--detach", "HEAD~1")
    detached = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "b", nas_port=0)
    assert detached.resolve(f"file://{detached.origin}", "main") == git(home_ops.path, "rev-parse", "HEAD") != tip


def test_a_folder_outside_git_or_without_a_commit_is_refused_in_one_line(mediaops: Mediaops, tmp_path: Path) -> None:
    import shutil

    from tests.conftest import SAMPLE

    plain = tmp_path / "plain"
    shutil.copytree(SAMPLE, plain)
    outside = mediaops.run("--repo", str(plain), "--sim", "status")
    assert outside.returncode == 2 and outside.stdout == "", outside.stderr
    assert outside.stderr.splitlines()[0] == f"mediaops: {plain} is not in a git checkout: the rehearsal's Flux " \
        "follows the repository's commits (run `git init` and commit, or point --repo at your clone)"
    git(plain, "init", "--quiet", "--initial-branch=main")
    unborn = mediaops.run("--repo", str(plain), "--sim", "status")
    assert unborn.returncode == 2 and "Traceback" not in unborn.stderr
    assert unborn.stderr.splitlines()[0] == f"mediaops: {plain} has no commit yet: the rehearsal's Flux follows " \
        "the repository's commits (commit, then run again)"
    assert not (plain / ".git" / "refs" / "heads" / "main").exists()


def test_a_rehearsal_that_cannot_settle_says_why_in_one_line(ops: Mediaops) -> None:
    result = ops.run("sim", "up", "--timing", "fast", "--nas-port", "0", "--timeout", "0.01")
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "did not settle in 0 s" in line and "Kustomizations Ready; waiting for" in line
    assert not (ops.state / "sim" / "state.json").exists()


def test_sim_up_prints_the_kubeconfig_to_export_and_sim_down_stops_it(ops: Mediaops) -> None:
    from mediaops.sim import background

    up = ops.run("sim", "up", "--timing", "fast", "--nas-port", "0")
    try:
        assert up.returncode == 0, up.stderr
        kubeconfig = ops.state / "sim" / "kubeconfig"
        assert f"export KUBECONFIG={kubeconfig}" in up.stdout.splitlines()
        pid = json.loads((ops.state / "sim" / "state.json").read_text())["pid"]
        assert "rehearsal cluster up at http://127.0.0.1:" in up.stdout and f"(pid {pid})" in up.stdout
        ops.env["KUBECONFIG"] = str(kubeconfig)
        assert "tautulli" in kubectl(ops, "get", "kustomizations", "-n", "media").stdout
        status = ops.run("sim", "status")
        assert status.returncode == 0 and "Kustomizations  12/12 Ready" in status.stdout
        down = ops.run("sim", "down")
        assert down.returncode == 0 and down.stdout.strip() == f"rehearsal cluster (pid {pid}) stopped"
        assert not (ops.state / "sim" / "state.json").exists()
        assert not background.process_alive(pid)  # gone (a zombie no one reaps counts as gone)
        again = ops.run("sim", "down")
        assert again.returncode == 2 and "no rehearsal cluster is running" in again.stderr
    finally:  # never left running by a failed assertion
        if (ops.state / "sim" / "state.json").exists():
            background.stop(ops.state / "sim")


def test_a_damaged_state_file_is_one_line(ops: Mediaops) -> None:
    """The state file is written whole (a new file renamed over the old): one that does not parse was damaged by
    something else, and says so in one line, for each command that reads it."""
    (ops.state / "sim").mkdir(parents=True)
    (ops.state / "sim" / "state.json").write_text('{"pid": 12')
    for args in (["sim", "status"], ["sim", "down"], ["sim", "fault", "store-down"]):
        result = ops.run(*args)
        assert result.returncode != 0 and "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "is not what it writes" in result.stderr, args
