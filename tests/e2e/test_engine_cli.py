"""The engine through the installed CLI: modes, prompts, undo, journal, resume, JSON events, exit codes."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import jsonschema
import pexpect
import pytest

from tests.conftest import ROOT, Mediaops, answer, tree_digest

SCHEMA = json.loads((ROOT / "mediaops" / "schemas" / "events.schema.json").read_text())


def test_dry_run_writes_nothing_and_shows_the_diff(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "a.txt").write_text("old\n")
    before = tree_digest(scratch)
    result = mediaops.run("run", "write-files", str(scratch), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert tree_digest(scratch) == before
    assert "-old" in result.stdout and "+hello" in result.stdout
    assert "echo hello > " in result.stdout
    assert "dry run complete: nothing was changed" in result.stdout
    assert mediaops.journals() == {}


def test_dry_run_blocks_a_runbook_that_writes_from_a_read_only_step(mediaops: Mediaops, scratch: Path) -> None:
    before = tree_digest(scratch)
    result = mediaops.run("run", "sneaky", str(scratch), "--dry-run")
    assert result.returncode == 1
    assert "refused to open" in result.stdout
    assert tree_digest(scratch) == before
    # a step declared read-only is held to it in a real run as well
    result = mediaops.run("run", "sneaky", str(scratch), "--yes")
    assert result.returncode == 1
    assert tree_digest(scratch) == before


def test_checks_cannot_start_processes(mediaops: Mediaops, scratch: Path) -> None:
    result = mediaops.run("run", "spawner", str(scratch), "--yes")
    assert result.returncode == 3
    assert "refused to start a process" in result.stdout
    assert not (scratch / "spawned.txt").exists()


def test_yes_runs_every_step_and_journals_it(mediaops: Mediaops, scratch: Path) -> None:
    result = mediaops.run("run", "write-files", str(scratch), "--yes", "--label", "hi")
    assert result.returncode == 0, result.stdout
    assert [p.name for p in sorted(scratch.iterdir())] == ["a.txt", "b.txt", "c.txt"]
    assert "to do by hand: Tell the team" in result.stdout
    (run_id, events), = mediaops.journals().items()
    start = events[0]
    assert start["event"] == "run_start" and start["params"] == {"dir": str(scratch), "label": "hi"}
    assert start["user"] and start["host"]
    ends = [e for e in events if e["event"] == "step_end"]
    assert [e["outcome"] for e in ends] == ["done", "done", "done", "done", "todo"]
    assert all(isinstance(e.get("duration", 0.0), float) for e in ends)
    assert events[-1]["event"] == "run_end" and events[-1]["status"] == "done"
    listed = json.loads(mediaops.run("runs", "--json").stdout)
    assert listed[0]["run_id"] == run_id and listed[0]["status"] == "done"


def test_second_run_finds_steps_already_done(mediaops: Mediaops, scratch: Path) -> None:
    assert mediaops.run("run", "write-files", str(scratch), "--yes").returncode == 0
    result = mediaops.run("run", "write-files", str(scratch), "--yes", "--json")
    ends = [json.loads(line) for line in result.stdout.splitlines()]
    outcomes = {e["title"]: e["outcome"] for e in ends if e["event"] == "step_end"}
    assert outcomes["Write a.txt"] == "not_needed"
    assert outcomes["Write b.txt"] == "not_needed"


def test_no_terminal_and_no_yes_is_refused_at_once(mediaops: Mediaops, scratch: Path) -> None:
    result = mediaops.run("run", "write-files", str(scratch))
    assert result.returncode == 2
    assert "not at a terminal and --yes not given" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(scratch.iterdir()) == [] and mediaops.journals() == {}


def test_json_events_follow_the_schema(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "fail").touch()
    result = mediaops.run("run", "write-files", str(scratch), "--yes", "--json", "--rollback-on-failure")
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    for event in events:
        jsonschema.validate(event, SCHEMA)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert "undo_start" in kinds and "\x1b" not in result.stdout
    dry = mediaops.run("run", "write-files", str(scratch), "--dry-run", "--json")
    for line in dry.stdout.splitlines():
        jsonschema.validate(json.loads(line), SCHEMA)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "no-such-runbook"], 2, "no runbook named 'no-such-runbook'"),
        (["run", "write-files", "{dir}", "--dry-run", "--yes"], 2, "--dry-run and --yes exclude each other"),
        (["run", "write-files", "{dir}", "--json"], 2, "--json never prompts"),
        (["run", "write-files", "{dir}/missing", "--yes"], 3, "precondition not met"),
        (["run", "handmade", "--yes"], 2, "a step a human must do"),
        (["resume", "nope"], 2, "no run 'nope'"),
    ],
)
def test_exit_codes(mediaops: Mediaops, scratch: Path, args: list[str], code: int, message: str) -> None:
    result = mediaops.run(*[a.replace("{dir}", str(scratch)) for a in args])
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stdout + result.stderr
    assert list(scratch.iterdir()) == []


def test_failure_with_yes_stops_and_rolls_back_only_when_asked(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "fail").touch()
    result = mediaops.run("run", "write-files", str(scratch), "--yes")
    assert result.returncode == 1
    assert "found the file 'fail'" in result.stdout
    assert (scratch / "b.txt").exists()  # no rollback without the flag
    assert "mediaops resume" in result.stdout and "or undo what it did: mediaops undo" in result.stdout
    (scratch / "b.txt").unlink()
    (scratch / "a.txt").unlink()
    result = mediaops.run("run", "write-files", str(scratch), "--yes", "--rollback-on-failure")
    assert result.returncode == 1
    assert sorted(p.name for p in scratch.iterdir()) == ["fail"]
    assert "resume with" not in result.stdout and "mediaops undo" not in result.stdout  # all of it was undone


def test_interactive_run_skip_details_abort_and_undo(mediaops: Mediaops, scratch: Path) -> None:
    child = mediaops.spawn("run", "write-files", str(scratch))
    child.expect("Write a.txt")
    child.expect("Run this step")
    answer(child, "d")
    child.expect("undo: restore the files")
    child.expect("Run this step")
    answer(child, "r")
    child.expect("Write b.txt")
    child.expect("Run this step")
    answer(child, "s")
    child.expect("Write c.txt")
    child.expect("Run this step")
    answer(child, "r")
    child.expect("Done by hand")
    answer(child, "a")
    child.expect("Undo the 2 completed step")
    child.send("y")
    child.expect("aborted by the operator")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert list(scratch.iterdir()) == []
    (events,) = mediaops.journals().values()
    undone = [e["index"] for e in events if e["event"] == "undo_end" and e["outcome"] == "done"]
    assert undone == [2, 0]
    assert any(e["event"] == "step_end" and e["outcome"] == "skipped" for e in events)


def test_interactive_failure_offers_retry(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "fail").touch()
    child = mediaops.spawn("run", "write-files", str(scratch))
    for _ in range(3):
        child.expect("Run this step")
        answer(child, "r")
    child.expect("The step failed")
    (scratch / "fail").unlink()
    answer(child, "t")
    child.expect("Done by hand")
    answer(child, "y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (scratch / "c.txt").read_text() == "hello\n"


def test_resume_after_a_failure_continues_where_it_stopped(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "fail").touch()
    failed = mediaops.run("run", "write-files", str(scratch), "--yes")
    assert failed.returncode == 1
    run_id = re.search(r"mediaops resume (\S+)", failed.stdout).group(1)  # type: ignore[union-attr]
    (scratch / "fail").unlink()
    (scratch / "a.txt").write_text("changed by someone\n")
    resumed = mediaops.run("resume", run_id, "--yes", "--json")
    assert resumed.returncode == 0, resumed.stdout
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert events[0]["resumed"] is True and events[0]["resume_at"] == 2
    assert [e["index"] for e in events if e["event"] == "step_start"] == [2, 3, 4]
    assert (scratch / "a.txt").read_text() == "changed by someone\n"  # step 1 was not run again
    shown = json.loads(mediaops.run("runs", "show", run_id, "--json").stdout)
    assert shown["status"] == "done"
    assert [s["outcome"] for s in shown["steps"]] == ["done", "done", "done", "done", "todo"]
    report = mediaops.run("runs", "show", run_id, "--markdown").stdout
    assert f"- run: `{run_id}`" in report and "| 3 | Write c.txt unless told to fail | done |" in report


def test_sigint_mid_step_journals_and_resumes(mediaops: Mediaops, scratch: Path) -> None:
    (scratch / "hold").touch()
    child = mediaops.spawn("run", "write-files", str(scratch), "--yes")
    child.expect("the 'hold' file to go away")
    child.kill(signal.SIGINT)
    child.expect(r"resume with: mediaops resume ([0-9a-z-]+)")
    run_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    events = mediaops.journals()[run_id]
    assert events[-1]["status"] == "interrupted"
    assert any(e["event"] == "step_end" and e["outcome"] == "interrupted" and e["index"] == 3 for e in events)
    (scratch / "hold").unlink()
    resumed = mediaops.run("resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stdout
    assert "resuming at step 4" in resumed.stdout
    assert "re-running the preconditions" in resumed.stdout


def test_secrets_never_reach_output_or_journal(mediaops: Mediaops) -> None:
    token = "s3cr3t-t0ken-value"
    result = mediaops.run("run", "secretive", "--token", token, "--yes")
    assert result.returncode == 0, result.stdout
    assert token not in result.stdout + result.stderr
    assert "••••" in result.stdout
    for events in mediaops.journals().values():
        assert token not in json.dumps(events)


def test_docs_check_detects_stale_pages(mediaops: Mediaops, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    assert mediaops.run("docs", "--check", "--out", str(out)).returncode == 1
    assert mediaops.run("docs", "--out", str(out)).returncode == 0
    assert mediaops.run("docs", "--check", "--out", str(out)).returncode == 0
    page = (out / "write-files.md").read_text()
    assert "### 2. Write b.txt" in page and "**Undo:** remove b.txt" in page
    (out / "write-files.md").write_text(page.replace("remove b.txt", "something else"))
    stale = mediaops.run("docs", "--check", "--out", str(out))
    assert stale.returncode == 1 and "write-files.md" in stale.stderr


def test_show_and_list_describe_the_runbooks(mediaops: Mediaops) -> None:
    listed = json.loads(mediaops.run("list", "--json").stdout)
    assert {"write-files", "sneaky", "handmade"} <= {r["name"] for r in listed}
    shown = mediaops.run("show", "write-files")
    assert shown.returncode == 0
    assert "Write c.txt unless told to fail" in shown.stdout and "rm DIR/c.txt" in shown.stdout


def test_continue_without_asking_runs_the_rest_but_a_manual_step_still_asks(mediaops: Mediaops,
                                                                             scratch: Path) -> None:
    child = mediaops.spawn("run", "write-files", str(scratch))
    child.expect("Write a.txt")
    child.expect("Run this step")
    child.send("c")  # one keystroke, no Enter
    child.expect("continuing without asking")
    child.expect("Done by hand")  # a human is still asked what only a human can do
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert sorted(p.name for p in scratch.iterdir()) == ["a.txt", "b.txt", "c.txt"]
    (events,) = mediaops.journals().values()
    assert {e["outcome"] for e in events if e["event"] == "step_end"} == {"done"}
