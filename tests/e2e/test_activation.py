"""Activation and deactivation in the repository: safe edits, commit, push, refusals, undo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pexpect

from tests.conftest import HomeOps, Mediaops, answer, clean_env, git, make_home_ops, run_steps, tree_digest

MEDIA = "kubernetes/apps/media"


def test_dry_run_shows_the_diff_and_writes_nothing(ops: Mediaops, home_ops: HomeOps) -> None:
    before = tree_digest(home_ops.path)
    head = home_ops.git("rev-parse", "HEAD")
    result = ops.run("run", "activate", "plex-exporter", "--dry-run")
    assert result.returncode == 0, result.stdout
    assert "rename from kubernetes/apps/media/plex-exporter/ks.dis" in result.stdout
    assert "+  - ./plex-exporter/ks.yaml" in result.stdout
    assert tree_digest(home_ops.path) == before
    assert home_ops.git("rev-parse", "HEAD") == head
    assert home_ops.git("status", "--porcelain") == ""


def test_a_dry_run_does_not_even_refresh_the_index(ops: Mediaops, home_ops: HomeOps) -> None:
    """A file touched since the index last saw it: plain `git status` would rewrite .git/index to note that nothing
    changed. mediaops's queries take no optional lock, so the preview writes nothing at all."""
    touched = home_ops.path / MEDIA / "kustomization.yaml"  # a file the activation edits, so the preview reads it
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 5_000_000_000))
    before = (home_ops.path / ".git" / "index").read_bytes()
    result = ops.run("run", "activate", "plex-exporter", "--dry-run")
    assert result.returncode == 0, result.stdout
    assert (home_ops.path / ".git" / "index").read_bytes() == before
    home_ops.git("status")  # and git itself would have: the file's new time is noted
    assert (home_ops.path / ".git" / "index").read_bytes() != before


def test_activation_edits_commits_and_pushes(ops: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    ns_file = home_ops.path / MEDIA / "kustomization.yaml"
    original = ns_file.read_text()
    ks_text = (home_ops.path / MEDIA / "plex-exporter" / "ks.dis").read_text()
    ops.env["TMPDIR"] = str(tmp_path / "temporary")
    (tmp_path / "temporary").mkdir()
    result = ops.run("--sim", "run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 0, result.stdout
    assert list((tmp_path / "temporary").iterdir()) == []  # the rehearsal and its kubeconfig went with the command
    app_dir = home_ops.path / MEDIA / "plex-exporter"
    assert not (app_dir / "ks.dis").exists() and (app_dir / "ks.yaml").read_text() == ks_text
    # the one new line sits in sorted position; every other byte of the file is as it was
    expected = original.replace("  - ./mediabox/ks.yaml\n", "  - ./mediabox/ks.yaml\n  - ./plex-exporter/ks.yaml\n")
    assert ns_file.read_text() == expected
    assert home_ops.git("log", "-1", "--format=%s") == "feat(media): activate plex-exporter"
    assert "Mediaops-Run: " in home_ops.git("log", "-1", "--format=%b")
    renamed = home_ops.git("show", "-M", "--name-status", "--format=", "HEAD").splitlines()
    assert f"R100\t{MEDIA}/plex-exporter/ks.dis\t{MEDIA}/plex-exporter/ks.yaml" in renamed
    assert home_ops.origin_log()[0] == "feat(media): activate plex-exporter"
    assert home_ops.git("status", "--porcelain") == ""
    again = ops.run("--sim", "run", "activate", "plex-exporter", "--yes")
    assert again.returncode == 0
    assert "nothing to do: every step was already in place" in again.stdout
    assert home_ops.origin_log()[0] == "feat(media): activate plex-exporter"


def test_deactivation_is_the_exact_reverse(ops: Mediaops, home_ops: HomeOps) -> None:
    before = tree_digest(home_ops.path)
    assert ops.run("--sim", "run", "activate", "overseerr", "--yes").returncode == 0
    result = ops.run("--sim", "run", "deactivate", "overseerr", "--yes")
    assert result.returncode == 0, result.stdout
    assert "overseerr-config (5Gi)" in result.stdout  # the PVC the prune would delete is named
    after = {k: v for k, v in tree_digest(home_ops.path).items() if not k.startswith(".git/")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".git/")}
    assert home_ops.origin_log()[:2] == ["chore(media): deactivate overseerr", "feat(media): activate overseerr"]


def test_no_push_keeps_the_commit_local(ops: Mediaops, home_ops: HomeOps) -> None:
    result = ops.run("--sim", "run", "activate", "plex-trakt-sync", "--yes", "--no-push")
    assert result.returncode == 0, result.stdout
    assert "--no-push given" in result.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "feat(media): activate plex-trakt-sync"
    assert home_ops.origin_log() == ["initial import"]


def test_rejected_push_keeps_the_commit_and_says_what_to_do(ops: Mediaops, home_ops: HomeOps,
                                                          tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(home_ops.origin), str(other))
    (other / "README.md").write_text("someone else was here\n")
    git(other, "commit", "--quiet", "-am", "docs: elsewhere")
    git(other, "push", "--quiet")
    result = ops.run("--sim", "run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 1
    assert "the remote has commits this checkout does not" in result.stdout
    assert "git pull --rebase origin main" in result.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "feat(media): activate plex-exporter"
    assert home_ops.origin_log()[0] == "docs: elsewhere"
    home_ops.git("pull", "--quiet", "--rebase", "origin", "main")
    run_id = json.loads(ops.run("runs", "--json").stdout)[0]["run_id"]
    resumed = ops.run("--sim", "resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout
    assert home_ops.origin_log()[:2] == ["feat(media): activate plex-exporter", "docs: elsewhere"]


def test_unrelated_staged_changes_are_refused(ops: Mediaops, home_ops: HomeOps) -> None:
    (home_ops.path / "README.md").write_text("work in progress\n")
    home_ops.git("add", "README.md")
    before = tree_digest(home_ops.path)
    result = ops.run("--sim", "run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 3
    assert "unrelated changes are staged (README.md)" in result.stdout
    assert tree_digest(home_ops.path) == before
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"


def test_uncommitted_changes_to_the_touched_files_are_refused(ops: Mediaops, home_ops: HomeOps) -> None:
    ns_file = home_ops.path / MEDIA / "kustomization.yaml"
    ns_file.write_text(ns_file.read_text() + "# local note\n")
    before = tree_digest(home_ops.path)
    result = ops.run("--sim", "run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 3
    assert f"uncommitted changes in {MEDIA}/kustomization.yaml" in result.stdout
    assert tree_digest(home_ops.path) == before


def test_activating_an_inconsistent_app_is_refused(ops: Mediaops, home_ops: HomeOps) -> None:
    folder = home_ops.path / MEDIA / "overseerr"
    (folder / "ks.yaml").write_text((folder / "ks.dis").read_text())  # both: which one is meant?
    result = ops.run("--sim", "run", "activate", "overseerr", "--yes")
    assert result.returncode == 3
    assert "both ks.yaml and ks.dis are present" in result.stdout


def test_abort_before_push_reverts_the_local_commit(tmp_path: Path, home_ops: HomeOps) -> None:
    from tests.conftest import MEDIAOPS

    before = {k: v for k, v in tree_digest(home_ops.path).items() if not k.startswith(".git/")}
    child = pexpect.spawn(MEDIAOPS, ["--sim", "run", "activate", "plex-exporter"], env=clean_env(tmp_path),
                          cwd=str(home_ops.path), encoding="utf-8", timeout=30, dimensions=(60, 140))
    run_steps(child, 2)
    child.expect("Push to the tracking branch")
    child.expect("Run this step")
    answer(child, "a")
    child.expect("Undo the 2 completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    after = {k: v for k, v in tree_digest(home_ops.path).items() if not k.startswith(".git/")}
    assert after == before
    assert home_ops.git("log", "--format=%s", "-2").splitlines() == [
        'Revert "feat(media): activate plex-exporter"', "feat(media): activate plex-exporter"]
    assert home_ops.origin_log() == ["initial import"]
    assert home_ops.git("status", "--porcelain") == ""


def test_deactivation_names_the_active_apps_that_depend_on_it(ops: Mediaops) -> None:
    """calibre-web and tautulli dependsOn democratic-csi-iscsi: once democratic-csi is pruned, Flux stops
    reconciling them (tyriis/home-ops: recyclarr dependsOn radarr, which nothing said before its deactivation)."""
    result = ops.run("run", "deactivate", "democratic-csi", "--dry-run")
    said = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout[-3000:]
    assert ("! No active app depends on it — media/calibre-web (calibre-web dependsOn "
            "storage/democratic-csi-iscsi), media/tautulli (tautulli dependsOn storage/democratic-csi-iscsi)") in said
    alone = " ".join(ops.run("run", "deactivate", "tautulli", "--dry-run").stdout.split())
    assert "✓ No active app depends on it — none does" in alone


def _tautulli_release_depends_on_calibre_web(work: Path) -> None:
    release = work / "kubernetes" / "apps" / "media" / "tautulli" / "app" / "helmrelease.yaml"
    release.write_text(release.read_text().replace("  interval: 1h\n", "  interval: 1h\n  dependsOn:\n"
                                                   "    - name: calibre-web\n", 1))


def test_deactivation_names_an_app_whose_helmrelease_depends_on_it(tmp_path: Path) -> None:
    """A HelmRelease's dependsOn names HelmReleases (kashalls/home-cluster's zigbee2mqtt on mosquitto):
    helm-controller stops that release too once this one is gone."""
    home_ops = make_home_ops(tmp_path, prepare=_tautulli_release_depends_on_calibre_web)
    ops = Mediaops(clean_env(tmp_path), home_ops.path, tmp_path / "state")
    said = " ".join(ops.run("run", "deactivate", "calibre-web", "--dry-run").stdout.split())
    assert "! No active app depends on it — media/tautulli (tautulli dependsOn media/calibre-web)" in said


def test_the_scrape_check_previewed_without_prometheus_url_shows_where_it_goes(ops: Mediaops) -> None:
    """Previewed past the would-be push, the scrape check's line is shown before its skip is known: without
    prometheus_url it names the placeholder to fill, not a URL without a host (seen on tyriis/home-ops)."""
    said = ops.run("run", "activate", "plex-exporter", "--dry-run").stdout
    assert "curl -s 'PROMETHEUS_URL/api/v1/query?query=up%7Bnamespace%3D%22media%22" in said
    assert "curl -s '/api" not in said
