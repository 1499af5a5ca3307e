"""overseerr-weekly end to end against the rehearsal's Overseerr API stand-in: status, pending requests, test
notifications, the latest backup; the API key never shown, journaled or reported."""

from __future__ import annotations

import json

from tests.conftest import Mediaops


def test_the_weekly_check_reports_and_sends_test_notifications(sim: Mediaops) -> None:
    key = json.loads((sim.state / "sim" / "state.json").read_text())["overseerr_api_key"]
    result = sim.run("run", "overseerr-weekly", "--yes", "--json")
    assert result.returncode == 0, result.stdout[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ends = {e["title"]: e for e in events if e["event"] == "step_end"}
    assert ends["Overseerr answers on its status endpoint"]["summary"].startswith("version ")
    assert ends["Pending requests"]["summary"].startswith("2 pending; the oldest")
    assert ends["Send a test notification through each enabled agent"]["summary"] == "sent through discord, webhook"
    plans = {e["title"]: e["command"] for e in events if e["event"] == "step_plan"}
    assert "| curl -s -X POST" in plans["Send a test notification through each enabled agent"]
    assert "$OVERSEERR_API_KEY" in plans["Pending requests"]
    report = sim.run("runs", "show", "last", "--markdown").stdout
    assert "Findings and warnings:" in report and "no finished backup covers namespace media" in report
    journals = json.dumps(sim.journals())
    assert key not in result.stdout + result.stderr + report + journals

    assert sim.run("sim", "fault", "overseerr-pending", "3").returncode == 0
    assert sim.run("sim", "fault", "overseerr-notify-fail", "discord").returncode == 0
    failed = sim.run("run", "overseerr-weekly", "--yes")
    flat = " ".join(failed.stdout.split())
    assert failed.returncode == 1 and "test notification failed: discord" in flat, flat[-1500:]
    assert "3 pending; the oldest" in flat and "has waited 3 days" not in flat  # 3 days is within a week


def test_without_its_url_or_key_it_says_what_to_set(ops: Mediaops) -> None:
    result = ops.run("run", "overseerr-weekly", "--yes")
    assert result.returncode == 3 and "set overseerr_url" in result.stdout
    ops.env["MEDIAOPS_OVERSEERR_URL"] = "http://127.0.0.1:9"
    result = ops.run("run", "overseerr-weekly", "--yes")
    assert result.returncode == 3 and "export MEDIAOPS_OVERSEERR_API_KEY" in result.stdout
