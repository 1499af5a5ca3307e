"""backup-before-upgrade end to end against the rehearsal cluster."""

from __future__ import annotations

import json

import pexpect

from tests.conftest import HomeOps, Mediaops, answer, run_steps
from tests.test_sim_cli import kubectl, sim  # noqa: F401 - the fixture


def _items(ops: Mediaops, kind: str) -> list[dict]:
    return json.loads(kubectl(ops, "get", kind, "-n", "velero", "-o", "json").stdout)["items"]


def test_backup_then_chart_upgrade(sim: Mediaops, home_ops: HomeOps) -> None:  # noqa: F811
    release = home_ops.path / "kubernetes/apps/media/tautulli/app/helmrelease.yaml"
    original = release.read_text()
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert result.returncode == 0, result.stdout[-3000:]
    (backup,) = _items(sim, "backups")
    assert backup["metadata"]["name"].startswith("pre-tautulli-") and backup["status"]["phase"] == "Completed"
    assert backup["spec"]["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "tautulli"}}
    assert backup["spec"]["ttl"] == "720h"
    assert release.read_text() == original.replace("version: 3.7.3", "version: 3.7.2")
    assert home_ops.origin_log()[0] == "feat(media): upgrade tautulli (chart 3.7.2)"
    hr = json.loads(kubectl(sim, "get", "helmrelease", "tautulli", "-n", "media", "-o", "json").stdout)
    assert hr["status"]["history"][0]["chartVersion"] == "3.7.2"
    assert "repository: chart app-template 3.7.3" in result.stdout  # what ran before, shown up front
    again = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert len(_items(sim, "backups")) == 1


def test_image_tag_upgrade_in_values(sim: Mediaops, home_ops: HomeOps) -> None:  # noqa: F811
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--image-tag", "main=2.15.2", "--yes",
                     "--namespace-wide")
    assert result.returncode == 0, result.stdout[-3000:]
    (backup,) = _items(sim, "backups")
    assert "labelSelector" not in backup["spec"]
    deployment = json.loads(kubectl(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json").stdout)
    assert "ghcr.io/onedr0p/tautulli:2.15.2" in [c["image"] for c in
                                                  deployment["spec"]["template"]["spec"]["containers"]]


def test_partial_backup_stops_before_anything_changes(sim: Mediaops, home_ops: HomeOps) -> None:  # noqa: F811
    sim.run("sim", "fault", "backup-partial")
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert result.returncode == 1 and "PartiallyFailed (1 error(s), 2 warning(s))" in result.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"
    accepted = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes",
                       "--accept-partial")
    assert accepted.returncode == 0, accepted.stdout[-2000:]


def test_failed_upgrade_prints_the_restore(sim: Mediaops, home_ops: HomeOps) -> None:  # noqa: F811
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes")
    assert result.returncode == 1
    assert "no 'app-template' chart with version matching '9.9.9'" in result.stdout
    assert "the way back is the backup: velero restore create --from-backup pre-tautulli-" in result.stdout


def test_abort_after_a_failed_upgrade_restores_and_reverts(sim: Mediaops, home_ops: HomeOps) -> None:  # noqa: F811
    child = sim.spawn("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", timeout=60)
    run_steps(child, 5)  # backup, bump, commit, push, reconcile
    child.expect("The step failed")
    answer(child, "a")
    child.expect("Undo the 5 completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    (restore,) = _items(sim, "restores")
    assert restore["spec"]["backupName"].startswith("pre-tautulli-") and restore["status"]["phase"] == "Completed"
    assert home_ops.origin_log()[0].startswith('Revert "feat(media): upgrade tautulli')
