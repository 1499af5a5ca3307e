"""restore end to end on the rehearsal: the data comes back as the chosen backup holds it, in the safe order,
and an abort at any step before the data is gone leaves the app as it was."""

from __future__ import annotations

import json
import subprocess

import pexpect

from tests.conftest import KUBECTL, Mediaops, answer, kubectl


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
    return int(json.loads(kubectl(ops, "get", "deployment", "tautulli", "-n", "media", "-o", "json").stdout)
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
    ks = json.loads(kubectl(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json").stdout)
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
    ks = json.loads(kubectl(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json").stdout)
    assert not ks["spec"].get("suspend")


def test_restore_from_k8up_snapshots_writes_into_the_existing_claim(sim: Mediaops) -> None:
    """K8up restores into the claim (restoreMethod.folder): no claim is deleted, the Restore is shown as the
    manifest applied, and the data is the snapshot's."""
    _exec(sim, "tee", "/config/tautulli.db", stdin="k8up monday\n")
    # The sample's Schedule lands in storage (its Kustomization's targetNamespace): its backend, for media.
    schedule = json.loads(kubectl(sim, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json").stdout)
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
    done = sim.run("run", "restore", "tautulli", "--yes", "--json")
    assert done.returncode == 0, done.stdout[-2500:]
    ends = {e["title"]: e for e in map(json.loads, done.stdout.splitlines()) if e["event"] == "step_end"}
    deleted = ends["Delete the claims whose data the backup holds"]
    assert deleted["outcome"] == "not_needed" and "K8up restores into the existing claims" in deleted["summary"]
    assert _exec(sim, "cat", "/config/tautulli.db") == "k8up monday\n"
    assert _replicas(sim) == 1
    restores = json.loads(kubectl(sim, "get", "restores.k8up.io", "-n", "media", "-o", "json").stdout)["items"]
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
    ks = json.loads(kubectl(sim, "get", "kustomization", "tautulli", "-n", "media", "-o", "json").stdout)
    assert ks["spec"].get("suspend") is True  # Flux still held off
    undo = sim.run("undo", "last", "--yes")
    assert undo.returncode == 1 and "there is no way back" in " ".join(undo.stdout.split())
    done = sim.run("resume", "last", "--yes")
    assert done.returncode == 0, done.stdout[-2500:]
    assert _exec(sim, "cat", "/config/tautulli.db") == "precious\n"
    assert _replicas(sim) == 1
