"""The light table renderer: every line within the width, cells wrapped on words, long words and unwrappable
cells cut with …, colour only when asked."""

from __future__ import annotations

import pytest

from mediaops.engine.table import Cell, Column, render

COLUMNS = [Column("app", wrap=False), Column("state", wrap=False), Column("notes")]


def test_lines_fit_and_wrap_on_words() -> None:
    rows = [[Cell("calibre-web"), Cell("active", "green"),
             Cell("NFS 127.0.2.40:/volume1/media mounted read-only; depends on cloudflared and democratic-csi")],
            [Cell("tautulli"), Cell("disabled", "dim"), Cell("")]]
    text = render(COLUMNS, rows, total=60, styled=False)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines), text
    assert lines[0].split() == ["app", "┃", "state", "┃", "notes"] and set(lines[1]) <= {"━", "╇"}
    body = " ".join(line.split("│")[2].strip() for line in lines[2:] if "│" in line)
    assert "depends on cloudflared and" in body and "\x1b" not in text
    assert sum(1 for line in lines if "calibre-web" in line) == 1  # wrapped rows leave the first columns blank


def test_long_words_are_cut_and_colour_is_optional() -> None:
    rows = [[Cell("a" * 50), Cell("active", "green"), Cell("x" * 80)]]
    text = render(COLUMNS, rows, total=40, styled=False)
    assert "…" in text and all(len(line) <= 40 for line in text.splitlines()), text
    painted = render(COLUMNS, [[Cell("app"), Cell("active", "green"), Cell("")]], total=80, styled=True)
    assert "\x1b[32mactive" in painted


def test_the_status_table_keeps_every_column_at_80(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long names and messages, as a real repository has them (actions-runner-controller in
    actions-runner-system): the message gives way first, then the longest names are cut; STATUS and READY stay
    whole, and every line fits, in kubectl get's look."""
    from mediaops.cluster.status import AppStatus
    from mediaops.engine import reports

    rows = [AppStatus("actions-runner-controller", "actions-runner-system", "active", kustomization="Failed",
                      revision="314571e3aa", reconciled="6s", replicas="1/1",
                      message="dependency 'actions-runner-system/actions-runner-controller-crds' is not ready"),
            AppStatus("tautulli", "media", "active", kustomization="Ready", helmrelease="Ready", replicas="0/1",
                      revision="314571e3aa", reconciled="1m", scaled_down=["Deployment tautulli (was 1)"])]
    monkeypatch.setenv("COLUMNS", "80")
    text = reports.status_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["NAME", "NS", "STATUS", "READY", "REVISION", "AGE", "MESSAGE"]
    assert all(len(line) <= 80 for line in lines), text
    first, second = lines[2].split(), lines[3].split()
    assert first[2:6] == ["Failed", "1/1", "314571e", "6s"] and first[0].endswith("…") and first[6].endswith("…")
    assert second[:6] == ["tautulli", "media", "ScaledDown", "0/1", "314571e", "1m"]
    assert lines[4] == "⚠ media/tautulli: scaled down by mediaops: Deployment tautulli (was 1)"


@pytest.mark.parametrize(("columns", "expected"), [("100", 100), (" 100", 100), ("+90", 90), ("1_00", 100)])
def test_the_width_is_read_from_columns_as_shutil_reads_it(monkeypatch: pytest.MonkeyPatch, columns: str,
                                                          expected: int) -> None:
    from mediaops.engine.table import width

    monkeypatch.setenv("COLUMNS", columns)
    assert width() == expected
