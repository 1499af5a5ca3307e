"""nfs-outage end to end against the rehearsal cluster: the NAS goes away and comes back."""

from __future__ import annotations

import json
import subprocess

import pexpect

from tests.conftest import MEDIAOPS, HomeOps, Mediaops, answer, kubectl, read, run_steps


def _ingress(ops: Mediaops) -> None:
    state = json.loads((ops.state / "sim" / "state.json").read_text())
    ops.env["MEDIAOPS_INGRESS_BASE_URL"] = state["ingress"]


def test_outage_maintenance_and_recovery(sim: Mediaops, home_ops: HomeOps) -> None:
    _ingress(sim)
    sim.run("sim", "fault", "nas-down")
    run = subprocess.Popen([MEDIAOPS, "run", "nfs-outage", "--yes", "--json"], env=sim.env, cwd=sim.cwd,
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    events = []
    for line in run.stdout:  # wait on the run's own events, not on time
        events.append(json.loads(line))
        if events[-1]["event"] == "wait_start" and "the NAS" in events[-1]["label"]:
            break
    deployment = read(sim, "get", "deployment", "calibre-web", "-n", "media", "-o", "json")
    assert deployment["spec"]["replicas"] == 0
    assert deployment["metadata"]["annotations"]["mediaops.io/previous-replicas"] == "1"
    status = {r["app"]: r for r in json.loads(sim.run("status", "--json").stdout)}
    assert status["calibre-web"]["alarming"] and len(status["calibre-web"]["suspended"]) == 2
    sim.run("sim", "fault", "nas-down", "off")
    events += [json.loads(line) for line in run.stdout]
    assert run.wait(timeout=60) == 0
    ends = [(e["title"], e["outcome"]) for e in events if e["event"] == "step_end"]
    assert [o for _, o in ends] == ["done"] * 3 + ["not_needed"] + ["done"] * 6  # not planned: already down
    checks = {e["title"]: e.get("detail", "") for e in events if e["event"] == "check"}
    concerns = {e["title"] for e in events if e["event"] == "check" and e["status"] == "concern"}
    assert concerns == {"Does the NAS answer on its NFS port?", "Pods with mount failures"}  # bad news, no ✓
    assert "did not answer" in checks["Does the NAS answer on its NFS port?"] or \
        "refused" in checks["Does the NAS answer on its NFS port?"].lower()
    assert "books.example.test: 200 OK" in next(e["summary"] for e in events
                                                   if e.get("title", "").startswith("Check their ingress")
                                                   and e["event"] == "step_end")
    after = read(sim, "get", "deployment", "calibre-web", "-n", "media", "-o", "json")
    assert after["spec"]["replicas"] == 1 and "mediaops.io/previous-replicas" not in after["metadata"].get(
        "annotations", {})
    again = sim.run("run", "nfs-outage", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_abort_during_the_outage_offers_the_undo(sim: Mediaops, home_ops: HomeOps) -> None:
    _ingress(sim)
    sim.run("sim", "fault", "nas-down")
    child = sim.spawn("run", "nfs-outage", "--nas-timeout", "1", timeout=60)
    run_steps(child, 3)
    child.expect("The step failed")  # the NAS did not come back within --nas-timeout
    answer(child, "a")
    child.expect("Undo the 3 completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    deployment = read(sim, "get", "deployment", "calibre-web", "-n", "media", "-o", "json")
    assert deployment["spec"]["replicas"] == 1
    for kind in ("kustomization", "helmrelease"):
        obj = read(sim, "get", kind, "calibre-web", "-n", "media", "-o", "json")
        assert not obj["spec"].get("suspend")


def test_a_run_that_stops_with_the_app_suspended_says_so(sim: Mediaops, home_ops: HomeOps) -> None:
    _ingress(sim)
    sim.run("sim", "fault", "nas-down")
    result = sim.run("run", "nfs-outage", "--yes", "--nas-timeout", "1")
    assert result.returncode == 1
    assert "Kustomization media/calibre-web is still SUSPENDED" in result.stdout
    assert "Deployment media/calibre-web is still scaled down (was 1)" in result.stdout
    run_id = json.loads(sim.run("runs", "--json").stdout)[0]["run_id"]
    sim.run("sim", "fault", "nas-down", "off")
    resumed = sim.run("resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    assert "still SUSPENDED" not in resumed.stdout


def test_planned_maintenance_waits_for_the_nas_to_go_down_first(sim: Mediaops, home_ops: HomeOps) -> None:
    _ingress(sim)
    refused = sim.run("run", "nfs-outage", "--planned", "--yes")
    assert refused.returncode == 2 and "--planned --yes needs --down-timeout" in refused.stderr
    run = subprocess.Popen([MEDIAOPS, "run", "nfs-outage", "--planned", "--down-timeout", "120", "--yes", "--json"],
                           env=sim.env, cwd=sim.cwd, stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    events = []
    for line in run.stdout:  # the apps are out of service and the run waits for the NAS to go
        events.append(json.loads(line))
        if events[-1]["event"] == "wait_start" and "to stop answering" in events[-1]["label"]:
            break
    assert json.loads(kubectl(sim, "get", "deployment", "calibre-web", "-n", "media", "-o", "json").stdout
                      )["spec"]["replicas"] == 0
    sim.run("sim", "fault", "nas-down")
    for line in run.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "wait_start" and "to answer" in events[-1]["label"]:
            break
    sim.run("sim", "fault", "nas-down", "off")
    events += [json.loads(line) for line in run.stdout]
    assert run.wait(timeout=60) == 0
    ends = [(e["title"], e["outcome"]) for e in events if e["event"] == "step_end"]
    assert ends[3] == ("Wait for the NAS to go down", "done") and all(o == "done" for _, o in ends)
    after = read(sim, "get", "deployment", "calibre-web", "-n", "media", "-o", "json")
    assert after["spec"]["replicas"] == 1


def test_an_app_whose_release_is_not_in_the_cluster_does_not_stop_the_run(sim: Mediaops) -> None:
    """calibre-web's HelmRelease gone from the cluster (its Kustomization held off first, so Flux does not put it
    back; on tyriis/home-ops, immich's never came, its dependency's source unreachable): there is nothing of it
    to suspend, and the run goes on for the rest instead of failing on a NotFound."""
    _ingress(sim)
    kubectl(sim, "patch", "kustomization", "calibre-web", "-n", "media", "--type=merge", "-p",
            '{"spec":{"suspend":true}}')
    assert kubectl(sim, "delete", "helmrelease", "calibre-web", "-n", "media", "--wait=true").returncode == 0
    result = sim.run("run", "nfs-outage", "--yes", "--json")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, result.stdout[-3000:]
    ends = {e["title"]: (e["outcome"], e.get("summary", "")) for e in events if e["event"] == "step_end"}
    assert ends["Suspend their HelmReleases"] == ("not_needed", "no HelmRelease to suspend")
    checks = {e["title"]: (e["status"], e.get("detail", "")) for e in events if e["event"] == "check"}
    assert checks["Their Flux objects are in the cluster"] == (
        "concern", "not in the cluster, left out of the run: HelmRelease media/calibre-web")
    # the NAS answers: not called down in the reason either
    assert ends["Wait for the NAS to go down"] == ("not_needed", "an outage, not planned maintenance")
