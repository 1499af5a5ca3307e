"""backup-before-upgrade end to end against the rehearsal cluster."""

from __future__ import annotations

import json
import subprocess

import pexpect

from tests.conftest import KUBECTL, HomeOps, Mediaops, answer, kubectl, read, run_steps
from tests.e2e.runbooks.conftest import volsync_source


def _items(ops: Mediaops, kind: str) -> list[dict]:
    return read(ops, "get", kind, "-n", "velero", "-o", "json")["items"]


def test_backup_then_chart_upgrade(sim: Mediaops, home_ops: HomeOps) -> None:
    release = home_ops.path / "kubernetes/apps/media/tautulli/app/helmrelease.yaml"
    original = release.read_text()
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert result.returncode == 0, result.stdout[-3000:]
    (backup,) = _items(sim, "backups")
    assert backup["metadata"]["name"].startswith("pre-tautulli-") and backup["status"]["phase"] == "Completed"
    assert backup["spec"]["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "tautulli"}}
    assert backup["spec"]["ttl"] == "720h"
    # Volume data through file-system backup, the NAS's NFS shares left out by the policy ConfigMap.
    assert backup["spec"]["defaultVolumesToFsBackup"] is True
    assert backup["spec"]["resourcePolicy"] == {"kind": "configmap", "name": "mediaops-skip-nfs"}
    assert "data of tautulli-config" in result.stdout
    assert release.read_text() == original.replace("version: 3.7.3", "version: 3.7.2")
    assert home_ops.origin_log()[0] == "feat(media): upgrade tautulli (chart 3.7.2)"
    hr = read(sim, "get", "helmrelease", "tautulli", "-n", "media", "-o", "json")
    assert hr["status"]["history"][0]["chartVersion"] == "3.7.2"
    assert "repository: chart app-template 3.7.3" in result.stdout  # what ran before, shown up front
    again = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert len(_items(sim, "backups")) == 1


def test_image_tag_upgrade_in_values(sim: Mediaops, home_ops: HomeOps) -> None:
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--image-tag", "main=2.15.2", "--yes",
                     "--namespace-wide")
    assert result.returncode == 0, result.stdout[-3000:]
    (backup,) = _items(sim, "backups")
    assert "labelSelector" not in backup["spec"]
    deployment = read(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    assert "ghcr.io/onedr0p/tautulli:2.15.2" in [c["image"] for c in
                                                  deployment["spec"]["template"]["spec"]["containers"]]


def test_partial_backup_stops_before_anything_changes(sim: Mediaops, home_ops: HomeOps) -> None:
    sim.run("sim", "fault", "backup-partial")
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert result.returncode == 1 and "PartiallyFailed (1 error(s), 2 warning(s))" in result.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"
    (run_id,) = sim.journals()
    refused = sim.run("resume", run_id, "--yes", "--chart-version", "1.0.0")
    assert refused.returncode == 2 and "resume takes no '--chart-version'" in refused.stderr
    accepted = sim.run("resume", run_id, "--yes", "--accept-partial")  # the same backup, accepted
    assert accepted.returncode == 0, accepted.stdout[-2000:]
    (backup,) = _items(sim, "backups")
    assert backup["status"]["phase"] == "PartiallyFailed"
    assert home_ops.origin_log()[0] == "feat(media): upgrade tautulli (chart 3.7.2)"


def test_failed_upgrade_prints_the_restore(sim: Mediaops, home_ops: HomeOps) -> None:
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes")
    assert result.returncode == 1
    assert "no 'app-template' chart with version matching '9.9.9'" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "to go back, revert the commit, then restore the app from the backup" in flat
    assert "kubectl delete pvc tautulli-config -n media --wait" in flat  # before the restore: it skips what exists
    assert "--from-backup pre-tautulli-" in flat and "--existing-resource-policy update" in flat


def _exec(ops: Mediaops, *command: str, stdin: str | None = None) -> str:
    result = subprocess.run([KUBECTL, "exec", "-i" if stdin is not None else "-q", "-n", "media", "deploy/tautulli",
                             "--", *command], env=ops.env, input=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_abort_after_a_failed_upgrade_restores_the_data_and_reverts(sim: Mediaops, home_ops: HomeOps) -> None:
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 1: watched history\n")
    child = sim.spawn("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", timeout=60)
    run_steps(child, 5)  # backup, bump, commit, push, reconcile
    child.expect("The step failed")
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 2: migrated by the new version\n")
    answer(child, "a")
    child.expect("Undo the 5 completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    (restore,) = _items(sim, "restores")
    assert restore["spec"]["backupName"].startswith("pre-tautulli-") and restore["status"]["phase"] == "Completed"
    assert restore["spec"]["existingResourcePolicy"] == "update"
    assert home_ops.origin_log()[0].startswith('Revert "feat(media): upgrade tautulli')
    # The claim was made again by the restore, with the data the backup holds; Flux runs the app again.
    claim = read(sim, "get", "pvc", "tautulli-config", "-n", "media", "-o", "json")
    assert claim["metadata"]["labels"]["velero.io/restore-name"] == restore["metadata"]["name"]
    assert _exec(sim, "cat", "/config/tautulli.db") == "schema 1: watched history\n"
    hr = read(sim, "get", "helmrelease", "tautulli", "-n", "media", "-o", "json")
    assert not hr["spec"].get("suspend")


def test_no_backup_without_the_data_of_a_stopped_app(sim: Mediaops, home_ops: HomeOps) -> None:
    kubectl(sim, "scale", "deployment/tautulli", "-n", "media", "--replicas=0")
    kubectl(sim, "wait", "--for=delete", "pod", "-n", "media", "-l", "app.kubernetes.io/name=tautulli",
            "--timeout=60s")
    result = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert result.returncode == 3, result.stdout[-2000:]
    assert "no running pod mounts it" in " ".join(result.stdout.split())
    assert _items(sim, "backups") == [] and home_ops.git("log", "-1", "--format=%s") == "initial import"
    objects = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes",
                      "--objects-only", "--no-push")
    assert objects.returncode == 0, objects.stdout[-2000:]
    (backup,) = _items(sim, "backups")
    assert "defaultVolumesToFsBackup" not in backup["spec"] and "no volume data" in objects.stdout


def test_a_failed_upgrade_is_undone_later_with_its_data(sim: Mediaops, home_ops: HomeOps) -> None:
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 1\n")
    failed = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes")
    assert failed.returncode == 1
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 2\n")
    preview = sim.run("undo", "last", "--dry-run")
    assert preview.returncode == 0 and "would restore the app from the backup" not in preview.stdout
    assert "would hold Flux off the app" in " ".join(preview.stdout.split())
    undone = sim.run("undo", "last", "--yes")
    assert undone.returncode == 0, undone.stdout[-3000:]
    assert "undid 5 step(s)" in undone.stdout
    assert home_ops.origin_log()[0].startswith('Revert "feat(media): upgrade tautulli')
    assert _exec(sim, "cat", "/config/tautulli.db") == "schema 1\n"
    assert home_ops.git("status", "--porcelain") == ""
    again = sim.run("undo", "last", "--yes")
    assert again.returncode == 0 and "has no completed step to undo" in again.stdout


def _k8up_schedule_for_media(ops: Mediaops) -> None:
    """A K8up Schedule in media, as a cluster that backs up with K8up has (the sample's lands in storage: its
    Kustomization's targetNamespace), with the sample's backend."""
    sample = read(ops, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json")
    body = {"apiVersion": "k8up.io/v1", "kind": "Schedule", "metadata": {"name": "media-routine", "namespace": "media"},
            "spec": {"backend": sample["spec"]["backend"], "backup": {"schedule": "0 3 * * *"}}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(body), env=ops.env, text=True,
                          capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr


def test_with_k8up_the_backup_and_the_way_back_are_k8ups(sim: Mediaops, home_ops: HomeOps) -> None:
    """A namespace K8up backs up: the backup is a K8up Backup (a snapshot of the claim), no Velero object is made,
    and undoing the failed upgrade writes the snapshot back into the claim, its replicas put back, Flux running."""
    _k8up_schedule_for_media(sim)
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 1\n")
    preview = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--dry-run")
    flat = " ".join(preview.stdout.split())
    assert "k8up: a K8up Schedule backs up media" in flat and "kind: Backup" in preview.stdout, flat[-3000:]
    failed = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes", "--json")
    assert failed.returncode == 1, failed.stdout[-3000:]
    backups = read(sim, "get", "backups.k8up.io", "-n", "media", "-o", "json")["items"]
    assert [b["metadata"]["name"] for b in backups if b["metadata"]["name"].startswith("pre-tautulli-")]
    assert _items(sim, "backups.velero.io") == []
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 2\n")
    undone = sim.run("undo", "last", "--yes")
    assert undone.returncode == 0, undone.stdout[-3000:]
    assert _exec(sim, "cat", "/config/tautulli.db") == "schema 1\n"
    restores = read(sim, "get", "restores.k8up.io", "-n", "media", "-o", "json")["items"]
    assert [r["spec"]["restoreMethod"]["folder"]["claimName"] for r in restores] == ["tautulli-config"]
    deployment = read(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    assert deployment["spec"]["replicas"] == 1
    assert "mediaops.io/previous-replicas" not in (deployment["metadata"].get("annotations") or {})
    hr = read(sim, "get", "helmrelease", "tautulli", "-n", "media", "-o", "json")
    assert not hr["spec"].get("suspend")
    assert home_ops.origin_log()[0].startswith('Revert "feat(media): upgrade tautulli')


def test_backup_with_names_the_system(sim: Mediaops, home_ops: HomeOps) -> None:
    """--backup-with k8up where no K8up backend is named for the namespace: refused before anything changes."""
    refused = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--backup-with", "k8up",
                      "--yes")
    assert refused.returncode == 3, refused.stdout[-2000:]
    assert "no K8up Schedule or Backup in media names a backend" in " ".join(refused.stdout.split())
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"


def test_with_volsync_the_backup_is_a_sync_and_the_schedule_comes_back(sim: Mediaops, home_ops: HomeOps) -> None:
    """An app whose claim a scheduled restic ReplicationSource backs up (and no Velero or K8up schedule covers):
    the backup is a manual sync of that source, its schedule back in force after it (a manual trigger left set
    would stop the routine backups); undoing the failed upgrade writes that sync's snapshot back into the claim."""
    volsync_source(sim, {"schedule": "0 * * * *"})
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 1\n")
    failed = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes", "--json")
    assert failed.returncode == 1, failed.stdout[-3000:]
    events = [json.loads(line) for line in failed.stdout.splitlines()]
    assert any(e["event"] == "check" and "volsync: a VolSync ReplicationSource backs up each claim" in
               (e.get("detail") or "") for e in events)
    source = read(sim, "get", "replicationsource", "tautulli", "-n", "media", "-o", "json")
    assert source["spec"]["trigger"] == {"schedule": "0 * * * *"}
    assert source["status"]["lastManualSync"].startswith("pre-tautulli-")
    assert _items(sim, "backups.velero.io") == []
    _exec(sim, "tee", "/config/tautulli.db", stdin="schema 2\n")
    undone = sim.run("undo", "last", "--yes")
    assert undone.returncode == 0, undone.stdout[-3000:]
    assert _exec(sim, "cat", "/config/tautulli.db") == "schema 1\n"
    destinations = read(sim, "get", "replicationdestinations", "-n", "media", "-o", "json")
    assert destinations["items"] == []  # the one-off destination of the way back, deleted
    deployment = read(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    assert deployment["spec"]["replicas"] == 1
