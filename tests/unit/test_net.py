"""Waiting on a TCP port (the NAS's NFS): probed at once, then with a growing pause; a timeout says what it saw."""

from __future__ import annotations

import socket
import time

import pytest

from mediaops import net


def test_wait_tcp_up_down_and_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert net.wait_tcp("127.0.0.1", port, up=True, timeout=5).endswith("answers")
    with pytest.raises(net.NotYet, match="answers"):
        net.wait_tcp("127.0.0.1", port, up=False, timeout=0.2)
    listener.close()
    started = time.monotonic()
    assert "refused" in net.wait_tcp("127.0.0.1", port, up=False, timeout=5).lower()
    assert time.monotonic() - started < 1  # found at the first probe, no fixed one-second sleep
    seen: list[str] = []

    class Waiting:
        def update(self, status: str) -> None:
            seen.append(status)

    with pytest.raises(net.NotYet):
        net.wait_tcp("127.0.0.1", port, up=True, timeout=0.3, waiting=Waiting())
    assert seen and seen[0].startswith("not answering: 127.0.0.1:")


def test_gatus_conditions_on_the_status_decide_what_is_up() -> None:
    """gatus-sidecar's endpoint annotation, as Gatus evaluates its [STATUS] conditions (all must hold)."""
    expect = net.expected_status('conditions: ["[STATUS] == 404"]')
    assert expect is not None and expect[0](404) and not expect[0](200) and expect[1] == "[STATUS] == 404"
    ranged = net.expected_status('conditions:\n  - "[STATUS] >= 200"\n  - "[STATUS] < 300"\n  - "[BODY] == pong"')
    assert ranged is not None and ranged[0](204) and not ranged[0](301) and not ranged[0](199)
    choice = net.expected_status('conditions: ["[STATUS] == any(200, 403)", "[RESPONSE_TIME] < 500"]')
    assert choice is not None and choice[0](403) and choice[0](200) and not choice[0](404)
    assert net.expected_status('conditions: ["[RESPONSE_TIME] < 500"]') is None
    assert net.expected_status("") is None


def test_a_path_that_makes_no_url_is_no_answer_not_an_error() -> None:
    """A route's RegularExpression is no path to ask for (route_path gives /); and should a bad URL reach
    http_check anyway, it says there was no answer instead of raising."""
    from mediaops.repo.apptemplate import route_path

    regex = {"rules": [{"matches": [{"path": {"type": "RegularExpression", "value": "^/mcp/.*"}}]}]}
    assert route_path(regex) == "/"
    assert route_path({"rules": [{"matches": [{"path": {"type": "Exact", "value": "/ping"}}]}]}) == "/ping"
    answer = net.http_check("h.test", "^/mcp/.*", "http://127.0.0.1:1")
    assert not answer.ok and answer.note.startswith("no answer from http://127.0.0.1:1^/mcp/.*")
