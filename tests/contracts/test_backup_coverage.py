"""The backups check's newer sources, each with a cluster state that passes it and ones that fail it, driven
through `mediaops check --json` against the background rehearsal with the real kubectl:

- CSI VolumeSnapshots (kubernetes-csi/external-snapshotter client/apis/volumesnapshot/v1/types.go): a snapshot of
  the claim (`spec.source.persistentVolumeClaimName`) that is `status.readyToUse` and whose `status.creationTime`
  is within the RPO holds it; one not ready, a stale one, or one of another claim does not;
- Longhorn (longhorn/longhorn-manager k8s/pkg/apis/longhorn/v1beta2): a claim of a `driver.longhorn.io`
  StorageClass is selected by a RecurringJob through `recurring-job.longhorn.io/JOB: enabled` or
  `recurring-job-group.longhorn.io/GROUP: enabled` (on its Volume, on a claim labelled
  `recurring-job.longhorn.io/source: enabled`, from the StorageClass's `recurringJobSelector`, or the `default`
  group for a volume without such labels); a backup job's newest Completed `Backup` (label `backup-volume`) is
  held to the RPO, none yet warns (scheduled, age unknown), a snapshot job warns (not off-cluster);
- kopiur (home-operations/kopiur crates/api/src/snapshot.rs): a Snapshot whose run resolved the claim
  (`status.resolved.sources[].pvc`, `namespace/name`) and Succeeded holds it as of `status.timing.startTime`;
  files it could not read (`status.stats.filesFailed`) make it incomplete (warns); a Failed one is named.

The rehearsal stores these kinds as written: their controllers (the snapshot controller, Longhorn's manager,
kopiur's) are not emulated, so each test writes the status they would, through the status subresource as they do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import Mediaops, kubectl

LONGHORN_NS = "longhorn-system"


def _check(ops: Mediaops, app: str = "tautulli") -> dict[str, Any]:
    result = ops.run("check", app, "--only", "backups", "--json")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    (found,) = json.loads(result.stdout)["results"]
    assert found["check"] == "backups" and found["app"] == f"media/{app}"
    assert (found["status"] == "fail") == (result.returncode == 1), found
    return dict(found)


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _apply(ops: Mediaops, tmp_path: Path, *objects: dict[str, Any]) -> None:
    manifest = tmp_path / "objects.yaml"  # one JSON document (YAML) each, as `kubectl apply -f` reads them
    manifest.write_text("\n---\n".join(json.dumps(o) for o in objects))
    result = kubectl(ops, "apply", "-f", str(manifest))
    assert result.returncode == 0, result.stderr


def _status(ops: Mediaops, resource: str, name: str, namespace: str, status: dict[str, Any]) -> None:
    """What the object's controller would write: through the status subresource, as on a cluster (the main
    endpoint ignores status)."""
    result = kubectl(ops, "patch", resource, name, "-n", namespace, "--subresource=status", "--type=merge", "-p",
                     json.dumps({"status": status}))
    assert result.returncode == 0, result.stderr


def _label(ops: Mediaops, resource: str, name: str, namespace: str, *labels: str) -> None:
    result = kubectl(ops, "label", "--overwrite", resource, name, "-n", namespace, *labels)
    assert result.returncode == 0, result.stderr


def _snapshot(name: str, claim: str) -> dict[str, Any]:
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": "media"},
            "spec": {"volumeSnapshotClassName": "csi-snapclass", "source": {"persistentVolumeClaimName": claim}}}


def _longhorn_class(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The sample's claims' StorageClass (`${MAIN_SC}`: iscsi-delete), provisioned by Longhorn's CSI driver."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "iscsi-delete"},
            "provisioner": "driver.longhorn.io", "parameters": {"numberOfReplicas": "2", **(parameters or {})}}


def _job(name: str, task: str, groups: list[str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "longhorn.io/v1beta2", "kind": "RecurringJob",
            "metadata": {"name": name, "namespace": LONGHORN_NS},
            "spec": {"name": name, "task": task, "cron": "0 3 * * *", "retain": 7, "concurrency": 1,
                     "groups": groups or []}}


def _install_longhorn(ops: Mediaops, tmp_path: Path, *objects: dict[str, Any]) -> None:
    switched = ops.run("sim", "fault", "longhorn-installed")
    assert switched.returncode == 0, switched.stderr
    _apply(ops, tmp_path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LONGHORN_NS}}, *objects)


# -- VolumeSnapshots -------------------------------------------------------------------------------------------
def test_a_ready_recent_snapshot_of_the_claim_holds_it(sim: Mediaops, tmp_path: Path) -> None:
    assert _check(sim)["message"] == "no finished backup covers namespace media"  # the rehearsal as seeded

    # A snapshot of another app's claim holds that claim, not tautulli's.
    _apply(sim, tmp_path, _snapshot("calibre-web-config-1", "calibre-web-config"))
    _status(sim, "volumesnapshots", "calibre-web-config-1", "media", {
        "readyToUse": True, "creationTime": _ago(1), "boundVolumeSnapshotContentName": "snapcontent-1"})
    other = _check(sim)
    assert other["status"] == "fail" and other["message"] == "no finished backup covers namespace media", other
    calibre = _check(sim, "calibre-web")
    assert calibre["status"] == "ok" and "volumesnapshot calibre-web-config-1 of calibre-web-config, 1.0 h old" \
        in calibre["message"], calibre

    # Of the claim, but not ready to use (the snapshot controller has not seen the storage system finish).
    _apply(sim, tmp_path, _snapshot("tautulli-config-1", "tautulli-config"))
    _status(sim, "volumesnapshots", "tautulli-config-1", "media", {"readyToUse": False, "creationTime": _ago(0.5)})
    unready = _check(sim)
    assert unready["status"] == "fail" and "volumesnapshot tautulli-config-1 is not readyToUse" in unready["message"]
    assert unready["command"] == "kubectl get volumesnapshots -n media"

    # Ready: it holds the claim.
    _status(sim, "volumesnapshots", "tautulli-config-1", "media", {"readyToUse": True, "creationTime": _ago(0.5)})
    held = _check(sim)
    assert held["status"] == "ok", held
    assert held["message"] == "newest: volumesnapshot tautulli-config-1 of tautulli-config, 0.5 h old (readyToUse); " \
                              "RPO 24 h"
    assert held["command"] == "kubectl get volumesnapshots -n media"
    printed = kubectl(sim, "get", "vs", "tautulli-config-1", "-n", "media")  # its CRD's printer columns
    assert printed.returncode == 0 and printed.stdout.split()[:3] == ["NAME", "READYTOUSE", "SOURCEPVC"]


def test_a_stale_snapshot_fails_until_the_rpo_allows_it(sim: Mediaops, tmp_path: Path) -> None:
    _apply(sim, tmp_path, _snapshot("tautulli-config-old", "tautulli-config"))
    _status(sim, "volumesnapshots", "tautulli-config-old", "media", {"readyToUse": True, "creationTime": _ago(30)})
    stale = _check(sim)
    assert stale["status"] == "fail", stale
    assert stale["message"].startswith("newest: volumesnapshot tautulli-config-old of tautulli-config, 30.0 h old")
    sim.env["MEDIAOPS_BACKUP_RPO_HOURS"] = "48"
    assert _check(sim)["status"] == "ok"
    # without a creationTime the snapshot's age is unknown: it holds nothing
    sim.env["MEDIAOPS_BACKUP_RPO_HOURS"] = "24"
    _apply(sim, tmp_path, _snapshot("tautulli-config-new", "tautulli-config"))
    _status(sim, "volumesnapshots", "tautulli-config-new", "media", {"readyToUse": True})
    undated = _check(sim)
    assert undated["status"] == "fail" and "volumesnapshot tautulli-config-new has no creationTime" in \
        undated["message"], undated


# -- Longhorn --------------------------------------------------------------------------------------------------
def test_a_longhorn_backup_job_is_scheduled_and_its_backups_are_held_to_the_rpo(sim: Mediaops, tmp_path: Path) -> None:
    _apply(sim, tmp_path, _longhorn_class())
    # Longhorn's CRDs are not installed: that system is not there, nothing else changes.
    absent = _check(sim)
    assert absent["status"] == "fail" and absent["message"] == "no finished backup covers namespace media", absent

    # A backup job, and the claim's labels (its source label: Longhorn copies them to the volume) naming another.
    _install_longhorn(sim, tmp_path, _job("daily", "backup"))
    _label(sim, "pvc", "tautulli-config", "media", "recurring-job.longhorn.io/source=enabled",
           "recurring-job.longhorn.io/nightly=enabled")
    unmatched = _check(sim)
    assert unmatched["status"] == "fail", unmatched
    assert "no longhorn backup or snapshot recurring job selects it by recurring-job.longhorn.io/nightly (claim " \
           "tautulli-config's labels" in unmatched["message"], unmatched
    assert unmatched["command"] == "kubectl get recurringjobs.longhorn.io,backups.longhorn.io -A"

    # A label that is there but not `enabled` selects nothing either.
    _label(sim, "pvc", "tautulli-config", "media", "recurring-job.longhorn.io/daily=disabled")
    assert _check(sim)["status"] == "fail"

    # Selected: the job is scheduled, but no Backup shows that it has run.
    _label(sim, "pvc", "tautulli-config", "media", "recurring-job.longhorn.io/daily=enabled")
    scheduled = _check(sim)
    assert scheduled["status"] == "warn", scheduled
    assert "recurring job daily (backup, cron '0 3 * * *') selects it by recurring-job.longhorn.io/daily" in \
        scheduled["message"] and "backup scheduled, no Backup of it yet, its age unknown" in scheduled["message"]
    assert scheduled["command"] == "kubectl get recurringjobs.longhorn.io,backups.longhorn.io -n longhorn-system"

    # The claim's Longhorn volume, and a Backup of it older than the RPO.
    _apply(sim, tmp_path, {"apiVersion": "longhorn.io/v1beta2", "kind": "Volume",
                           "metadata": {"name": "pvc-7d1c", "namespace": LONGHORN_NS},
                           "spec": {"size": "5368709120", "numberOfReplicas": 2, "dataEngine": "v1"}},
           {"apiVersion": "longhorn.io/v1beta2", "kind": "Backup",
            "metadata": {"name": "backup-5e2b", "namespace": LONGHORN_NS, "labels": {"backup-volume": "pvc-7d1c"}},
            "spec": {"snapshotName": "daily-c-1"}})
    _status(sim, "volumes.longhorn.io", "pvc-7d1c", LONGHORN_NS, {
        "state": "attached", "kubernetesStatus": {"namespace": "media", "pvcName": "tautulli-config",
                                                  "pvName": "pvc-7d1c", "lastPVCRefAt": ""}})
    _status(sim, "backups.longhorn.io", "backup-5e2b", LONGHORN_NS, {
        "state": "Completed", "volumeName": "pvc-7d1c", "snapshotName": "daily-c-1",
        "snapshotCreatedAt": _ago(30), "backupCreatedAt": _ago(29.5)})
    stale = _check(sim)
    assert stale["status"] == "fail", stale
    assert stale["message"] == \
        "newest: longhorn backup backup-5e2b of volume pvc-7d1c, 30.0 h old (Completed); RPO 24 h"

    # One that is not Completed does not count; a Completed one within the RPO holds the claim.
    _apply(sim, tmp_path, {"apiVersion": "longhorn.io/v1beta2", "kind": "Backup",
                           "metadata": {"name": "backup-9f00", "namespace": LONGHORN_NS,
                                        "labels": {"backup-volume": "pvc-7d1c"}}})
    _status(sim, "backups.longhorn.io", "backup-9f00", LONGHORN_NS, {
        "state": "Error", "volumeName": "pvc-7d1c", "snapshotCreatedAt": _ago(1)})
    assert _check(sim)["message"].startswith("newest: longhorn backup backup-5e2b of volume pvc-7d1c, 30.0 h old")
    _status(sim, "backups.longhorn.io", "backup-9f00", LONGHORN_NS, {
        "state": "Completed", "volumeName": "pvc-7d1c", "snapshotCreatedAt": _ago(1), "backupCreatedAt": _ago(0.9)})
    fresh = _check(sim)
    assert fresh["status"] == "ok", fresh
    assert fresh["message"] == "newest: longhorn backup backup-9f00 of volume pvc-7d1c, 1.0 h old (Completed); RPO 24 h"

    # Longhorn uninstalled (its CRDs and objects deleted): not installed again, no error.
    assert sim.run("sim", "fault", "longhorn-installed", "off").returncode == 0
    gone = _check(sim)
    assert gone["status"] == "fail" and gone["message"] == "no finished backup covers namespace media", gone


def test_a_longhorn_snapshot_job_warns_it_is_not_off_cluster(sim: Mediaops, tmp_path: Path) -> None:
    # The volume's labels come from its StorageClass's recurringJobSelector until the volume is there.
    selector = json.dumps([{"name": "hourly", "isGroup": True}])
    _install_longhorn(sim, tmp_path, _longhorn_class({"recurringJobSelector": selector}),
                      _job("snap", "snapshot", ["hourly"]), _job("offsite", "backup", ["default"]))
    snapshots = _check(sim)
    assert snapshots["status"] == "warn", snapshots
    assert "recurring job snap (snapshot, cron '0 3 * * *') selects it by recurring-job-group.longhorn.io/hourly " \
           "(storage class iscsi-delete's recurringJobSelector): snapshot only, not off-cluster" in snapshots["message"]

    # The volume's own labels: none, so the default group, which only the backup job is in.
    _apply(sim, tmp_path, {"apiVersion": "longhorn.io/v1beta2", "kind": "Volume",
                           "metadata": {"name": "pvc-31aa", "namespace": LONGHORN_NS}, "spec": {"size": "5368709120"}})
    _status(sim, "volumes.longhorn.io", "pvc-31aa", LONGHORN_NS, {
        "kubernetesStatus": {"namespace": "media", "pvcName": "tautulli-config", "pvName": "pvc-31aa"}})
    defaulted = _check(sim)
    assert defaulted["status"] == "warn" and "recurring job offsite (backup, cron '0 3 * * *') selects it by " \
        "recurring-job-group.longhorn.io/default (the default group, no recurring-job label in volume " \
        "pvc-31aa's labels): backup scheduled" in defaulted["message"], defaulted

    # Labelled into the snapshot job's group only: the default group no longer applies.
    _label(sim, "volumes.longhorn.io", "pvc-31aa", LONGHORN_NS, "recurring-job-group.longhorn.io/hourly=enabled")
    assert "snapshot only, not off-cluster" in _check(sim)["message"]

    # A ready VolumeSnapshot within the RPO holds the claim whatever Longhorn schedules.
    _apply(sim, tmp_path, _snapshot("tautulli-config-1", "tautulli-config"))
    _status(sim, "volumesnapshots", "tautulli-config-1", "media", {"readyToUse": True, "creationTime": _ago(2)})
    held = _check(sim)
    assert held["status"] == "ok" and "volumesnapshot tautulli-config-1" in held["message"], held


# -- kopiur ----------------------------------------------------------------------------------------------------
# kopiur's Snapshot CRD as its chart installs it (home-operations/kopiur crates/api/src/snapshot.rs: group
# kopiur.home-operations.com, version v1alpha1, kind Snapshot, namespaced, a status subresource), written here
# through the API as `kubectl apply` of the chart's CRDs would: the rehearsal serves a kind once its CRD is there.
KOPIUR_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "snapshots.kopiur.home-operations.com"},
    "spec": {"group": "kopiur.home-operations.com", "scope": "Namespaced",
             "names": {"kind": "Snapshot", "plural": "snapshots", "singular": "snapshot", "listKind": "SnapshotList",
                       "shortNames": ["kopiasnap"], "categories": ["kopiur"]},
             "versions": [{"name": "v1alpha1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}


def _kopiur_snapshot(name: str, namespace: str = "media") -> dict[str, Any]:
    return {"apiVersion": "kopiur.home-operations.com/v1alpha1", "kind": "Snapshot",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"policyRef": {"name": "tautulli"}}}


def _kopiur_status(phase: str, started: float, pvc: str = "media/tautulli-config", unread: int = 0) -> dict[str, Any]:
    """What kopiur's controller writes (SnapshotStatus): phase, origin, timing, stats, the sources it resolved."""
    timing = {"startTime": _ago(started), "endTime": _ago(started - 0.1), "durationSeconds": 360}
    return {"phase": phase, "origin": "scheduled", "timing": timing,
            "stats": {"sizeBytes": 52428800, "filesFailed": unread},
            "resolved": {"sources": [{"pvc": pvc, "sourcePath": "/data"}]}}


def _kopiur_ran(sim: Mediaops, name: str, namespace: str, status: dict[str, Any]) -> None:
    """What kopiur's controller writes of a run, through the status subresource."""
    _status(sim, "snapshots.kopiur.home-operations.com", name, namespace, status)


def test_a_succeeded_kopiur_snapshot_of_the_claim_holds_it(sim: Mediaops, tmp_path: Path) -> None:
    assert _check(sim)["message"] == "no finished backup covers namespace media"  # the rehearsal as seeded
    _apply(sim, tmp_path, KOPIUR_CRD)
    listed = kubectl(sim, "get", "snapshots.kopiur.home-operations.com", "-n", "media")
    assert listed.returncode == 0 and "No resources found" in listed.stderr, listed.stderr  # served, none yet

    # A run that failed holds nothing, and is named; a claim of the same name in another namespace is not this one.
    _apply(sim, tmp_path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
           _kopiur_snapshot("tautulli-failed"), _kopiur_snapshot("tautulli-elsewhere", "other"))
    _kopiur_ran(sim, "tautulli-failed", "media", _kopiur_status("Failed", 3))
    _kopiur_ran(sim, "tautulli-elsewhere", "other",
            _kopiur_status("Succeeded", 1, pvc="other/tautulli-config"))
    failed = _check(sim)
    assert failed["status"] == "fail", failed
    assert failed["message"] == "no finished backup of claim tautulli-config (none covers namespace media); " \
                                "kopiur snapshot tautulli-failed failed"
    assert failed["command"] == "kubectl get snapshots.kopiur.home-operations.com -n media"

    # Succeeded, two hours ago: it holds the claim, as old as its run's start.
    _apply(sim, tmp_path, _kopiur_snapshot("tautulli-hourly"))
    _kopiur_ran(sim, "tautulli-hourly", "media", _kopiur_status("Succeeded", 2))
    held = _check(sim)
    assert held["status"] == "ok", held
    assert held["message"] == "newest: kopiur snapshot tautulli-hourly of tautulli-config, 2.0 h old (Succeeded); " \
                              "RPO 24 h"
    shown = kubectl(sim, *held["command"].split()[1:])  # the command shown lists it
    assert shown.returncode == 0 and "tautulli-hourly" in shown.stdout, shown.stderr

    # A newer one, while kopiur's finalizer reclaims it after a delete, holds nothing any more.
    going = _kopiur_snapshot("tautulli-going")
    going["metadata"]["finalizers"] = ["kopiur.home-operations.com/snapshot"]
    _apply(sim, tmp_path, going)
    _kopiur_ran(sim, "tautulli-going", "media", _kopiur_status("Succeeded", 1))
    assert "kopiur snapshot tautulli-going of tautulli-config, 1.0 h old" in _check(sim)["message"]
    deleting = kubectl(sim, "delete", "snapshots.kopiur.home-operations.com", "tautulli-going", "-n", "media",
                       "--wait=false")
    assert deleting.returncode == 0, deleting.stderr
    assert _check(sim)["message"].startswith("newest: kopiur snapshot tautulli-hourly of tautulli-config, 2.0 h")

    # A newer run that could not read every file is incomplete: it warns.
    _apply(sim, tmp_path, _kopiur_snapshot("tautulli-partial"))
    _kopiur_ran(sim, "tautulli-partial", "media",
            _kopiur_status("Succeeded", 0.5, unread=3))
    partial = _check(sim)
    assert partial["status"] == "warn" and "kopiur snapshot tautulli-partial of tautulli-config, 0.5 h old " \
        "(Succeeded, 3 files unread)" in partial["message"], partial

    # Runs older than the RPO (24 h): fails, saying how old the newest is.
    _kopiur_ran(sim, "tautulli-partial", "media",
            _kopiur_status("Succeeded", 30, unread=3))
    _kopiur_ran(sim, "tautulli-hourly", "media", _kopiur_status("Succeeded", 26))
    stale = _check(sim)
    assert stale["status"] == "fail" and stale["message"].startswith(
        "newest: kopiur snapshot tautulli-hourly of tautulli-config, 26.0 h old (Succeeded); RPO 24 h"), stale


def test_a_selectors_run_and_an_unchanged_run_hold_the_claim_until_kopiurs_crd_goes(sim: Mediaops,
                                                                                     tmp_path: Path) -> None:
    """A policy's pvcSelector expands into one Snapshot per claim, named in `spec.source.target.pvc` (its
    resolved source then has only a path); a run that found the claim identical to its last snapshot is
    Unchanged, a success whose data that snapshot holds. Deleting the CRD stops the API serving the kind."""
    _apply(sim, tmp_path, KOPIUR_CRD)
    lonely = _kopiur_snapshot("tautulli-unchanged")
    _apply(sim, tmp_path, lonely)
    _kopiur_ran(sim, "tautulli-unchanged", "media", _kopiur_status("Unchanged", 1))
    alone = _check(sim)  # no Succeeded snapshot of the claim: nothing holds its data
    assert alone["status"] == "fail" and alone["message"].startswith("no finished backup"), alone

    selected = _kopiur_snapshot("tautulli-selected")
    claim = {"namespace": "media", "name": "tautulli-config"}
    selected["spec"]["source"] = {"sourceIndex": 0, "target": {"pvc": claim}}
    _apply(sim, tmp_path, selected)
    _kopiur_ran(sim, "tautulli-selected", "media",
            _kopiur_status("Succeeded", 5, pvc=""))
    unchanged = _check(sim)
    assert unchanged["status"] == "ok", unchanged
    assert unchanged["message"] == "newest: kopiur snapshot tautulli-unchanged of tautulli-config, 1.0 h old " \
                                   "(Unchanged since the last); RPO 24 h"

    deleted = kubectl(sim, "delete", "crd", "snapshots.kopiur.home-operations.com")
    assert deleted.returncode == 0, deleted.stderr
    gone = kubectl(sim, "get", "snapshots.kopiur.home-operations.com", "-n", "media")
    assert gone.returncode == 1 and "doesn't have a resource type" in gone.stderr, gone.stderr
    assert _check(sim)["message"] == "no finished backup covers namespace media"

def test_a_kind_its_crd_defines_through_the_api_is_served_while_the_crd_is_there_in_every_rehearsal() -> None:
    """The kinds registry is the process's: a kind one rehearsal learned from a CRD written through its API is not
    served by the next until that one's store has the CRD too, and goes when the CRD is deleted. A CRD the
    registry cannot read is stored as it is and defines nothing."""
    import copy

    from mediaops.cluster import kinds
    from mediaops.sim.server import ApiServer
    from mediaops.sim.store import Store

    crd = copy.deepcopy(KOPIUR_CRD)
    crd["metadata"]["name"] = "widgets.rehearsal.example.test"
    crd["spec"].update(group="rehearsal.example.test", names={"kind": "Widget", "plural": "widgets"})
    definitions = kinds.BY_PLURAL[("apiextensions.k8s.io", "customresourcedefinitions")]
    for _ in range(2):  # two rehearsals, one after the other, in one process
        store = Store()
        server = ApiServer(store)
        try:
            known = kinds.BY_KIND.get(("rehearsal.example.test", "Widget"))
            assert known is None or not server.serves(known)
            store.create(definitions, copy.deepcopy(crd))
            widget = kinds.BY_KIND[("rehearsal.example.test", "Widget")]
            assert server.serves(widget) and widget.plural == "widgets" and widget.version == "v1alpha1"
            store.delete(definitions, "", "widgets.rehearsal.example.test")
            assert not server.serves(widget)
            broken = {"metadata": {"name": "gadgets.rehearsal.example.test"},
                      "spec": {"group": "rehearsal.example.test", "names": {"kind": "Gadget"}, "versions": 5}}
            store.create(definitions, broken)
            assert ("rehearsal.example.test", "Gadget") not in kinds.BY_KIND
        finally:
            server.server_close()
