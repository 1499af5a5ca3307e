"""K8up's and VolSync's contracts as their sources state them (k8up-io/k8up, backube/volsync), exercised against
the rehearsal with the real kubectl.

Each test fails if the rehearsal goes back to a rule the operators do not follow: a Backup that holds a claim
K8up skips or misses one it takes, a restore that does not bring the backed-up files back, a manual trigger that
is not acknowledged in ``status.lastManualSync``, kinds served before their CRDs are installed, or K8up's Backup
taking Velero's place in the kind registry.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from typing import Any

from mediaops.cluster import kinds
from mediaops.sim.manager import watched
from tests.conftest import Cluster
from tests.contracts.conftest import apply, kubectl, ok

BACKEND = {"repoPasswordSecretRef": {"name": "k8up-credentials", "key": "repo-password"},
           "s3": {"endpoint": "http://127.0.2.40:9091", "bucket": "k8up"}}
REPOSITORY = "s3:http://127.0.2.40:9091/k8up"


def get(cluster: Cluster, resource: str, name: str, namespace: str = "media") -> dict[str, Any]:
    return json.loads(ok(kubectl(cluster, "get", resource, name, "-n", namespace, "-o", "json")))


def write(cluster: Cluster, app: str, path: str, text: str) -> None:
    """A file written in the app's container, as an operator would (``kubectl exec -i ... tee``)."""
    ok(kubectl(cluster, "exec", "-i", "-n", "media", f"deploy/{app}", "-c", "main", "--", "tee", path, input=text))


def read(cluster: Cluster, app: str, path: str) -> str:
    return ok(kubectl(cluster, "exec", "-n", "media", f"deploy/{app}", "-c", "main", "--", "cat", path))


def reason(obj: dict[str, Any], type_: str) -> str | None:
    return next((c.get("reason") for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == type_), None)


def wait_completed(cluster: Cluster, resource: str, name: str) -> dict[str, Any]:
    ok(kubectl(cluster, "wait", "--for=condition=Completed", f"{resource}/{name}", "-n", "media", "--timeout=30s"))
    return get(cluster, resource, name)


# -- the registry: K8up's Backup and Restore beside Velero's -----------------------------------------------------
def test_kinds_of_one_name_in_two_groups_are_addressed_by_group() -> None:
    assert kinds.kind("Backup").group == "velero.io" and kinds.kind("Restore").group == "velero.io"
    assert kinds.kind("k8up.io/Backup").plural == "backups" and kinds.kind("k8up.io/Backup").group == "k8up.io"
    assert kinds.kind("volsync.backube/ReplicationSource").version == "v1alpha1"
    assert kinds.BY_PLURAL[("k8up.io", "restores")] is kinds.kind("k8up.io/Restore")
    velero_backup, k8up_backup = kinds.kind("Backup"), kinds.kind("k8up.io/Backup")
    assert watched("Backup", velero_backup) and not watched("Backup", k8up_backup)  # the Velero controller's
    assert watched("k8up.io/Backup", k8up_backup) and not watched("k8up.io/Backup", velero_backup)


def test_their_paths_are_404_until_their_crds_are_installed() -> None:
    """apiextensions-apiserver serves a custom resource once its CRD exists: without K8up's or VolSync's CRDs their
    paths are 404 and discovery does not list their groups; with them, they are served. Velero's too: its chart
    installs them."""
    from mediaops.cluster.kinds import kind
    from mediaops.sim.charts import crds
    from mediaops.sim.server import ApiServer
    from mediaops.sim.store import Store

    store = Store()
    server = ApiServer(store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def status(path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    try:
        for path in ("/apis/k8up.io/v1", "/apis/k8up.io/v1/namespaces/media/backups",
                     "/apis/volsync.backube/v1alpha1/namespaces/media/replicationsources",
                     "/apis/volsync.backube/v1alpha1/replicationdestinations"):
            code, answer = status(path)
            assert code == 404 and answer["reason"] == "NotFound", path
        groups = {g["name"] for g in status("/apis")[1]["groups"]}
        assert not {"velero.io", "k8up.io", "volsync.backube"} & groups
        listed = {c["metadata"]["name"] for c in status("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")[1][
            "items"]}
        assert not {"backups.velero.io", "backups.k8up.io"} & listed
        assert status("/apis/velero.io/v1/namespaces/velero/backups")[0] == 404
        for crd in crds("velero.io"):  # Velero's chart installs them (charts/velero/crds/)
            store.create(kind("CustomResourceDefinition"), crd)
        assert status("/apis/velero.io/v1/namespaces/velero/backups")[0] == 200
        assert status("/apis/velero.io/v1/namespaces/velero/schedules")[0] == 200
        assert status("/apis/k8up.io/v1/namespaces/media/backups")[0] == 404
        for crd in crds("k8up.io"):
            store.create(kind("CustomResourceDefinition"), crd)
        code, listed_backups = status("/apis/k8up.io/v1/namespaces/media/backups")
        assert code == 200 and (listed_backups["kind"], listed_backups["items"]) == ("BackupList", [])
        assert "k8up.io" in {g["name"] for g in status("/apis")[1]["groups"]}
        assert status("/apis/volsync.backube/v1alpha1")[0] == 404
        assert "apis/k8up.io/v1" in status("/openapi/v3")[1]["paths"]
        assert "apis/volsync.backube/v1alpha1" not in status("/openapi/v3")[1]["paths"]
    finally:
        server.shutdown()
        server.server_close()


# -- K8up -----------------------------------------------------------------------------------------------------
def test_the_storage_app_installs_k8up_and_its_schedule_gets_its_effective_schedule(cluster: Cluster) -> None:
    crd = json.loads(ok(kubectl(cluster, "get", "crd", "backups.k8up.io", "-o", "json")))
    assert [c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]] == [
        "Schedule Ref", "Completion", "PreBackup", "Age"]
    assert "No resources found" in kubectl(cluster, "get", "backups.k8up.io", "-n", "media").stderr
    # kubectl's `backups` stays Velero's here (the registry lists Velero first; see docs/rehearsal.md)
    assert "No resources found in velero namespace" in kubectl(cluster, "get", "backups", "-n", "velero").stderr
    schedule = get(cluster, "schedules.k8up.io", "media-daily", "storage")
    seed = int(hashlib.sha1(b"storage/media-daily@backup").hexdigest(), 16)
    assert schedule["status"]["effectiveSchedules"] == [{"jobType": "backup",
                                                         "generatedSchedule": f"{seed % 60} {seed % 24} * * *"}]
    assert reason(schedule, "Ready") == "Ready" and schedule["metadata"]["finalizers"] == ["k8up.io/schedule"]


def test_a_backup_completes_with_snapshots_and_a_restore_brings_the_old_data_back(credentials: Cluster) -> None:
    cluster = credentials
    write(cluster, "tautulli", "/config/notes.txt", "before the upgrade\n")
    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "media"},
                    "spec": {"backend": BACKEND}})
    backup = wait_completed(cluster, "backups.k8up.io", "nightly")
    assert reason(backup, "Completed") == "Succeeded" and reason(backup, "Progressing") == "Finished"
    assert reason(backup, "PreBackupPodReady") == "NoPreBackupPodsFound" and reason(backup, "Ready") is None
    assert backup["status"]["started"] is True and backup["status"]["finished"] is True
    # One Job for the node the app's running pods are on, both claims mounted under /data.
    (job,) = json.loads(ok(kubectl(cluster, "get", "jobs", "-n", "media", "-l", "k8up.io/owned-by=backup_nightly",
                                   "-o", "json")))["items"]
    assert job["metadata"]["name"] == "backup-nightly-0" and job["metadata"]["labels"]["k8up.io/type"] == "backup"
    pod = json.loads(ok(kubectl(cluster, "get", "pods", "-n", "media", "-l", "app.kubernetes.io/name=tautulli",
                                "-o", "json")))["items"][0]
    template = job["spec"]["template"]["spec"]
    assert template["nodeSelector"] == {"kubernetes.io/hostname": pod["spec"]["nodeName"]}
    assert {m["mountPath"] for m in template["containers"][0]["volumeMounts"]} == {
        "/data/tautulli-config", "/data/calibre-web-config"}
    snapshots = json.loads(ok(kubectl(cluster, "get", "snapshots.k8up.io", "-n", "media", "-o", "json")))["items"]
    by_path = {s["spec"]["paths"][0]: s for s in snapshots}
    assert set(by_path) == {"/data/tautulli-config", "/data/calibre-web-config"}
    ours = by_path["/data/tautulli-config"]
    assert ours["metadata"]["name"] == ours["spec"]["id"][:8] and ours["spec"]["repository"] == REPOSITORY
    assert ours["spec"]["date"].endswith("Z")
    listed = ok(kubectl(cluster, "get", "backups.k8up.io", "-n", "media")).splitlines()
    assert listed[0].split() == ["NAME", "SCHEDULE", "REF", "COMPLETION", "PREBACKUP", "AGE"]
    assert listed[1].split()[:3] == ["nightly", "Succeeded", "NoPreBackupPodsFound"]

    write(cluster, "tautulli", "/config/notes.txt", "after the upgrade\n")
    write(cluster, "tautulli", "/config/new.txt", "made later\n")
    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Restore", "metadata": {"name": "back", "namespace": "media"},
                    "spec": {"backend": BACKEND, "snapshot": ours["spec"]["id"][:8],
                             "restoreMethod": {"folder": {"claimName": "tautulli-config"}}}})
    restore = wait_completed(cluster, "restores.k8up.io", "back")
    assert reason(restore, "Completed") == "Succeeded"
    assert read(cluster, "tautulli", "/config/notes.txt") == "before the upgrade\n"
    assert read(cluster, "tautulli", "/config/new.txt") == "made later\n"  # restic restore without --delete
    assert "[General]" in read(cluster, "tautulli", "/config/config.ini")  # the path trimmed: at the claim's root
    (restore_job,) = json.loads(ok(kubectl(cluster, "get", "jobs", "-n", "media", "-l",
                                           "k8up.io/owned-by=restore_back", "-o", "json")))["items"]
    assert restore_job["metadata"]["name"] == "restore-back"
    assert restore_job["metadata"]["labels"]["k8up.io/exclusive"] == "true"

    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Restore",
                    "metadata": {"name": "nowhere", "namespace": "media"},
                    "spec": {"backend": BACKEND, "snapshot": "deadbeef",
                             "restoreMethod": {"folder": {"claimName": "tautulli-config"}}}})
    failed = wait_completed(cluster, "restores.k8up.io", "nowhere")
    assert reason(failed, "Completed") == "Failed"  # restic: "no Snapshot found with ID deadbeef"
    assert read(cluster, "tautulli", "/config/notes.txt") == "before the upgrade\n"


def _claim(name: str, *, modes: list[str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "media", "labels": {"rehearsal": "selection"},
                         "annotations": annotations or {}},
            "spec": {"accessModes": modes, "resources": {"requests": {"storage": "1Gi"}}}}


def test_a_backup_takes_the_claims_k8up_selects_and_nothing_of_the_others(credentials: Cluster) -> None:
    """executor.go listAndFilterPVCs: a claim no pod mounts is still backed up (the Job mounts it); one annotated
    ``k8up.io/backup: "false"`` (or a value ParseBool rejects), and one neither RWX nor RWO without the
    annotation, are not."""
    cluster = credentials
    apply(cluster, _claim("unmounted", modes=["ReadWriteOnce"]),
          _claim("opted-out", modes=["ReadWriteOnce"], annotations={"k8up.io/backup": "false"}),
          _claim("garbled", modes=["ReadWriteMany"], annotations={"k8up.io/backup": "yes please"}),
          _claim("read-only", modes=["ReadOnlyMany"]),
          _claim("opted-in", modes=["ReadOnlyMany"], annotations={"k8up.io/backup": "true"}))
    for name in ("unmounted", "opted-out", "garbled", "read-only", "opted-in"):
        ok(kubectl(cluster, "wait", "--for=jsonpath={.status.phase}=Bound", f"pvc/{name}", "-n", "media",
                   "--timeout=20s"))
        cluster.sim.volumes[("pvc", "media", name)] = {"data.txt": f"{name}\n".encode()}
    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Backup", "metadata": {"name": "picky", "namespace": "media"},
                    "spec": {"backend": BACKEND, "labelSelectors": [{"matchLabels": {"rehearsal": "selection"}}]}})
    backup = wait_completed(cluster, "backups.k8up.io", "picky")
    assert reason(backup, "Completed") == "Succeeded"
    (job,) = json.loads(ok(kubectl(cluster, "get", "jobs", "-n", "media", "-l", "k8up.io/owned-by=backup_picky",
                                   "-o", "json")))["items"]
    claims = sorted(v["persistentVolumeClaim"]["claimName"] for v in job["spec"]["template"]["spec"]["volumes"])
    assert claims == ["opted-in", "unmounted"]
    assert "nodeSelector" not in job["spec"]["template"]["spec"]  # no pod pins it, no PV affinity
    paths = {s["spec"]["paths"][0] for s in json.loads(ok(kubectl(
        cluster, "get", "snapshots.k8up.io", "-n", "media", "-o", "json")))["items"]}
    assert paths == {"/data/unmounted", "/data/opted-in"}
    held = {tuple(s["paths"]) for s in cluster.sim.repositories[REPOSITORY]}
    assert held == {("/data/unmounted",), ("/data/opted-in",)}  # nothing recorded of the skipped claims

    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Backup", "metadata": {"name": "none", "namespace": "media"},
                    "spec": {"backend": BACKEND, "labelSelectors": [{"matchLabels": {"rehearsal": "nothing"}}]}})
    nothing = wait_completed(cluster, "backups.k8up.io", "none")
    completed = next(c for c in nothing["status"]["conditions"] if c["type"] == "Completed")
    assert (completed["reason"], completed["message"]) == ("Succeeded", "nothing to backup")
    assert "No resources found" in kubectl(cluster, "get", "jobs", "-n", "media", "-l",
                                           "k8up.io/owned-by=backup_none").stderr


def test_a_schedule_creates_backups_it_owns(credentials: Cluster) -> None:
    cluster = credentials
    apply(cluster, {"apiVersion": "k8up.io/v1", "kind": "Schedule", "metadata": {"name": "often", "namespace": "media"},
                    "spec": {"backend": BACKEND, "backup": {"schedule": "@every 1s",
                                                            "labelSelectors": [{"matchLabels": {"none": "x"}}]}}})
    ok(kubectl(cluster, "wait", "--for=create", "backups.k8up.io", "-l", "k8up.io/schedule-name=often", "-n",
               "media", "--timeout=30s"))
    made = json.loads(ok(kubectl(cluster, "get", "backups.k8up.io", "-n", "media", "-l",
                                 "k8up.io/schedule-name=often", "-o", "json")))["items"][0]
    assert made["metadata"]["name"].startswith("often-backup-") and len(made["metadata"]["name"]) == len(
        "often-backup-") + 5
    assert made["metadata"]["ownerReferences"][0]["kind"] == "Schedule"
    assert made["spec"]["backend"] == BACKEND  # the Schedule's backend, merged in
    ok(kubectl(cluster, "delete", "schedules.k8up.io", "often", "-n", "media", "--timeout=20s"))  # the finalizer goes


# -- VolSync ----------------------------------------------------------------------------------------------------
def _synced(cluster: Cluster, resource: str, name: str, tag: str) -> dict[str, Any]:
    ok(kubectl(cluster, "wait", f"--for=jsonpath={{.status.lastManualSync}}={tag}", f"{resource}/{name}", "-n",
               "media", "--timeout=30s"))
    ok(kubectl(cluster, "wait", "--for=jsonpath={.status.conditions[0].reason}=WaitingForManual",
               f"{resource}/{name}", "-n", "media", "--timeout=30s"))
    return get(cluster, resource, name)


def test_a_manual_trigger_syncs_and_a_destination_restores_into_the_claim(volsync: Cluster) -> None:
    cluster = volsync
    assert "No resources found" in kubectl(cluster, "get", "replicationsources", "-n", "media").stderr
    write(cluster, "tautulli", "/config/notes.txt", "first\n")
    apply(cluster, {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
                    "metadata": {"name": "tautulli", "namespace": "media"},
                    "spec": {"sourcePVC": "tautulli-config", "trigger": {"manual": "one"},
                             "restic": {"repository": "restic-tautulli", "copyMethod": "Snapshot",
                                        "retain": {"last": 5}}}})
    source = _synced(cluster, "replicationsource", "tautulli", "one")
    status = source["status"]
    assert status["lastSyncTime"].endswith("Z") and "lastSyncStartTime" not in status
    assert status["latestMoverStatus"]["result"] == "Successful"
    assert "snapshot " in status["latestMoverStatus"]["logs"] and " saved" in status["latestMoverStatus"]["logs"]
    assert next(c for c in status["conditions"] if c["type"] == "Synchronizing")["status"] == "False"
    # Cleaned up: the mover Job and the temporary snapshot and copy are gone, the cache claim stays.
    claims = {c["metadata"]["name"] for c in json.loads(ok(kubectl(cluster, "get", "pvc", "-n", "media", "-o",
                                                                   "json")))["items"]}
    assert "volsync-src-tautulli-cache" in claims and "volsync-tautulli-src" not in claims
    assert "No resources found" in kubectl(cluster, "get", "jobs", "-n", "media", "-l",
                                           "app.kubernetes.io/created-by=volsync").stderr
    listed = ok(kubectl(cluster, "get", "replicationsources", "-n", "media")).splitlines()
    assert listed[0].split() == ["NAME", "SOURCE", "LAST", "SYNC", "DURATION", "NEXT", "SYNC"]
    assert listed[1].split()[:2] == ["tautulli", "tautulli-config"]

    write(cluster, "tautulli", "/config/notes.txt", "second\n")
    ok(kubectl(cluster, "patch", "replicationsource", "tautulli", "-n", "media", "--type=merge", "-p",
               '{"spec":{"trigger":{"manual":"two"}}}'))
    second = _synced(cluster, "replicationsource", "tautulli", "two")
    assert second["status"]["lastSyncTime"] >= status["lastSyncTime"]
    write(cluster, "tautulli", "/config/notes.txt", "broken\n")

    apply(cluster, {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationDestination",
                    "metadata": {"name": "tautulli-dst", "namespace": "media"},
                    "spec": {"trigger": {"manual": "restore-1"},
                             "restic": {"repository": "restic-tautulli", "destinationPVC": "tautulli-config",
                                        "copyMethod": "Direct", "previous": 1}}})
    destination = _synced(cluster, "replicationdestination", "tautulli-dst", "restore-1")
    assert read(cluster, "tautulli", "/config/notes.txt") == "first\n"  # one snapshot further back
    assert destination["status"]["latestImage"] == {"apiGroup": "", "kind": "PersistentVolumeClaim",
                                                    "name": "tautulli-config"}
    assert "restoring <Snapshot" in destination["status"]["latestMoverStatus"]["logs"]
    ok(kubectl(cluster, "patch", "replicationdestination", "tautulli-dst", "-n", "media", "--type=merge", "-p",
               '{"spec":{"trigger":{"manual":"restore-2"},"restic":{"previous":null}}}'))
    _synced(cluster, "replicationdestination", "tautulli-dst", "restore-2")
    assert read(cluster, "tautulli", "/config/notes.txt") == "second\n"  # the latest


def test_a_destination_of_its_own_holds_an_image_a_new_claim_is_populated_from(volsync: Cluster) -> None:
    cluster = volsync
    write(cluster, "tautulli", "/config/notes.txt", "kept\n")
    apply(cluster, {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
                    "metadata": {"name": "tautulli", "namespace": "media"},
                    "spec": {"sourcePVC": "tautulli-config", "trigger": {"manual": "one"},
                             "restic": {"repository": "restic-tautulli", "copyMethod": "Direct"}}})
    _synced(cluster, "replicationsource", "tautulli", "one")
    apply(cluster, {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationDestination",
                    "metadata": {"name": "elsewhere", "namespace": "media"},
                    "spec": {"trigger": {"manual": "go"}, "restic": {"repository": "missing-secret",
                                                                     "copyMethod": "Snapshot"}}})
    ok(kubectl(cluster, "wait", "--for=jsonpath={.status.conditions[0].reason}=Error", "replicationdestination/"
               "elsewhere", "-n", "media", "--timeout=30s"))
    errored = get(cluster, "replicationdestination", "elsewhere")
    assert errored["status"]["conditions"][0]["message"] == "accessModes must be provided when destinationPVC is not"
    ok(kubectl(cluster, "patch", "replicationdestination", "elsewhere", "-n", "media", "--type=merge", "-p",
               '{"spec":{"restic":{"accessModes":["ReadWriteOnce"],"capacity":"1Gi"}}}'))
    ok(kubectl(cluster, "wait", '--for=jsonpath={.status.conditions[0].message}=secrets "missing-secret" not found',
               "replicationdestination/elsewhere", "-n", "media", "--timeout=30s"))
    ok(kubectl(cluster, "patch", "replicationdestination", "elsewhere", "-n", "media", "--type=merge", "-p",
               '{"spec":{"restic":{"repository":"restic-tautulli"}}}'))
    destination = _synced(cluster, "replicationdestination", "elsewhere", "go")
    image = destination["status"]["latestImage"]
    assert image["apiGroup"] == "snapshot.storage.k8s.io" and image["kind"] == "VolumeSnapshot"
    assert image["name"].startswith("volsync-elsewhere-dest-")
    assert get(cluster, "volumesnapshot", image["name"])["status"]["readyToUse"] is True
    assert cluster.sim.volumes[("pvc", "media", "volsync-elsewhere-dest")] == cluster.sim.volumes[
        ("pvc", "media", "tautulli-config")]
    apply(cluster, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "restored", "namespace": "media"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                             "dataSourceRef": {"apiGroup": "volsync.backube", "kind": "ReplicationDestination",
                                               "name": "elsewhere"}}})
    assert cluster.sim.volumes[("pvc", "media", "restored")]["notes.txt"] == b"kept\n"
