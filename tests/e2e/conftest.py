"""Fixtures of the end-to-end tests (tests/e2e/); the shared ones (the installed CLI, the sample repository, the
rehearsal, `sim up` in the background) are in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, clean_env


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """An empty directory for the engine's test runbooks to write into."""
    path = tmp_path / "scratch"
    path.mkdir()
    return path


@pytest.fixture
def lay(tmp_path: Path, layouts: HomeOps) -> Mediaops:
    """The CLI run from inside a copy of tests/fixtures/layouts."""
    return Mediaops(clean_env(tmp_path), layouts.path, tmp_path / "state")
