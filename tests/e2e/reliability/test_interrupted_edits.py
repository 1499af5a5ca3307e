"""A run stopped between its file edit and its commit resumes: its own edits, journaled before they were
written, never count as someone else's uncommitted changes. Stopped by SIGINT, SIGTERM or SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess

import pexpect
import pytest

from tests.conftest import MEDIAOPS, HomeOps, Mediaops, answer, read

KS = "kubernetes/apps/media/plex-exporter/ks.yaml"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["INT", "TERM", "KILL"])
def test_activate_stopped_after_its_edit_resumes_to_one_commit(sim: Mediaops, home_ops: HomeOps,
                                                                signum: int) -> None:
    child = sim.spawn("run", "activate", "plex-exporter", timeout=60)
    child.expect("Run this step")
    answer(child, "r")  # the rename and the listing
    child.expect("Commit the activation")
    child.expect("Run this step")
    if signum == signal.SIGINT:
        child.sendcontrol("c")  # Ctrl-C at the prompt, as an operator stops it
    else:
        child.kill(signum)
    child.expect(pexpect.EOF)
    child.close()
    assert (home_ops.path / KS).exists() and home_ops.git("log", "-1", "--format=%s") == "initial import"
    (run_id, events), = sim.journals().items()
    intent = next(e for e in events if e["event"] == "step_intent")
    assert {e["path"] for e in intent["edits"]} >= {KS, KS.replace(".yaml", ".dis")}
    assert all(len(e["after"] or "x" * 64) == 64 for e in intent["edits"])  # digests, never contents
    if signum == signal.SIGKILL:
        listed = json.loads(sim.run("runs", "--json").stdout)
        assert listed[0]["status"] == "abandoned"
    resumed = sim.run("resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert home_ops.origin_log()[0].startswith("feat(media): activate plex-exporter")
    assert len([s for s in home_ops.origin_log() if "plex-exporter" in s]) == 1
    ks = read(sim, "get", "kustomization", "plex-exporter", "-n", "media", "-o",
                            "json")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in ks["status"]["conditions"])


def test_someone_elses_change_to_the_same_file_still_blocks_the_resume(sim: Mediaops,
                                                                       home_ops: HomeOps) -> None:
    child = sim.spawn("run", "activate", "plex-exporter", timeout=60)
    child.expect("Run this step")
    answer(child, "r")
    child.expect("Commit the activation")
    child.expect("Run this step")
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    with (home_ops.path / KS).open("a") as handle:
        handle.write("# someone else's line\n")
    (run_id, _), = sim.journals().items()
    resumed = sim.run("resume", run_id, "--yes")
    assert resumed.returncode == 3
    assert "uncommitted changes in" in resumed.stdout and "ks.yaml" in resumed.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "initial import"


@pytest.mark.parametrize("after", [1, 2, 3, 4], ids=["after-commit", "after-push", "after-source", "after-apps"])
def test_activate_killed_after_any_step_resumes_to_one_commit_and_ready(sim: Mediaops, home_ops: HomeOps,
                                                                         after: int) -> None:
    run = subprocess.Popen([MEDIAOPS, "run", "activate", "plex-exporter", "--yes", "--json"], env=sim.env,
                           cwd=home_ops.path, stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    for line in run.stdout:  # killed on the run's own events: right after step `after` ended
        event = json.loads(line)
        if event["event"] == "step_end" and event["index"] == after:
            break
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    (run_id, _), = sim.journals().items()
    resumed = sim.run("resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert [s for s in home_ops.origin_log() if "plex-exporter" in s] == ["feat(media): activate plex-exporter"]
    ks = read(sim, "get", "kustomization", "plex-exporter", "-n", "media", "-o", "json")
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in ks["status"]["conditions"])
