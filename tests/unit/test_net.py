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
