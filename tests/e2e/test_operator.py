"""The operator at 3 a.m.: global options anywhere, commands whole in a pipe and at 80 columns, run IDs by
`last` or a unique part."""

from __future__ import annotations

import json
import re
import subprocess

import pexpect

from mediaops.cli import hoist_global_options
from tests.conftest import MEDIAOPS, Mediaops


def test_global_options_go_anywhere_on_the_line() -> None:
    assert hoist_global_options(["run", "activate", "x", "--sim", "--dry-run"]) == [
        "--sim", "run", "activate", "x", "--dry-run"]
    assert hoist_global_options(["status", "--repo", "/r", "-n", "media"]) == ["--repo", "/r", "status", "-n", "media"]
    assert hoist_global_options(["--repo", "run", "run", "x", "--context=c"]) == [
        "--context=c", "--repo", "run", "run", "x"]  # `run` as the value of --repo is not the command
    assert hoist_global_options(["run", "x", "--", "--sim"]) == ["run", "x", "--", "--sim"]


def test_options_after_the_command_and_no_mode_flag_suggested(ops: Mediaops) -> None:
    result = ops.run("run", "activate", "plex-exporter", "--dry-run", "--sim", "--repo", str(ops.cwd))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dry run complete" in result.stdout
    typo = ops.run("run", "activate", "plex-exporter", "--ye")
    assert typo.returncode == 2 and "No such option '--ye'" in typo.stderr and "--yes" not in typo.stderr


def _backup_command(output: str) -> str:
    return next(line for line in output.splitlines() if "velero backup create" in line)


def test_a_command_is_whole_in_a_pipe_and_at_80_columns(ops: Mediaops) -> None:
    piped = ops.run("--sim", "run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--dry-run")
    assert piped.returncode == 0, piped.stderr[-2000:]
    line = _backup_command(piped.stdout)
    assert line.startswith("kubectl create configmap mediaops-skip-nfs") and line.endswith("--ttl 720h --wait")
    assert "╭" not in piped.stdout and "╰" not in piped.stdout  # plain: no boxes in a log
    child = pexpect.spawn(MEDIAOPS, ["--sim", "run", "backup-before-upgrade", "tautulli", "--chart-version",
                                     "3.7.2", "--dry-run"], env={**ops.env, "COLUMNS": "80"}, cwd=str(ops.cwd),
                          encoding="utf-8", timeout=120, dimensions=(40, 80))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before.replace("\r", ""))
    stamp = re.compile(r"pre-tautulli-\d+")  # the backup's name carries the time of each run
    assert stamp.sub("B", line) == stamp.sub("B", _backup_command(text))  # unbroken: the terminal folds it


def test_run_ids_by_last_or_a_unique_part(ops: Mediaops) -> None:
    for _ in range(2):
        assert ops.run("--sim", "run", "reconcile", "tautulli", "--yes").returncode == 0
    listed = ops.run("runs", "--json").stdout
    ids = [r["run_id"] for r in json.loads(listed)]
    last = ops.run("runs", "show", "last", "--json")
    assert last.returncode == 0 and json.loads(last.stdout)["run_id"] == ids[0]
    part = ops.run("runs", "show", ids[1][-4:], "--json")
    assert json.loads(part.stdout)["run_id"] == ids[1]
    ambiguous = ops.run("runs", "show", "reconcile")
    assert ambiguous.returncode == 2 and "matches 2 runs" in ambiguous.stderr and ids[0] in ambiguous.stderr


def test_a_run_needing_a_human_is_refused_before_any_rehearsal(ops: Mediaops) -> None:
    result = ops.run("--sim", "run", "trakt-reauth", "--yes")
    assert result.returncode == 2 and "a step a human must do" in result.stderr
    assert "starting a rehearsal" not in result.stderr


def test_an_in_process_rehearsal_offers_no_resume(ops: Mediaops) -> None:
    failed = ops.run("--sim", "run", "backup-before-upgrade", "tautulli", "--chart-version", "9.9.9", "--yes")
    assert failed.returncode == 1
    assert "resume with" not in failed.stdout and "mediaops undo" not in failed.stdout  # its cluster is gone


def test_checks_follow_the_background_rehearsal_without_extra_exports(sim: Mediaops) -> None:
    sim.env.pop("MEDIAOPS_NAS_PORT", None)
    shown = {k: v for k, v in json.loads(sim.run("config", "show", "--json").stdout).items()}
    state = json.loads((sim.state / "sim" / "state.json").read_text())
    assert shown["ingress_base_url"] == {"value": state["ingress"], "source": "sim up"}
    assert shown["nas_port"] == {"value": state["nas"].rpartition(":")[2], "source": "sim up"}
    status = sim.run("sim", "status")
    assert status.returncode == 0 and "Kustomizations  12/12 Ready" in status.stdout
    assert json.loads(sim.run("sim", "status", "--json").stdout)["controller_errors"] == 0


def test_sim_up_on_a_taken_nas_port_says_why(ops: Mediaops) -> None:
    import socket

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.2.40", 0))
        taken.listen()
        result = ops.run("sim", "up", "--timing", "fast", "--nas-port", str(taken.getsockname()[1]))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot serve the NAS on 127.0.2.40:" in result.stderr and "--nas-port 0" in result.stderr
    shown = json.loads(ops.run("config", "show", "--json").stdout)
    assert shown["repo"]["source"] == "found from the working directory"


def test_shell_completion_offers_run_ids(ops: Mediaops) -> None:
    assert ops.run("--sim", "run", "reconcile", "tautulli", "--yes").returncode == 0
    (run_id,) = [r["run_id"] for r in json.loads(ops.run("runs", "--json").stdout)]
    completed = subprocess.run([MEDIAOPS], env={**ops.env, "_MEDIAOPS_COMPLETE": "bash_complete",
                                                "COMP_WORDS": f"mediaops undo {run_id[:8]}", "COMP_CWORD": "2"},
                               cwd=ops.cwd, capture_output=True, text=True, timeout=60)
    assert f"plain,{run_id}" in completed.stdout.splitlines()
