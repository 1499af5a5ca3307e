"""The command shown is the command run: written from the objects the step acts on, never with a
`<placeholder>`, and (for kubectl) pasted into a shell it does what the step does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, kubectl, read

PLACEHOLDER = re.compile(r"<[a-z_ ]+>|\{[a-z_]+\}")
RUNS = [["activate", "plex-exporter"], ["deactivate", "tautulli"], ["nfs-outage", "--planned"],
        ["backup-before-upgrade", "tautulli", "--chart-version", "3.7.2"], ["reconcile", "tautulli", "--force"],
        ["restart", "tautulli", "--force"], ["trakt-reauth", "--force"]]


def _plans(ops: Mediaops, *args: str) -> dict[str, str]:
    result = ops.run("run", *args, "--dry-run", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return {e["title"]: e.get("command") or "" for e in events if e["event"] == "step_plan"}


def test_no_preview_has_a_placeholder(sim: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    """Every runbook's preview on the sample, and a live run's journal and report: no `<name>`, no `{name}`."""
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    report = sim.run("runs", "show", "last", "--markdown")
    assert report.returncode == 0 and not PLACEHOLDER.search(report.stdout), report.stdout
    assert not any(PLACEHOLDER.search(json.dumps(events)) for events in sim.journals().values())
    backup = {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "velero"},
              "spec": {"includedNamespaces": ["media"], "defaultVolumesToFsBackup": True}}
    _paste(sim, f"kubectl create -f - <<'EOF'\n{json.dumps(backup)}\nEOF\n"
                "kubectl wait --for=jsonpath={.status.phase}=Completed backup/nightly -n velero --timeout=60s")
    token = tmp_path / "token"
    token.write_text("a-new-plex-token-123\n")
    sim.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{sim.env['PATH']}"  # the venv's sops
    sim.env["SOPS_AGE_KEY_FILE"] = str(Path(__file__).resolve().parents[2] / "mediaops" / "sim" / "rehearsal.agekey")
    every = [*RUNS, ["restore", "tautulli"], ["rotate-plex-token", "--token-file", str(token)],
             ["mediabox-ingress"], ["overseerr-weekly"]]
    listed = {r["name"] for r in json.loads(sim.run("list", "--json").stdout)}
    assert {args[0] for args in every} >= listed - {"write-files", "site-check"}, "a runbook is not previewed here"
    for args in every:
        for title, command in _plans(sim, *args).items():
            literal = command.replace("nfs: {}", "").replace("%{http_code}", "")  # a YAML map, a curl format
            assert not PLACEHOLDER.search(literal), (args[0], title, command)


def _paste(ops: Mediaops, command: str) -> None:
    env = {**ops.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{ops.env.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (command, result.stderr)


def _deployment(ops: Mediaops) -> dict:
    return read(ops, "get", "deployment", "calibre-web", "-n", "media", "-o", "json")


@pytest.mark.parametrize("by", ["the step", "the pasted command"])
def test_the_scale_down_and_back_pasted_do_what_the_steps_do(sim: Mediaops, home_ops: HomeOps,
                                                             by: str) -> None:
    """nfs-outage's scale-down, then its scale-back, done by the run or by pasting what its preview showed:
    the same replicas and annotations at each point."""
    down = _plans(sim, "nfs-outage", "--planned")["Scale their workloads to 0, remembering the replicas"]
    run_id = re.search(r"scaled-by=(\S+)", down).group(1)  # type: ignore[union-attr]
    if by == "the step":
        from mediaops.cluster import workloads
        from mediaops.cluster.client import Kube

        kube = Kube(sim.env["KUBECONFIG"])
        workloads.scale(kube, "Deployment", "calibre-web", "media", 0, note=run_id)
    else:
        _paste(sim, down)
    after_down = _deployment(sim)
    assert after_down["spec"]["replicas"] == 0
    assert after_down["metadata"]["annotations"]["mediaops.io/previous-replicas"] == "1"
    assert after_down["metadata"]["annotations"]["mediaops.io/scaled-by"] == run_id
    # What the scale-back shows once the scale-down is done: the count remembered on the workload.
    back = _plans(sim, "nfs-outage", "--planned")["Scale back to the remembered replicas"]
    assert "deployment/calibre-web -n media --replicas=1" in back, back
    if by == "the step":
        workloads.scale(kube, "Deployment", "calibre-web", "media", 1)
    else:
        _paste(sim, back)
    after_back = _deployment(sim)
    assert after_back["spec"]["replicas"] == 1
    assert not {"mediaops.io/previous-replicas", "mediaops.io/scaled-by"} & set(
        after_back["metadata"].get("annotations") or {})


def test_the_restart_and_waits_pasted_run_against_the_cluster(sim: Mediaops, home_ops: HomeOps) -> None:
    plans = _plans(sim, "restart", "tautulli", "--force")
    before = _get_template_annotations(sim)
    for command in plans.values():
        _paste(sim, command)
    assert _get_template_annotations(sim) != before  # restarted: a new restartedAt
    waits = _plans(sim, "activate", "plex-exporter")
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    _paste(sim, waits["Wait until the app's Kustomization exists and is Ready"])
    _paste(sim, waits["Wait until its HelmRelease is Ready"])


def _get_template_annotations(ops: Mediaops) -> dict:
    obj = read(ops, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    return dict(obj["spec"]["template"]["metadata"].get("annotations") or {})


@pytest.mark.parametrize(("args", "title"), [
    (["activate", "plex-exporter"], "Commit the activation"),
    (["backup-before-upgrade", "tautulli", "--image-tag", "2.15.2"], "Commit the upgrade")],
    ids=["activate", "upgrade"])
def test_the_commit_pasted_makes_the_commit_the_step_made(ops: Mediaops, home_ops: HomeOps, args: list[str],
                                                          title: str) -> None:
    """The commit made by the run, then undone in the index and made again by pasting the command the run
    showed: the same tree and the same message (the version and the Mediaops-Run trailer included)."""
    result = ops.run("--sim", "run", *args, "--no-push", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    shown = next(e["command"] for e in events if e["event"] == "step_plan" and e["title"] == title)
    made = home_ops.git("log", "-1", "--format=%T%n%B")
    home_ops.git("reset", "--quiet", "--mixed", "HEAD~1")
    _paste(ops, f"cd {home_ops.path} && {shown}")
    assert home_ops.git("log", "-1", "--format=%T%n%B") == made


def _get(ops: Mediaops, kind: str, name: str, namespace: str = "media") -> dict | None:
    result = kubectl(ops, "get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_restores_stop_wait_and_delete_pasted_free_the_claims(sim: Mediaops) -> None:
    """restore's stop, its wait for the pods to go and its deletion of the claims, pasted from the preview one
    after the other: the workload at 0 remembering 1, no pod of the app left, the claim gone, as the steps leave
    them (tests/e2e/runbooks/test_restore.py runs the steps)."""
    body = {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "velero"},
            "spec": {"includedNamespaces": ["media"], "defaultVolumesToFsBackup": True}}
    made = subprocess.run(["kubectl", "create", "-f", "-"], input=json.dumps(body), capture_output=True, text=True,
                          env={**sim.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{sim.env['PATH']}"})
    assert made.returncode == 0, made.stderr
    assert kubectl(sim, "wait", "--for=jsonpath={.status.phase}=Completed", "backup/nightly", "-n", "velero",
                   "--timeout=60s").returncode == 0
    plans = _plans(sim, "restore", "tautulli", "--backup", "nightly")
    stop = plans["Stop its workloads, remembering the replicas"]
    gone = plans["Wait until its pods are gone"]
    delete = plans["Delete the claims whose data the backup holds"]
    assert delete == "kubectl delete pvc tautulli-config -n media --wait", delete
    for command in (stop, gone, delete):
        _paste(sim, command)
    deployment = _get(sim, "deployment", "tautulli")
    assert deployment is not None and deployment["spec"]["replicas"] == 0
    assert deployment["metadata"]["annotations"]["mediaops.io/previous-replicas"] == "1"
    pods = read(sim, "get", "pods", "-n", "media", "-l", "app.kubernetes.io/name=tautulli",
                              "-o", "json")["items"]
    assert pods == []
    assert _get(sim, "pvc", "tautulli-config") is None


def test_trakts_login_pod_pasted_is_the_pod_the_step_makes(sim: Mediaops, home_ops: HomeOps) -> None:
    """trakt-reauth's login pod made by pasting the `kubectl run --overrides` the preview shows: the watch
    Deployment's image and volumes, the container idle, the label the run looks for; then the step's own
    deletion, pasted, removes it."""
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    plans = _plans(sim, "trakt-reauth", "--force")
    run_pod = plans["Start a login pod with the config volume"]
    assert run_pod.startswith("kubectl run plex-trakt-sync-login -n media --image="), run_pod
    _paste(sim, run_pod)
    pod = _get(sim, "pod", "plex-trakt-sync-login")
    deployment = _get(sim, "deployment", "plex-trakt-sync")
    assert pod is not None and deployment is not None
    template = deployment["spec"]["template"]["spec"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == template["containers"][0]["image"]
    assert container["command"] == ["sleep", "infinity"]
    assert container["volumeMounts"] == template["containers"][0]["volumeMounts"]
    assert pod["spec"]["volumes"] == template["volumes"]
    assert pod["metadata"]["labels"]["mediaops.io/login-for"] == "plex-trakt-sync"
    back = plans["Delete the login pod and start the watch Deployment again"].splitlines()[0]
    assert back == "kubectl delete pod plex-trakt-sync-login -n media", back
    _paste(sim, back)
    assert _get(sim, "pod", "plex-trakt-sync-login") is None


def test_the_push_and_the_undo_revert_pasted_do_what_the_steps_do(ops: Mediaops, home_ops: HomeOps) -> None:
    """activate's push as its preview shows it, pasted after a run told not to push: origin gets the run's commit;
    then the revert its undo shows, pasted: the tree is the one before the run, as `mediaops undo` leaves it."""
    before = home_ops.git("rev-parse", "HEAD^{tree}")
    preview = ops.run("--sim", "run", "activate", "plex-exporter", "--dry-run", "--json")
    events = [json.loads(line) for line in preview.stdout.splitlines()]
    push = next(e["command"] for e in events if e["event"] == "step_plan" and e["title"].startswith("Push"))
    assert "<" not in push and push.startswith("git push"), push
    result = ops.run("--sim", "run", "activate", "plex-exporter", "--no-push", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    _paste(ops, f"cd {home_ops.path} && {push}")
    assert home_ops.origin_log()[0] == home_ops.git("log", "-1", "--format=%s")
    undo = ops.run("undo", "last", "--dry-run", "--json")
    assert undo.returncode == 0, undo.stdout[-2000:]
    logged = [json.loads(line).get("message") or "" for line in undo.stdout.splitlines()]
    revert = next(m.partition(": ")[2] for m in logged if ": git revert" in m)
    assert re.match(r"git revert --no-edit [0-9a-f]{7,40}", revert), revert
    _paste(ops, f"cd {home_ops.path} && {revert}")
    assert home_ops.git("rev-parse", "HEAD^{tree}") == before
    assert home_ops.git("log", "-1", "--format=%s").startswith("Revert")


def test_no_page_and_no_show_has_a_placeholder(mediaops: Mediaops, tmp_path: Path) -> None:
    """What a page cannot know it names in capitals (NAMESPACE, APP), as flux and kubectl docs do: no `<ns>`, no
    `{ns}` in `mediaops show` of any runbook nor in any page `mediaops docs` writes."""
    listed = mediaops.run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [r["name"] for r in json.loads(listed.stdout)]
    assert len(names) >= 11
    for name in names:
        shown = mediaops.run("show", name)
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout.replace("nfs: {}", "").replace("%{http_code}", "")  # a YAML map, a curl format
        assert not PLACEHOLDER.search(text), (name, PLACEHOLDER.search(text))
    out = tmp_path / "pages"
    assert mediaops.run("docs", "--out", str(out), "--checks-out", str(tmp_path / "checks")).returncode == 0
    pages = sorted(out.glob("*.md")) + sorted((tmp_path / "checks").glob("*.md"))
    assert len(pages) > len(names)
    for page in pages:
        text = page.read_text().replace("<!--", "").replace("nfs: {}", "").replace("%{http_code}", "")
        assert not PLACEHOLDER.search(text), (page.name, PLACEHOLDER.search(text))


def test_the_k8up_backup_and_the_sync_job_pasted_do_what_the_steps_do(sim: Mediaops, home_ops: HomeOps) -> None:
    """backup-before-upgrade's K8up backup (a manifest applied from a heredoc, then a wait) and trakt-reauth's
    sync Job (create --from the CronJob, then a wait), pasted from the previews: a Completed K8up Backup with a
    snapshot of the claim, a Complete Job of the CronJob's template, as the steps leave them (tested in
    tests/e2e/runbooks/test_upgrade.py and test_trakt.py)."""
    sample = read(sim, "get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json")
    schedule = {"apiVersion": "k8up.io/v1", "kind": "Schedule",
                "metadata": {"name": "media-routine", "namespace": "media"},
                "spec": {"backend": sample["spec"]["backend"], "backup": {"schedule": "0 3 * * *"}}}
    _paste(sim, f"kubectl create -f - <<'EOF'\n{json.dumps(schedule)}\nEOF")
    backup = _plans(sim, "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2")[
        "Back up the app, its volumes' data included"]
    assert backup.startswith("kubectl apply -f - <<'EOF'\n") and "kind: Backup" in backup, backup
    _paste(sim, backup)
    name = re.search(r"backup\.k8up\.io/(\S+)", backup).group(1)  # type: ignore[union-attr]
    made = _get(sim, "backups.k8up.io", name)
    assert made is not None and made["spec"]["backend"] == sample["spec"]["backend"]
    done = {c["type"]: c for c in made["status"]["conditions"]}["Completed"]
    assert (done["status"], done["reason"]) == ("True", "Succeeded")
    snapshots = read(sim, "get", "snapshots.k8up.io", "-n", "media", "-o", "json")["items"]
    assert any("/data/tautulli-config" in s["spec"]["paths"] for s in snapshots)
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    sync = _plans(sim, "trakt-reauth", "--force")["Run the sync CronJob once and wait for it"]
    _paste(sim, sync)
    job_name = re.search(r"Complete job/(\S+)", sync).group(1)  # type: ignore[union-attr]
    job = _get(sim, "job", job_name)
    assert job is not None and job["status"].get("succeeded") == 1
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"


def test_the_force_sync_pasted_makes_external_secrets_sync_again(sim: Mediaops, tmp_path: Path) -> None:
    """rotate-plex-token's force-sync, pasted from its preview: the annotation the step writes, and the controller
    syncs the ExternalSecret again (its syncedResourceVersion moves on), as after the step."""
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    token = tmp_path / "token"
    token.write_text("a-new-plex-token-123\n")
    sim.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{sim.env['PATH']}"  # the venv's sops
    shown = _plans(sim, "rotate-plex-token", "--token-file", str(token))[
        "Force-sync the ExternalSecret and wait for its Secret to change"]
    assert "a-new-plex-token" not in shown
    stamp = re.search(r"force-sync=(\S+)", shown).group(1)  # type: ignore[union-attr]
    before = _get(sim, "externalsecret", "plex-exporter")
    assert before is not None
    _paste(sim, shown)
    synced = kubectl(sim, "wait", "--for=jsonpath={.metadata.annotations.force-sync}=" + stamp,
                     "externalsecret/plex-exporter", "-n", "media", "--timeout=30s")
    assert synced.returncode == 0, synced.stderr
    moved = subprocess.run(["bash", "-c", "for i in $(seq 100); do v=$(kubectl get externalsecret plex-exporter -n "
                            "media -o jsonpath='{.status.syncedResourceVersion}'); [ \"$v\" != \"$0\" ] && exit 0; "
                            "sleep 0.1; done; exit 1", before["status"]["syncedResourceVersion"]],
                           env={**sim.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{sim.env['PATH']}"},
                           capture_output=True, text=True, timeout=60)
    assert moved.returncode == 0, "the ExternalSecret did not sync again"
