"""activate / deactivate end to end against the rehearsal cluster, through the installed CLI."""

from __future__ import annotations

import json
import subprocess

import pexpect

from tests.conftest import KUBECTL, HomeOps, Mediaops, answer, json_api, kubectl, read


def test_activate_on_the_cluster_then_nothing_to_do(sim: Mediaops, home_ops: HomeOps) -> None:
    result = sim.run("run", "activate", "plex-exporter", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ends = {e["title"]: e["outcome"] for e in events if e["event"] == "step_end"}
    assert ends["Wait until its pods are ready"] == "done"
    assert ends["Check that Prometheus scrapes it"] == "not_needed"  # no prometheus_url: it cannot ask
    assert ends["Check by hand that Prometheus scrapes it"] == "todo"
    assert any(e["event"] == "check" and "matches a node" in e.get("detail", "") for e in events)
    rollout = kubectl(sim, "rollout", "status", "deployment/plex-exporter", "-n", "media", "--timeout=5s")
    assert rollout.returncode == 0
    again = sim.run("run", "activate", "plex-exporter", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_preflight_refuses_when_a_dependency_is_not_ready(sim: Mediaops, home_ops: HomeOps) -> None:
    sim.run("sim", "fault", "reconcile-fail", "Kustomization/security/external-secrets-secretstores=store broken")
    kubectl(sim, "annotate", "kustomization", "external-secrets-secretstores", "-n", "security",
            "reconcile.fluxcd.io/requestedAt=now", "--overwrite")
    waited = kubectl(sim, "wait", "--for=condition=Ready=False", "kustomization/external-secrets-secretstores",
                     "-n", "security", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    result = sim.run("run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 3
    assert "Kustomization security/external-secrets-secretstores is not Ready" in result.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"


def test_a_failing_release_fails_the_run_fast(sim: Mediaops, home_ops: HomeOps) -> None:
    sim.run("sim", "fault", "reconcile-fail", "HelmRelease/media/plex-exporter=install failed: image pull backoff")
    result = sim.run("run", "activate", "plex-exporter", "--yes")
    assert result.returncode == 1
    assert "install failed: image pull backoff" in result.stdout
    assert "mediaops resume" in result.stdout


def test_abort_after_reconcile_reverts_and_prunes(sim: Mediaops, home_ops: HomeOps) -> None:
    child = sim.spawn("run", "activate", "plex-exporter", timeout=60)
    # edit, commit, push, reconcile source, reconcile cluster-apps; the last is skipped when cluster-apps, on its
    # own interval, applied the app before the step came (the rehearsal's fast timing, on a busy machine)
    ran = 0
    while child.expect(["Run this step", "Done by hand"]) == 0:
        answer(child, "r")
        ran += 1
    assert ran in (4, 5)
    answer(child, "a")
    child.expect(f"Undo the {ran} completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert home_ops.origin_log()[:2] == ['Revert "feat(media): activate plex-exporter"',
                                         "feat(media): activate plex-exporter"]
    gone = kubectl(sim, "get", "kustomization", "plex-exporter", "-n", "media")
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_deactivate_backs_up_then_prunes(sim: Mediaops, home_ops: HomeOps) -> None:
    result = sim.run("run", "deactivate", "tautulli", "--yes")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "deletes its PersistentVolumeClaims: tautulli-config (5Gi)" in result.stdout
    backups = read(sim, "get", "backups", "-n", "velero", "-o", "json")["items"]
    (backup,) = backups
    assert backup["metadata"]["name"].startswith("pre-deactivate-tautulli-")
    assert backup["status"]["phase"] == "Completed"
    assert kubectl(sim, "get", "deployment", "tautulli", "-n", "media").returncode != 0
    assert home_ops.origin_log()[0] == "chore(media): deactivate tautulli"


def test_deactivate_backs_up_with_k8up_where_k8up_backs_up_the_namespace(sim: Mediaops, home_ops: HomeOps) -> None:
    """A K8up Schedule in media (the sample's lands in storage): the backup before the prune is a K8up Backup,
    which holds a snapshot of the claim; no Velero backup is made."""
    sample = read(sim, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json")
    schedule = {"apiVersion": "k8up.io/v1", "kind": "Schedule",
                "metadata": {"name": "media-routine", "namespace": "media"},
                "spec": {"backend": sample["spec"]["backend"], "backup": {"schedule": "0 3 * * *"}}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(schedule), env=sim.env, text=True,
                          capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr
    result = sim.run("run", "deactivate", "tautulli", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-3000:]
    backups = read(sim, "get", "backups.k8up.io", "-n", "media", "-o", "json")["items"]
    (backup,) = [b for b in backups if b["metadata"]["name"].startswith("pre-deactivate-tautulli-")]
    assert backup["spec"]["backend"] == sample["spec"]["backend"]
    snapshots = read(sim, "get", "snapshots.k8up.io", "-n", "media", "-o", "json")["items"]
    assert any("/data/tautulli-config" in s["spec"]["paths"] for s in snapshots)
    assert read(sim, "get", "backups.velero.io", "-n", "velero", "-o", "json")["items"] == []


def test_skipping_the_rename_makes_no_false_statement_and_no_wait(sim: Mediaops, home_ops: HomeOps) -> None:
    child = sim.spawn("run", "activate", "plex-exporter", timeout=30)
    child.expect("step 1/")
    child.expect("Run this step")
    answer(child, "s")
    for number in range(2, 9):  # commit, push, two reconciles, three waits: each says why and asks
        child.expect(f"was skipped, and step {number} ")
        child.expect(f"step {number}/")
        child.expect("Run this step")
        answer(child, "s")
    child.expect("Done by hand")
    answer(child, "s")
    child.expect(pexpect.EOF)
    child.close()
    (events,) = sim.journals().values()
    ends = {e["index"]: e for e in events if e["event"] == "step_end"}
    assert all(ends[i]["outcome"] == "skipped" for i in range(8))
    assert ends[8]["outcome"] == "not_needed" and "prometheus_url is not set" in ends[8]["summary"]
    assert "already has these files" not in str(events)  # the commit step did not judge the files
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"


def test_activation_asks_prometheus_and_checks_the_cronjob_when_it_can(sim: Mediaops) -> None:
    up = {"value": "0"}

    def query(params: dict[str, list[str]]) -> dict[str, object]:
        answer = up["value"]
        up["value"] = "1"  # scraped from the second question on, as Prometheus finds a new target
        return {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"instance": "10.42.0.7:9000"}, "value": [0, answer]}]}}

    with json_api({"/api/v1/query": query}) as prometheus:
        sim.env["MEDIAOPS_PROMETHEUS_URL"] = prometheus
        result = sim.run("run", "activate", "plex-exporter", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-1500:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ends = {e["title"]: e for e in events if e["event"] == "step_end"}
    assert ends["Check that Prometheus scrapes it"]["outcome"] == "done"
    assert ends["Check that Prometheus scrapes it"]["summary"] == "1 target(s) up"
    assert not any(e["event"] == "follow_up" for e in events)  # no manual step left for the operator
    trakt = sim.run("run", "activate", "plex-trakt-sync", "--yes", "--json")
    assert trakt.returncode == 0, trakt.stdout[-1500:]
    ends = {e["title"]: e for e in map(json.loads, trakt.stdout.splitlines()) if e["event"] == "step_end"}
    assert ends["Check its CronJobs"]["outcome"] == "done" and "no finished run yet" in ends["Check its CronJobs"][
        "summary"]


def test_deactivate_leaves_a_claim_flux_is_told_not_to_prune(sim: Mediaops, home_ops: HomeOps) -> None:
    """calibre-web's claim labelled kustomize.toolkit.fluxcd.io/prune: disabled (tyriis/home-ops's VolSync
    component labels its claims so): Flux leaves it when the app goes, so the run says so, backs nothing up, and
    the claim is still there afterwards."""
    pvc = home_ops.path / "kubernetes" / "apps" / "media" / "calibre-web" / "app" / "pvc.yaml"
    pvc.write_text(pvc.read_text().replace("  name: calibre-web-config\n", "  name: calibre-web-config\n  labels:\n"
                                           "    kustomize.toolkit.fluxcd.io/prune: disabled\n"))
    home_ops.git("commit", "--quiet", "-am", "fix(media): keep calibre-web's claim")
    home_ops.git("push", "--quiet")
    assert sim.run("run", "reconcile", "calibre-web", "--yes").returncode == 0
    result = sim.run("run", "deactivate", "calibre-web", "--yes")
    said = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout[-3000:]
    assert "leaves calibre-web-config in the cluster (prune disabled or retained)" in said
    assert "deletes its PersistentVolumeClaims" not in said
    assert kubectl(sim, "get", "deployment", "calibre-web", "-n", "media").returncode != 0  # the app went
    assert read(sim, "get", "pvc", "calibre-web-config", "-n", "media", "-o", "json")["status"]["phase"] == "Bound"
    assert read(sim, "get", "backups", "-n", "velero", "-o", "json")["items"] == []
