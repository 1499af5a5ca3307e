"""Fixtures of the in-process tests (tests/unit/); the shared ones (the sample repository, the rehearsal cluster)
are in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HomeOps


@pytest.fixture
def rehearsal(tmp_path: Path, home_ops: HomeOps) -> Iterator[Any]:
    """A rehearsal that was never started: enough for its control endpoint and the faults it switches alone."""
    from mediaops.sim.cluster import Rehearsal

    sim = Rehearsal(home_ops.path, workdir=tmp_path / "rehearsal", nas_port=0)
    try:
        yield sim
    finally:
        sim.server.server_close()
