"""The rehearsal's faults are declared once (mediaops/sim/faults.py): the control endpoint and the faults table of
docs/rehearsal.md list exactly those (the CLI's help and `mediaops docs --check`: tests/e2e/test_faults.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mediaops.engine import reports
from mediaops.sim.faults import FAULTS
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "rehearsal.md"


def table_rows(text: str) -> list[str]:
    """The rows of the faults table between the markers of a rehearsal page."""
    begin = text.index(reports.FAULTS_BEGIN) + len(reports.FAULTS_BEGIN)
    table = text[begin:text.index(reports.FAULTS_END, begin)]
    return table.strip().splitlines()[2:]


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
