"""nfs-outage stopped at any point of the outage comes back, on resume, to the apps as they were: the replicas
first remembered, Flux resumed, nothing left suspended. SIGKILL leaves no journal end; SIGTERM does."""

from __future__ import annotations

import json
import signal
import subprocess

import pexpect
import pytest

from tests.conftest import MEDIAOPS, HomeOps, Mediaops, read, run_steps


def _get(ops: Mediaops, kind: str, name: str) -> dict:
    return read(ops, "get", kind, name, "-n", "media", "-o", "json")


@pytest.mark.parametrize(("answered", "signum"), [(0, signal.SIGKILL), (1, signal.SIGKILL), (2, signal.SIGTERM),
                                                  (3, signal.SIGKILL), (3, signal.SIGTERM)],
                         ids=["during-suspend-ks-KILL", "after-suspend-ks-KILL", "after-suspend-hr-TERM",
                              "mid-wait-KILL", "mid-wait-TERM"])
def test_stopped_anywhere_in_the_outage_it_resumes_to_the_apps_as_they_were(
        sim: Mediaops, home_ops: HomeOps, answered: int, signum: int) -> None:
    state = json.loads((sim.state / "sim" / "state.json").read_text())
    sim.env["MEDIAOPS_INGRESS_BASE_URL"] = state["ingress"]
    sim.run("sim", "fault", "nas-down")
    run = subprocess.Popen([MEDIAOPS, "run", "nfs-outage", "--yes", "--json"], env=sim.env, cwd=sim.cwd,
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    for line in run.stdout:  # stop it on the run's own events, not on time
        event = json.loads(line)
        if answered == 0 and event["event"] == "step_start":
            break  # the suspend's patch and its journal line race the signal: either may come first
        if 0 < answered < 3 and event["event"] == "step_end" and event["index"] == answered - 1:
            break  # the next step is starting, or has started
        if answered == 3 and event["event"] == "wait_start" and "the NAS" in event["label"]:
            break
    run.send_signal(signum)
    run.wait(timeout=30)
    (run_id, events), = sim.journals().items()
    assert (events[-1]["event"] == "run_end") == (signum == signal.SIGTERM)  # SIGKILL: no end, abandoned
    if answered == 3:  # stopped while the apps are down
        assert _get(sim, "deployment", "calibre-web")["spec"]["replicas"] == 0
    listed = {r["run_id"]: r["status"] for r in json.loads(sim.run("runs", "--json").stdout)}
    assert listed[run_id] == ("abandoned" if signum == signal.SIGKILL else "interrupted")
    # Resume while the NAS is still down; it comes back while the resumed run waits for it.
    resumed = subprocess.Popen([MEDIAOPS, "resume", run_id, "--yes", "--json"], env=sim.env, cwd=sim.cwd,
                               stdout=subprocess.PIPE, text=True)
    assert resumed.stdout is not None
    for line in resumed.stdout:
        event = json.loads(line)
        if event["event"] == "wait_start" and "the NAS" in event["label"]:
            break
    sim.run("sim", "fault", "nas-down", "off")
    rest = [json.loads(line) for line in resumed.stdout]
    assert resumed.wait(timeout=120) == 0, rest[-3:]
    deployment = _get(sim, "deployment", "calibre-web")
    assert deployment["spec"]["replicas"] == 1
    assert "mediaops.io/previous-replicas" not in deployment["metadata"].get("annotations", {})
    for kind in ("kustomization", "helmrelease"):
        assert not _get(sim, kind, "calibre-web")["spec"].get("suspend"), kind


def test_a_sigterm_after_the_prompts_still_interrupts_the_run(sim: Mediaops, home_ops: HomeOps) -> None:
    """At a terminal: SIGTERM while the run waits for the NAS, after three prompts have come and gone, ends the run
    as interrupted and resumable (a prompt's own handling of the signal ends with the prompt)."""
    sim.run("sim", "fault", "nas-down")
    child = sim.spawn("run", "nfs-outage", timeout=60)
    run_steps(child, 3)
    child.expect("not answering")
    child.kill(signal.SIGTERM)
    child.expect("interrupted; run .* can be resumed")
    child.expect(pexpect.EOF)
    child.close()
    (events,) = sim.journals().values()
    assert events[-1]["event"] == "run_end" and events[-1]["status"] == "interrupted"
    assert _get(sim, "deployment", "calibre-web")["spec"]["replicas"] == 0  # down, remembered, resumable
