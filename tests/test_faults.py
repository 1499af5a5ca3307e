"""The rehearsal's faults are declared once (mediaops/sim/faults.py): the CLI's help, the control endpoint and the
faults table of docs/rehearsal.md all list exactly those, and `mediaops docs --check` catches a table edited by hand."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediaops.engine import reports
from mediaops.sim.faults import FAULTS
from tests.conftest import ROOT, HomeOps, Mediaops

PAGE = ROOT / "docs" / "rehearsal.md"


def table_rows(text: str) -> list[str]:
    """The rows of the faults table between the markers of a rehearsal page."""
    begin = text.index(reports.FAULTS_BEGIN) + len(reports.FAULTS_BEGIN)
    table = text[begin:text.index(reports.FAULTS_END, begin)]
    return table.strip().splitlines()[2:]


def help_section(text: str, title: str) -> list[str]:
    """The terms of a section of click's help (continuation lines are indented further)."""
    lines = text.split(f"\n{title}:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [line.strip() for line in lines if re.match(r"  \S", line)]


@pytest.fixture
def rehearsal(tmp_path: Path, home_ops: HomeOps) -> Iterator[Any]:
    """A rehearsal that was never started: enough for its control endpoint and the faults it switches alone."""
    from mediaops.sim.cluster import Rehearsal

    sim = Rehearsal(home_ops.path, workdir=tmp_path / "rehearsal", nas_port=0)
    try:
        yield sim
    finally:
        sim.server.server_close()


def test_the_cli_help_lists_the_registry(mediaops: Mediaops) -> None:
    result = mediaops.run("sim", "fault", "--help")
    assert result.returncode == 0, result.stderr
    listed = help_section(result.stdout, "Faults")
    assert [line.split()[0] for line in listed] == list(FAULTS)
    assert [line.split("  ")[0] for line in listed] == [f.usage for f in FAULTS.values()]
    values = help_section(result.stdout, "Values")
    assert {line.split()[0] for line in values} == {f.value.metavar or "VALUE" for f in FAULTS.values()}


def test_the_control_endpoint_knows_the_registry(rehearsal: Any) -> None:
    status, body = rehearsal.control("POST", "/rehearsal/fault", {"name": "no-such-fault"})
    assert status == 400
    assert body["message"].startswith("unknown fault 'no-such-fault'; known: ")
    assert body["message"].split("; known: ")[1].split(", ") == list(FAULTS)
    with pytest.raises(KeyError):
        rehearsal.set_fault("no-such-fault")


def test_faults_switched_through_the_registry_say_what_is_in_force(rehearsal: Any) -> None:
    assert rehearsal.set_fault("api-errors", "0.5") == "api-errors: 50% of requests"
    assert rehearsal.server.faults.error_rate == 0.5
    assert rehearsal.set_fault("api-errors-after-write") == "api-errors-after-write: 100% of requests"
    assert rehearsal.set_fault("api-throttle", "off") == "api-throttle: 0% of requests"
    assert rehearsal.set_fault("watch-drop") == "watch-drop: on" and rehearsal.server.faults.drop_watches
    assert rehearsal.set_fault("eso-clock-skew", "-3600") == "eso-clock-skew: -3600 s"
    assert rehearsal.set_fault("backup-partial", "on") == "backup-partial: on"
    assert rehearsal.set_fault("backup-partial", "off") == "backup-partial: off"
    assert rehearsal.set_fault("receiver", "off") == "receiver: 0% of source reconcile requests"
    status, body = rehearsal.control("POST", "/rehearsal/fault", {"name": "receiver", "value": "2"})
    assert (status, body["message"]) == (400, "receiver takes a share from 0 to 1, not 2")
    assert rehearsal.summary()["faults"]["eso-clock-skew"] == -3600


def test_the_docs_table_lists_the_registry() -> None:
    text = PAGE.read_text(encoding="utf-8")
    rows = table_rows(text)
    assert [row.split("`")[1].split()[0] for row in rows] == list(FAULTS)
    assert reports.rehearsal_page(text) == text  # as `mediaops docs` writes it
    assert "\n".join(rows) + "\n" == reports.faults_table().split("\n", 2)[2]


def test_docs_check_fails_when_the_faults_table_is_edited_by_hand(mediaops: Mediaops, tmp_path: Path) -> None:
    page, out = tmp_path / "rehearsal.md", tmp_path / "pages"
    shutil.copy(PAGE, page)
    args = ("docs", "--out", str(out), "--rehearsal-page", str(page))
    assert mediaops.run(*args).returncode == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
    assert mediaops.run(*args, "--check").returncode == 0

    edited = page.read_text(encoding="utf-8").replace("that share of API requests answered 500",
                                                      "that share of API requests answered 503")
    page.write_text(edited, encoding="utf-8")
    stale = mediaops.run(*args, "--check")
    assert stale.returncode == 1
    assert f"stale: the faults table in {page}" in stale.stderr
    assert page.read_text(encoding="utf-8") == edited  # --check changes nothing

    written = mediaops.run(*args)
    assert written.returncode == 0 and "the faults table" in written.stdout
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")

    # Only the table is generated: the rest of the page is left as it is.
    page.write_text(edited.replace("# The rehearsal cluster", "# The rehearsal cluster, edited"), encoding="utf-8")
    assert mediaops.run(*args).returncode == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8").replace(
        "# The rehearsal cluster", "# The rehearsal cluster, edited")


def test_docs_without_the_markers_says_so(mediaops: Mediaops, tmp_path: Path) -> None:
    page = tmp_path / "rehearsal.md"
    page.write_text(PAGE.read_text(encoding="utf-8").replace(reports.FAULTS_END, ""), encoding="utf-8")
    result = mediaops.run("docs", "--check", "--out", str(tmp_path / "pages"), "--rehearsal-page", str(page))
    assert result.returncode == 2
    assert "markers around the faults table" in result.stderr
