"""Bad input is one line, exit 2, and nothing changed: no rehearsal, no Lease, no backup, no file touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HomeOps, Mediaops, tree_digest


@pytest.mark.parametrize(("args", "said"), [
    (["nfs-outage", "--planned", "--nas-timeout", "abc", "--yes"], "nas-timeout: 'abc' is not a number of seconds"),
    (["backup-before-upgrade", "tautulli", "--image-tag", "a b", "--yes"], "image-tag: 'a b' is not an image tag"),
    (["backup-before-upgrade", "tautulli", "--chart-version", "4.x", "--yes"], "'4.x' is not a chart version"),
    (["backup-before-upgrade", "tautulli", "--yes"], "nothing to upgrade to: give --chart-version or --image-tag"),
    (["backup-before-upgrade", "tautulli", "--image-tag", "1.0", "--ttl", "a month", "--yes"],
     "ttl: 'a month' is not a duration"),
    (["reconcile", "tautulli ", "--yes"], "app: 'tautulli ' is not a Kubernetes name"),
    (["backup-before-upgrade", "tautulli", "--image-tag", "nosuch=1.2.3", "--yes"],
     "tautulli has no container 'nosuch' (containers: main, jbops)"),
])
def test_bad_parameters_change_nothing(ops: Mediaops, home_ops: HomeOps, args: list[str], said: str) -> None:
    before = tree_digest(home_ops.path)
    result = ops.run("--sim", "run", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert "starting a rehearsal" not in result.stderr or "no container" in said  # refused before the rehearsal
    assert tree_digest(home_ops.path) == before
    assert "✓ done" not in result.stdout  # no step ran: no backup was taken, nothing was committed


def test_a_bad_setting_is_one_line(ops: Mediaops) -> None:
    ops.env["MEDIAOPS_NAS_PORT"] = "abc"
    result = ops.run("run", "nfs-outage", "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "mediaops: MEDIAOPS_NAS_PORT: nas_port must be a TCP port (1 to 65535), not 'abc'"


def test_an_unreadable_kubeconfig_or_journal_is_one_line(ops: Mediaops, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("not: [yaml\n")
    ops.env["KUBECONFIG"] = str(kubeconfig)
    result = ops.run("status")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"kubeconfig {kubeconfig} cannot be read: line 2:" in result.stderr
    runs = ops.state / "runs"
    runs.mkdir(parents=True)
    (runs / "20261126-000000-broken-0000.jsonl").write_text('{"event": "run_start"\n')
    listed = ops.run("runs")
    assert listed.returncode == 0 and "warning: skipped 20261126-000000-broken-0000.jsonl" in listed.stderr


@pytest.mark.parametrize(("setup", "said"), [
    (lambda h: h.git("checkout", "--quiet", "--detach"), "HEAD is detached"),
    (lambda h: h.git("branch", "--unset-upstream"), "branch main tracks no remote branch"),
])
def test_git_preconditions_are_found_before_the_first_change(ops: Mediaops, home_ops: HomeOps, setup: Any,
                                                             said: str) -> None:
    setup(home_ops)
    before, head = tree_digest(home_ops.path), home_ops.git("rev-parse", "HEAD")
    result = ops.run("run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 3, result.stdout
    assert said in result.stdout and "Traceback" not in result.stderr
    assert tree_digest(home_ops.path) == before and home_ops.git("rev-parse", "HEAD") == head


def test_no_git_identity_is_found_before_the_first_change(ops: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        ops.env.pop(variable)
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n")  # git must not guess one from the host name
    ops.env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(config))
    before = tree_digest(home_ops.path)
    result = ops.run("run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 3 and "git has no identity to commit with" in result.stdout
    assert tree_digest(home_ops.path) == before


def test_an_unreachable_cluster_is_an_unmet_precondition_that_ends_in_the_journal(ops: Mediaops,
                                                                                  tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
                          "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:1'}}]\n"
                          "users: [{name: u, user: {token: x}}]\n"
                          "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n")
    ops.env["KUBECONFIG"] = str(kubeconfig)
    result = ops.run("run", "reconcile", "tautulli", "--yes")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "precondition not met" in result.stdout and "Traceback" not in result.stderr
    (journal,) = ops.journals().values()
    assert journal[-1]["event"] == "run_end" and journal[-1]["status"] == "precondition-failed"


def test_run_ids_are_shown_whole_at_80_columns(mediaops: Mediaops, tmp_path: Path) -> None:
    mediaops.env["COLUMNS"] = "80"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = mediaops.run("run", "write-files", str(scratch), "--label", "a-rather-long-label-for-the-params",
                          "--yes")
    assert result.returncode == 0, result.stdout
    (run_id,) = mediaops.journals()
    listed = mediaops.run("runs")
    assert listed.returncode == 0 and run_id in listed.stdout  # what `resume` needs, whole


@pytest.mark.parametrize("args", [["run", "nfs-outage", "--yes"], ["sim", "up", "--timing", "fast"]])
def test_a_state_directory_that_cannot_be_used_is_one_line(ops: Mediaops, tmp_path: Path, args: list[str]) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    ops.env["MEDIAOPS_STATE_DIR"] = str(blocked)
    result = ops.run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"mediaops: cannot use {blocked}/{'runs' if args[0] == 'run' else 'sim'}: Not a directory; check the path "
        "and its permissions (the state directory is MEDIAOPS_STATE_DIR or state_dir in the config)"]


def test_a_repository_of_one_tree_per_cluster_is_not_called_malformed(ops: Mediaops, tmp_path: Path) -> None:
    """kubernetes/main/apps and kubernetes/staging/apps (a layout of public home-ops repositories): a valid
    repository, of which mediaops reads one cluster at a time; which one, it asks in one line (tests/e2e/
    test_clusters.py reads one)."""
    repo = tmp_path / "multi"
    for cluster in ("main", "staging"):
        (repo / "kubernetes" / cluster / "apps").mkdir(parents=True)
    result = ops.run("--repo", str(repo), "apps")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "keeps one tree per cluster (main, staging): say which one" in result.stderr
    assert "not a Flux repository" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
