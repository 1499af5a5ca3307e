"""trakt-reauth end to end: the interactive login runs through a stand-in for `kubectl exec -it`.

The real login needs a Trakt account and a browser, so `kubectl` on PATH is a stand-in
(tests/standins/kubectl) that checks the exact arguments it receives, asks the same questions at the
terminal, and writes the login file into the pod through the rehearsal's exec API. Everything else
(scaling, the login pod, logs, the sync Job) runs against the rehearsal cluster.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

from tests.conftest import ROOT, HomeOps, Mediaops, answer, kubectl, read, run_steps


def _with_standin(ops: Mediaops) -> None:
    ops.env["REAL_KUBECTL"] = str(Path(sys.executable).parent / "kubectl")
    ops.env["MEDIAOPS_SOURCE"] = str(ROOT)
    ops.env["STANDIN_PYTHON"] = sys.executable
    ops.env["PATH"] = f"{ROOT / 'tests' / 'standins'}:{ops.env['PATH']}"


def _assert_watch_restored(ops: Mediaops) -> None:
    deployment = read(ops, "get", "deployment", "plex-trakt-sync", "-n", "media", "-o", "json")
    assert deployment["spec"]["replicas"] == 1
    assert kubectl(ops, "get", "pod", "plex-trakt-sync-login", "-n", "media").returncode != 0


def _activate(ops: Mediaops) -> None:
    result = ops.run("run", "activate", "plex-trakt-sync", "--yes")
    assert result.returncode == 0, result.stdout[-2000:]


def test_reauth_logs_in_and_syncs(sim: Mediaops, home_ops: HomeOps) -> None:
    _activate(sim)
    _with_standin(sim)
    refused = sim.run("run", "trakt-reauth", "--yes")
    assert refused.returncode == 2 and "a step a human must do" in refused.stderr + refused.stdout
    child = sim.spawn("run", "trakt-reauth", timeout=60)
    run_steps(child, 3)  # stop the watch, start the login pod, log in
    child.expect("Trakt username:")
    child.sendline("ops-at-home")
    child.expect("press Enter when confirmed")
    child.sendline("confirmed")
    child.expect("Logged in to Trakt as ops-at-home")
    run_steps(child, 1)  # restart the watch: its log says who is logged in
    child.expect("logged in as ops-at-home")
    run_steps(child, 1)  # run the sync once
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    again = sim.run("run", "trakt-reauth", "--dry-run")
    assert again.returncode == 0 and "logged in to Trakt already" in again.stdout, again.stdout[-1500:]
    jobs = read(sim, "get", "jobs", "-n", "media", "-o", "json")["items"]
    assert any(j["metadata"]["name"].startswith("plex-trakt-sync-sync-manual-") and j["status"].get("succeeded")
               for j in jobs)
    _assert_watch_restored(sim)


def test_abort_at_the_login_restores_the_watch(sim: Mediaops, home_ops: HomeOps) -> None:
    _activate(sim)
    _with_standin(sim)
    child = sim.spawn("run", "trakt-reauth", timeout=60)
    run_steps(child, 2)
    child.expect("Log in to Trakt")
    child.expect("Run this step")
    answer(child, "a")
    child.expect("Undo the 2 completed step")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    _assert_watch_restored(sim)


def test_a_failed_login_can_be_aborted_and_undone(sim: Mediaops, home_ops: HomeOps) -> None:
    _activate(sim)
    _with_standin(sim)
    child = sim.spawn("run", "trakt-reauth", timeout=60)
    child.expect("Trakt: not logged in")  # the preflight reads the watch's log
    run_steps(child, 3)
    child.expect("Trakt username:")
    child.sendline("ops-at-home")
    child.expect("press Enter when confirmed")
    child.sendline("too late")  # the device code expired
    child.expect("The step failed")
    answer(child, "a")
    child.expect("Undo the 2 completed step")  # not the failed login: it has nothing to undo
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    _assert_watch_restored(sim)
