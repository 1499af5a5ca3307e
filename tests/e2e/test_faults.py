"""The rehearsal's faults are declared once (mediaops/sim/faults.py): the CLI's help lists exactly those, and
`mediaops docs --check` catches a faults table of docs/rehearsal.md edited by hand (the control endpoint and the
table itself: tests/unit/test_faults.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mediaops.engine import reports
from mediaops.sim.faults import FAULTS
from tests.conftest import ROOT, Mediaops

PAGE = ROOT / "docs" / "rehearsal.md"


def help_section(text: str, title: str) -> list[str]:
    """The terms of a section of click's help (continuation lines are indented further)."""
    lines = text.split(f"\n{title}:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [line.strip() for line in lines if re.match(r"  \S", line)]


def test_the_cli_help_lists_the_registry(mediaops: Mediaops) -> None:
    result = mediaops.run("sim", "fault", "--help")
    assert result.returncode == 0, result.stderr
    listed = help_section(result.stdout, "Faults")
    assert [line.split()[0] for line in listed] == list(FAULTS)
    assert [line.split("  ")[0] for line in listed] == [f.usage for f in FAULTS.values()]
    values = help_section(result.stdout, "Values")
    assert {line.split()[0] for line in values} == {f.value.metavar or "VALUE" for f in FAULTS.values()}


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
