"""What the cluster says is printed as it says it: rich reads `[word]` as a style and drops it, and Kubernetes
writes brackets ("containers with unready status: [tautulli]", an IPv6 server `https://[fd00::1]:6443`)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mediaops.checks import Result
from mediaops.cli.check import _table
from mediaops.cluster.status import AppStatus
from mediaops.engine.reports import status_wide
from tests.conftest import Mediaops

MESSAGE = "containers with unready status: [tautulli]"


def test_status_wide_prints_a_message_whole() -> None:
    out = io.StringIO()
    row = AppStatus("tautulli", "media", "active", kustomization="False", message=MESSAGE)
    Console(file=out, width=400, highlight=False, emoji=False).print(status_wide([row]))
    assert MESSAGE in out.getvalue()


def test_the_checks_table_prints_a_message_whole(capsys: pytest.CaptureFixture[str]) -> None:
    _table([Result("restarts", "media/[x]", "fail", MESSAGE)], {"fail": 1}, True)
    printed = capsys.readouterr().out
    assert MESSAGE in " ".join(printed.split()) and "media/[x]" in printed


def test_config_show_prints_an_ipv6_url_whole(mediaops: Mediaops) -> None:
    mediaops.env.update(MEDIAOPS_INGRESS_BASE_URL="http://[fd00::1]:8080", COLUMNS="200")
    shown = mediaops.run("config", "show")
    assert shown.returncode == 0, shown.stderr
    assert "http://[fd00::1]:8080" in shown.stdout
