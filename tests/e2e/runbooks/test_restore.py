"""restore end to end on the rehearsal: the data comes back as the chosen backup holds it, in the safe order,
and an abort at any step before the data is gone leaves the app as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pexpect
import pytest

from tests.conftest import KUBECTL, Cluster, Mediaops, answer, kubectl, read, run_steps
from tests.e2e.runbooks.conftest import VOLSYNC_SECRET, volsync_source
from tests.e2e.runbooks.conftest import apply as _apply


def _exec(ops: Mediaops, *command: str, stdin: str | None = None) -> str:
    result = subprocess.run([KUBECTL, "exec", "-i" if stdin is not None else "-q", "-n", "media", "deploy/tautulli",
                             "--", *command], input=stdin, env=ops.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _backup(ops: Mediaops, name: str) -> None:
    body = {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": name, "namespace": "velero"},
            "spec": {"includedNamespaces": ["media"], "defaultVolumesToFsBackup": True}}
    created = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(body), env=ops.env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    done = kubectl(ops, "wait", "--for=jsonpath={.status.phase}=Completed", f"backup/{name}", "-n", "velero",
                   "--timeout=60s")
    assert done.returncode == 0, done.stderr


def _replicas(ops: Mediaops) -> int:
    return int(read(ops, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
               ["spec"]["replicas"])


def test_restore_brings_back_the_chosen_backups_data(sim: Mediaops) -> None:
    refused = sim.run("run", "restore", "tautulli", "--yes")
    why = "no Completed Velero backup nor K8up snapshot holds the data of tautulli-config"
    assert refused.returncode == 3 and why in " ".join(refused.stdout.split())
    _exec(sim, "tee", "/config/tautulli.db", stdin="monday\n")
    _backup(sim, "nightly-monday")
    _exec(sim, "tee", "/config/tautulli.db", stdin="tuesday\n")
    _backup(sim, "nightly-tuesday")
    _exec(sim, "tee", "/config/tautulli.db", stdin="corrupted by a bad migration\n")
    preview = sim.run("run", "restore", "tautulli", "--backup", "nightly-monday", "--dry-run")
    text = preview.stdout
    assert preview.returncode == 0 and "--from-backup nightly-monday" in text and "<" not in text.split("summary")[0]
    order = [text.index(s) for s in ("flux suspend kustomization tautulli", "kubectl scale deployment/tautulli",
                                     "kubectl wait --for=delete pod", "kubectl delete pvc tautulli-config",
                                     "velero restore create", "flux resume helmrelease tautulli",
                                     "flux resume kustomization tautulli")]
    assert order == sorted(order)
    done = sim.run("run", "restore", "tautulli", "--backup", "nightly-monday", "--yes")
    assert done.returncode == 0, done.stdout[-2500:]
    assert _exec(sim, "cat", "/config/tautulli.db") == "monday\n"
    assert _replicas(sim) == 1
    ks = read(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json")
    assert not ks["spec"].get("suspend") and not (ks["metadata"].get("annotations") or {}).get(
        "mediaops.io/suspended-by")
    report = sim.run("runs", "show", "last", "--markdown").stdout
    assert "velero restore create nightly-monday-restore-" in report and "kubectl delete pvc tautulli-config" in report
    # Without --backup: the newest that holds the data (seconds are Velero's resolution: either, on a tie).
    stamps = {b["metadata"]["name"]: b["status"]["completionTimestamp"] for b in json.loads(
        kubectl(sim, "get", "backups", "-n", "velero", "-o", "json").stdout)["items"]}
    newest = sim.run("run", "restore", "tautulli", "--dry-run").stdout
    chosen = next(name for name in stamps if f"--from-backup {name} " in newest)
    assert stamps[chosen] == max(stamps.values())


def test_an_abort_before_the_claims_go_leaves_the_app_running(sim: Mediaops) -> None:
    _exec(sim, "tee", "/config/tautulli.db", stdin="kept\n")
    _backup(sim, "nightly")
    child = sim.spawn("run", "restore", "tautulli", timeout=60)
    child.expect("step 1/")
    child.expect("Run this step")
    answer(child, "r")  # suspend
    child.expect("step 2/")
    child.expect("Run this step")
    answer(child, "r")  # scale to 0
    child.expect("step 4/")
    child.expect("Run this step")
    answer(child, "a")  # abort before deleting the claims
    child.expect("Undo the 2 completed step")
    answer(child, "y")
    child.expect(pexpect.EOF)
    child.close()
    assert _replicas(sim) == 1
    assert _exec(sim, "cat", "/config/tautulli.db") == "kept\n"
    ks = read(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json")
    assert not ks["spec"].get("suspend")


def test_restore_from_k8up_snapshots_writes_into_the_existing_claim(sim: Mediaops) -> None:
    """K8up restores into the claim (restoreMethod.folder): no claim is deleted, the Restore is shown as the
    manifest applied, and the data is the snapshot's."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="k8up monday\n")
    # The sample's Schedule lands in storage (its Kustomization's targetNamespace): its backend, for media.
    schedule = read(sim, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json")
    body = {"apiVersion": "k8up.io/v1", "kind": "Backup", "metadata": {"name": "by-hand", "namespace": "media"},
            "spec": {"backend": schedule["spec"]["backend"]}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(body), env=sim.env, text=True,
                          capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert kubectl(sim, "wait", "--for=condition=Completed", "backups.k8up.io/by-hand", "-n", "media",
                   "--timeout=60s").returncode == 0
    _exec(sim, "tee", "/config/tautulli.db", stdin="broken\n")
    preview = sim.run("run", "restore", "tautulli", "--dry-run").stdout
    assert "kind: Restore" in preview and "claimName: tautulli-config" in preview
    # Known from the facts before anything runs: the preview says so, never "kubectl delete pvc … would run".
    assert "kubectl delete pvc" not in preview and "restores into the existing claims" in " ".join(preview.split())
    done = sim.run("run", "restore", "tautulli", "--yes", "--json")
    assert done.returncode == 0, done.stdout[-2500:]
    ends = {e["title"]: e for e in map(json.loads, done.stdout.splitlines()) if e["event"] == "step_end"}
    deleted = ends["Delete the claims whose data the backup holds"]
    assert deleted["outcome"] == "not_needed" and "K8up restores into the existing claims" in deleted["summary"]
    assert _exec(sim, "cat", "/config/tautulli.db") == "k8up monday\n"
    assert _replicas(sim) == 1
    restores = read(sim, "get", "restores.k8up.io", "-n", "media", "-o", "json")["items"]
    assert [r["spec"]["restoreMethod"]["folder"]["claimName"] for r in restores] == ["tautulli-config"]


def test_after_the_claims_are_gone_the_way_back_is_forward(sim: Mediaops) -> None:
    """An abort after the claims are deleted undoes nothing (resuming Flux would make them again, empty): the
    run says so, and `resume` finishes it with the data back."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="precious\n")
    _backup(sim, "nightly")
    child = sim.spawn("run", "restore", "tautulli", timeout=60)
    for _ in range(3):  # suspend, scale to 0, delete the claims (the wait between asks nothing)
        child.expect("Run this step")
        answer(child, "r")
    child.expect("step 5/")
    child.expect("Run this step")
    answer(child, "a")
    child.expect("there is no way back from it")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert kubectl(sim, "get", "pvc", "tautulli-config", "-n", "media").returncode != 0  # not made again, empty
    ks = read(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json")
    assert ks["spec"].get("suspend") is True  # Flux still held off
    undo = sim.run("undo", "last", "--yes")
    assert undo.returncode == 1 and "there is no way back" in " ".join(undo.stdout.split())
    done = sim.run("resume", "last", "--yes")
    assert done.returncode == 0, done.stdout[-2500:]
    assert _exec(sim, "cat", "/config/tautulli.db") == "precious\n"
    assert _replicas(sim) == 1


# -- VolSync ----------------------------------------------------------------------------------------------------
# A restic ReplicationSource of tautulli's claim as the home-ops volsync component writes it (onedr0p/home-ops
# kubernetes/components/volsync/replicationsource.yaml: `${APP}` backing up the claim, copyMethod Snapshot), on a
# manual trigger here so the test says when it syncs, and keeping the last 7 snapshots (the component's `hourly: 24`
# would forget a snapshot when a later one is taken within the same hour, as restic forget --keep-hourly does).
def _volsync_backup(ops: Mediaops, data: str) -> str:
    """VolSync installed, tautulli's claim holding ``data`` backed up by its ReplicationSource; its lastSyncTime."""
    _exec(ops, "tee", "/config/tautulli.db", stdin=data)
    volsync_source(ops, {"manual": "before-the-migration"})
    synced = kubectl(ops, "wait", "--for=jsonpath={.status.lastManualSync}=before-the-migration",
                     "replicationsource/tautulli", "-n", "media", "--timeout=60s")
    assert synced.returncode == 0, synced.stderr
    source = read(ops, "get", "replicationsource", "tautulli", "-n", "media", "-o", "json")
    return str(source["status"]["lastSyncTime"])


def _corrupt(ops: Mediaops) -> None:
    _exec(ops, "tee", "/config/tautulli.db", stdin="corrupted by a bad migration\n")
    _exec(ops, "tee", "/config/migration.log", stdin="made after the backup\n")


def _has_file(ops: Mediaops, path: str) -> bool:
    return subprocess.run([KUBECTL, "exec", "-q", "-n", "media", "deploy/tautulli", "--", "test", "-f", path],
                          env=ops.env, capture_output=True, text=True, timeout=60).returncode == 0


def _flux_suspended(ops: Mediaops) -> list[str]:
    found = []
    for kind in ("kustomization", "helmrelease"):
        obj = read(ops, "get", kind, "tautulli", "-n", "media", "-o", "json")
        if obj["spec"].get("suspend") or (obj["metadata"].get("annotations") or {}).get("mediaops.io/suspended-by"):
            found.append(kind)
    return found


def _destinations(ops: Mediaops) -> list[str]:
    listed = read(ops, "get", "replicationdestinations", "-n", "media", "-o", "json")
    return [d["metadata"]["name"] for d in listed["items"]]


def _running_as_before(ops: Mediaops) -> None:
    ready = kubectl(ops, "rollout", "status", "deployment/tautulli", "-n", "media", "--timeout=60s")
    assert ready.returncode == 0, ready.stderr
    assert _replicas(ops) == 1 and _flux_suspended(ops) == []


def test_restore_from_volsync_writes_the_snapshot_into_the_claim(sim: Mediaops) -> None:
    """VolSync's restore as home-ops runs it: a one-off ReplicationDestination into the existing claim
    (destinationPVC, Direct, enableFileDeletion), pinned to the chosen sync (restoreAsOf), triggered once and
    waited for (lastManualSync), then deleted; the claim holds the snapshot's files and only those."""
    synced_at = _volsync_backup(sim, "volsync monday\n")
    _corrupt(sim)
    preview = sim.run("run", "restore", "tautulli", "--dry-run")
    text = preview.stdout
    assert preview.returncode == 0, text[-2500:]
    assert "volsync tautulli, finished" in " ".join(text.split())
    for shown in ("kind: ReplicationDestination", "name: tautulli-restore", "destinationPVC: tautulli-config",
                  "copyMethod: Direct", "enableFileDeletion: true", f"restoreAsOf: '{synced_at}'",
                  "repository: tautulli-volsync-secret", "runAsUser: 568",
                  "kubectl wait --for=jsonpath='{.status.lastManualSync}'=mediaops-"):
        assert shown in text, shown
    done = sim.run("run", "restore", "tautulli", "--backup", "volsync", "--yes", "--json")
    assert done.returncode == 0, done.stdout[-2500:]
    ends = {e["title"]: e for e in map(json.loads, done.stdout.splitlines()) if e["event"] == "step_end"}
    deleted = ends["Delete the claims whose data the backup holds"]
    assert deleted["outcome"] == "not_needed" and "VolSync restores into the existing claims" in deleted["summary"]
    restored = ends["Restore from the backup"]
    assert restored["outcome"] == "done" and "claim tautulli-config restored from restic snapshot" in restored[
        "summary"]
    assert ends["Delete the one-off ReplicationDestinations"]["outcome"] == "done"
    assert _exec(sim, "cat", "/config/tautulli.db") == "volsync monday\n"
    assert not _has_file(sim, "/config/migration.log")  # enableFileDeletion: restic restore --delete
    _running_as_before(sim)
    assert _destinations(sim) == []
    claim = read(sim, "get", "pvc", "tautulli-config", "-n", "media", "-o", "json")
    assert not claim["metadata"].get("deletionTimestamp")  # the same claim, written into
    report = sim.run("runs", "show", "last", "--markdown").stdout
    assert "kind: ReplicationDestination" in report
    assert "kubectl delete replicationdestination tautulli-restore" in report
    # --backup names VolSync by its ReplicationSource, too; an unknown name is refused before anything runs.
    assert "volsync tautulli" in sim.run("run", "restore", "tautulli", "--backup", "tautulli", "--dry-run").stdout
    refused = sim.run("run", "restore", "tautulli", "--backup", "nightly", "--dry-run")
    assert refused.returncode == 3 and "those that do: volsync tautulli" in " ".join(refused.stdout.split())
    # What the preview shows for the restore, pasted into a shell, does what the step does.
    _corrupt(sim)
    planned = sim.run("run", "restore", "tautulli", "--dry-run", "--json")
    assert planned.returncode == 0, planned.stdout[-2500:]
    (shown,) = [e["command"] for e in map(json.loads, planned.stdout.splitlines())
                if e["event"] == "step_plan" and e["title"] == "Restore from the backup"]
    pasted = subprocess.run(["bash", "-euo", "pipefail", "-c", shown], capture_output=True, text=True, timeout=120,
                            env={**sim.env, "PATH": f"{Path(KUBECTL).parent}{os.pathsep}{sim.env['PATH']}"})
    assert pasted.returncode == 0, (shown, pasted.stderr)
    assert "restoring <Snapshot" in pasted.stdout
    assert _exec(sim, "cat", "/config/tautulli.db") == "volsync monday\n"
    assert not _has_file(sim, "/config/migration.log")


# The VolSync restore's prompts: hold Flux off (1), stop (2), restore (5), delete the one-off destination (6), scale
# back (7), resume Flux (8); the pods-gone wait (3) asks nothing and deleting claims (4) is not needed.
PROMPTED = (1, 2, 5, 6, 7, 8)


@pytest.mark.parametrize("aborted_at", PROMPTED)
def test_an_abort_at_any_step_of_a_volsync_restore_leaves_the_app_running(sim: Mediaops, aborted_at: int) -> None:
    """Aborted at each step's prompt and undone: the app runs with its replicas, Flux manages it again, no one-off
    ReplicationDestination is left, and the data is the backup's once the restore step ran (else as it was)."""
    _volsync_backup(sim, "volsync monday\n")
    _corrupt(sim)
    child = sim.spawn("run", "restore", "tautulli", timeout=60)
    ran = [step for step in PROMPTED if step < aborted_at]
    for step in ran:
        child.expect(f"step {step}/")
        child.expect("Run this step")
        answer(child, "r")
    child.expect(f"step {aborted_at}/")
    child.expect("Run this step")
    answer(child, "a")
    if ran:
        child.expect(f"Undo the {len(ran)} completed step")
        answer(child, "y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    _running_as_before(sim)
    assert _destinations(sim) == []
    restored = aborted_at > 5
    assert _exec(sim, "cat", "/config/tautulli.db") == ("volsync monday\n" if restored
                                                         else "corrupted by a bad migration\n")
    assert _has_file(sim, "/config/migration.log") is not restored


def _interrupted_at(ops: Mediaops, step: int) -> None:
    """A restore that held Flux off and stopped the app, interrupted (SIGTERM) at step ``step``'s prompt."""
    child = ops.spawn("run", "restore", "tautulli", timeout=60)
    run_steps(child, 2)  # hold Flux off, stop
    child.expect(f"step {step}/")
    child.expect("Run this step")
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()


def test_an_interrupted_volsync_restore_resumes_from_its_chosen_sync_and_never_triggers_twice(sim: Mediaops) -> None:
    """Interrupted (SIGTERM) before the restore, while a scheduled sync backs up the broken data: `mediaops resume`
    restores the sync the run chose, not the newer one. There the repository Secret is missing, the
    ReplicationDestination errs (Synchronizing False Error) and the step fails with VolSync's message; once the
    Secret is back VolSync syncs the trigger on its own, and the retry waits for that very trigger instead of
    setting another."""
    _volsync_backup(sim, "volsync monday\n")
    _corrupt(sim)
    _interrupted_at(sim, 5)
    assert _replicas(sim) == 0 and _flux_suspended(sim) == ["kustomization", "helmrelease"]
    # Meanwhile the ReplicationSource syncs the claim as it is (broken), and the repository Secret goes.
    patched = kubectl(sim, "patch", "replicationsource", "tautulli", "-n", "media", "--type=merge", "-p",
                      '{"spec":{"trigger":{"manual":"while-stopped"}}}')
    assert patched.returncode == 0, patched.stderr
    assert kubectl(sim, "wait", "--for=jsonpath={.status.lastManualSync}=while-stopped", "replicationsource/tautulli",
                   "-n", "media", "--timeout=60s").returncode == 0
    gone = kubectl(sim, "delete", "secret", "tautulli-volsync-secret", "-n", "media")
    assert gone.returncode == 0, gone.stderr
    child = sim.spawn("resume", "last", timeout=60)
    child.expect("step 5/")
    child.expect("Run this step")
    answer(child, "r")
    child.expect('secrets "tautulli-volsync-secret" not found')
    child.expect("The step failed. What now")
    destination = read(sim, "get", "replicationdestination", "tautulli-restore", "-n", "media", "-o",
                                     "json")
    trigger = destination["spec"]["trigger"]["manual"]
    _apply(sim, VOLSYNC_SECRET)  # VolSync tries again on its own and syncs the trigger
    synced = kubectl(sim, "wait", f"--for=jsonpath={{.status.lastManualSync}}={trigger}",
                     "replicationdestination/tautulli-restore", "-n", "media", "--timeout=60s")
    assert synced.returncode == 0, synced.stderr
    answer(child, "t")  # retry
    child.expect("step 6/")
    child.expect("Run this step")
    after = read(sim, "get", "replicationdestination", "tautulli-restore", "-n", "media", "-o",
                               "json")
    assert after["metadata"]["generation"] == destination["metadata"]["generation"]  # the spec never set again
    answer(child, "c")  # the rest without asking
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    _running_as_before(sim)
    assert _destinations(sim) == []
    assert _exec(sim, "cat", "/config/tautulli.db") == "volsync monday\n"
    assert not _has_file(sim, "/config/migration.log")
    (journal,) = sim.journals().values()
    ends = [e for e in journal if e["event"] == "step_end" and e["title"] == "Restore from the backup"]
    assert [e["outcome"] for e in ends] == ["failed", "done"]
    assert f"trigger {trigger} was set before, not again" in ends[1]["summary"]


def test_volsyncs_restore_operation_fails_clearly_takes_over_its_own_and_never_triggers_twice(
        cluster: Cluster) -> None:
    """mediaops/cluster/volsync.py's Restore against the rehearsal, in-process: a restoreAsOf older than every
    snapshot ends "No eligible snapshots found" (the mover succeeds, nothing is restored: the wait fails and says
    so); a destination someone else made is left alone; mediaops's own is given the new trigger and restores; the
    same trigger again waits for the sync already done instead of setting it anew."""
    from mediaops.cluster import volsync
    from mediaops.cluster.waits import Verdict, WaitFailed, until
    from mediaops.engine.context import Context
    from mediaops.engine.events import Emitter

    kube, volumes = cluster.kube, cluster.sim.volumes
    cluster.sim.set_fault("volsync-installed", "on")
    assert volsync.sources_of(kube, "media", ["tautulli-config"]) == {}
    kube.create("Secret", VOLSYNC_SECRET, "media")
    volumes[("pvc", "media", "tautulli-config")]["tautulli.db"] = b"kept\n"
    kube.create(volsync.SOURCE, {"metadata": {"name": "tautulli", "namespace": "media"},
                                 "spec": {"sourcePVC": "tautulli-config", "trigger": {"manual": "one"},
                                          "restic": {"repository": "tautulli-volsync-secret",
                                                     "copyMethod": "Direct"}}}, "media")
    ctx = Context({}, emitter=Emitter("test", []))
    with ctx.waiting("backup") as waiting:
        until(kube, volsync.SOURCE, "tautulli", "media",
              lambda obj: Verdict(done=(obj or {}).get("status", {}).get("lastManualSync") == "one"), timeout=30,
              waiting=waiting)
    (source,) = volsync.sources_of(kube, "media", ["tautulli-config"]).values()
    settings = volsync.restic_settings(source)
    assert settings == {"repository": "tautulli-volsync-secret"}
    volumes[("pvc", "media", "tautulli-config")]["tautulli.db"] = b"broken\n"

    def restore(trigger: str, as_of: str) -> volsync.Restore:
        return volsync.Restore(kube, "media", "tautulli-restore", "tautulli", "tautulli-config", trigger, settings,
                               as_of)

    with pytest.raises(WaitFailed, match="no snapshot in the repository as old as 2001-01-01T00:00:00Z "
                                         r"\(No eligible snapshots found\): the claim was left as it was"):
        restore("too-early", "2001-01-01T00:00:00Z").run(ctx)
    assert volumes[("pvc", "media", "tautulli-config")]["tautulli.db"] == b"broken\n"

    theirs = kube.find(volsync.DESTINATION, "tautulli-restore", "media")
    assert theirs is not None
    kube.update(volsync.DESTINATION, "tautulli-restore", lambda o: o["metadata"]["labels"].clear(), "media")
    with pytest.raises(volsync.VolSyncError, match="is not mediaops's"):
        restore("mine", volsync.last_sync(source)).run(ctx)
    kube.update(volsync.DESTINATION, "tautulli-restore",
                lambda o: o["metadata"]["labels"].update({volsync.MANAGED_BY: "mediaops"}), "media")

    done = restore("mine", volsync.last_sync(source)).run(ctx)
    assert done.startswith("claim tautulli-config restored from restic snapshot ") and "not again" not in done
    assert volumes[("pvc", "media", "tautulli-config")]["tautulli.db"] == b"kept\n"
    synced = kube.get(volsync.DESTINATION, "tautulli-restore", "media")
    assert synced["spec"]["restic"]["restoreAsOf"] == volsync.last_sync(source)
    again = restore("mine", volsync.last_sync(source)).run(ctx)
    assert again.endswith("trigger mine was set before, not again")
    after = kube.get(volsync.DESTINATION, "tautulli-restore", "media")
    assert (after["metadata"]["generation"], after["status"]["lastSyncTime"]) == (
        synced["metadata"]["generation"], synced["status"]["lastSyncTime"])
    volsync.DeleteDestination(kube, "media", "tautulli-restore").run(ctx)
    assert kube.find(volsync.DESTINATION, "tautulli-restore", "media") is None


# -- an abort at every step, Velero and K8up ----------------------------------------------------------------------
def _k8up_backup(ops: Mediaops, name: str) -> None:
    schedule = read(ops, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json")
    _apply(ops, {"apiVersion": "k8up.io/v1", "kind": "Backup", "metadata": {"name": name, "namespace": "media"},
                 "spec": {"backend": schedule["spec"]["backend"]}})
    assert kubectl(ops, "wait", "--for=condition=Completed", f"backups.k8up.io/{name}", "-n", "media",
                   "--timeout=60s").returncode == 0


# The prompts of each: hold Flux off (1), stop (2), [Velero: delete the claims (4)], restore (5), scale back (7),
# resume Flux (8); the pods-gone wait (3) asks nothing, step 6 (VolSync's destinations) is not needed.
PROMPTS = {"velero": (1, 2, 4, 5, 7, 8), "k8up": (1, 2, 5, 7, 8)}


@pytest.mark.parametrize("system", ["velero", "k8up"])
def test_an_abort_at_every_step_leaves_the_app_running_or_resume_finishes(sim: Mediaops, system: str) -> None:
    """On one rehearsal, the restore aborted at each prompt in turn. Before Velero deletes the claims (and with
    K8up, which restores into them, at any step) the undo puts the app back as it was, its data the backup's only
    once the restore step ran; after Velero deleted them the way back is forward, and `mediaops resume` finishes
    the run. Either way the app ends running with its replicas, Flux managing it."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="backed up\n")
    _backup(sim, "nightly") if system == "velero" else _k8up_backup(sim, "nightly")
    prompts = PROMPTS[system]
    for aborted_at in prompts:
        _exec(sim, "tee", "/config/tautulli.db", stdin="broken\n")
        child = sim.spawn("run", "restore", "tautulli", timeout=90)
        ran = [step for step in prompts if step < aborted_at]
        for step in ran:
            child.expect(f"step {step}/")
            child.expect("Run this step")
            answer(child, "r")
        child.expect(f"step {aborted_at}/")
        child.expect("Run this step")
        answer(child, "a")
        forward = system == "velero" and 4 in ran
        if forward:
            child.expect("there is no way back from it")
        elif ran:
            child.expect(f"Undo the {len(ran)} completed step")
            answer(child, "y")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 1, (system, aborted_at)
        if forward:
            done = sim.run("resume", "last", "--yes")
            assert done.returncode == 0, (aborted_at, done.stdout[-2500:])
        _running_as_before(sim)
        restored = forward or 5 in ran
        assert _exec(sim, "cat", "/config/tautulli.db") == ("backed up\n" if restored else "broken\n"), (
            system, aborted_at)


def test_a_resumed_restore_keeps_the_backup_it_chose(sim: Mediaops) -> None:
    """Interrupted before the claims go, while a newer backup of the broken data appears (K8up's schedule ran
    meanwhile): the resume restores the Velero backup chosen when the run began, not the newest."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="good\n")
    _backup(sim, "nightly-good")
    _exec(sim, "tee", "/config/tautulli.db", stdin="broken\n")
    _interrupted_at(sim, 4)
    _k8up_backup(sim, "later")  # K8up mounts the stopped app's claim itself: a newer copy, of the broken data
    done = sim.run("resume", "last", "--yes", "--json")
    assert done.returncode == 0, done.stdout[-2500:]
    checks = [e for e in map(json.loads, done.stdout.splitlines()) if e["event"] == "check"]
    assert any("nightly-good" in (e.get("detail") or "") and "chosen when the run began" in e["detail"]
               for e in checks), checks
    assert _exec(sim, "cat", "/config/tautulli.db") == "good\n"


def test_an_interrupted_k8up_restore_resumes_to_the_end(sim: Mediaops) -> None:
    """Interrupted (SIGTERM) at the restore's prompt, with Flux held off and the app stopped: `mediaops resume`
    restores the snapshot into the claim and brings the app back as it was."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="k8up good\n")
    _k8up_backup(sim, "nightly")
    _exec(sim, "tee", "/config/tautulli.db", stdin="broken\n")
    _interrupted_at(sim, 5)
    assert _replicas(sim) == 0 and _flux_suspended(sim) == ["kustomization", "helmrelease"]
    done = sim.run("resume", "last", "--yes")
    assert done.returncode == 0, done.stdout[-2500:]
    _running_as_before(sim)
    assert _exec(sim, "cat", "/config/tautulli.db") == "k8up good\n"
