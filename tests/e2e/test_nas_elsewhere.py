"""A repository whose NAS is on the operator's LAN (most real ones: an address or a name of their own), rehearsed:
the rehearsal's NAS on 127.0.0.1 stands in for it, and no check nor runbook ever asks the real one.

Every command runs with tests/standins/offline on its PYTHONPATH: a lookup or connection anywhere but loopback
fails and is written down."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MEDIAOPS, HomeOps, Mediaops, clean_env, make_home_ops

OFFLINE = Path(__file__).parents[1] / "standins" / "offline"
LAN_NAS = "10.20.30.40"  # someone else's address: asked, the guard would write it down


def _nas_on_the_lan(work: Path) -> None:
    """The sample's NAS (its NFS server, its Plex, its object store) moved to the LAN."""
    for path in (work / "kubernetes").rglob("*.yaml"):
        text = path.read_text()
        if "127.0.2.40" in text:
            path.write_text(text.replace("127.0.2.40", LAN_NAS))


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path, prepare=_nas_on_the_lan)


@pytest.fixture
def ops(tmp_path: Path, home_ops: HomeOps) -> Mediaops:
    env = clean_env(tmp_path)
    env.update(PYTHONPATH=str(OFFLINE), OFFLINE_LOG=str(tmp_path / "asked-elsewhere.log"))
    return Mediaops(env, home_ops.path, tmp_path / "state")


def _asked_elsewhere(ops: Mediaops) -> list[str]:
    log = Path(ops.env["OFFLINE_LOG"])
    return log.read_text().splitlines() if log.exists() else []


def _nfs_share(ops: Mediaops, *flags: str) -> tuple[int, dict[str, Any]]:
    result = ops.run(*flags, "check", "calibre-web", "--only", "nfs-share", "--json")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    (found,) = json.loads(result.stdout)["results"]
    return result.returncode, found


def test_sim_stands_in_for_the_nas_on_the_lan(ops: Mediaops) -> None:
    (app,) = [a for a in json.loads(ops.run("apps", "--json").stdout) if a["name"] == "calibre-web"]
    assert {m["server"] for m in app["nfs"]} == {LAN_NAS}  # the repository's NAS, as read
    code, found = _nfs_share(ops, "--sim")
    assert (code, found["status"]) == (0, "ok"), found
    assert found["command"].startswith("nc -zv 127.0.0.1 ")
    assert _asked_elsewhere(ops) == []


def test_sim_up_stands_in_for_it_through_an_outage(sim: Mediaops) -> None:
    code, found = _nfs_share(sim)
    assert (code, found["status"]) == (0, "ok") and found["command"].startswith("nc -zv 127.0.0.1 ")
    assert found["message"].endswith(f"standing in for {LAN_NAS})")
    sim.run("sim", "fault", "nas-down")
    code, found = _nfs_share(sim)
    assert (code, found["status"]) == (1, "fail")
    # The outage as the runbook handles it: out of service, waiting on the stand-in, back when it answers again.
    run = subprocess.Popen([MEDIAOPS, "run", "nfs-outage", "--yes", "--json"], env=sim.env, cwd=sim.cwd,
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    for line in run.stdout:
        event = json.loads(line)
        if event["event"] == "wait_start" and "the NAS" in event["label"]:
            assert "127.0.0.1" in event["label"], event
            break
    sim.run("sim", "fault", "nas-down", "off")
    assert run.wait(timeout=60) == 0
    assert _nfs_share(sim)[1]["status"] == "ok"
    assert _asked_elsewhere(sim) == []
