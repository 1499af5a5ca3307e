"""What mediaops keeps in its cache directory is written whole, kept within bounds, and never left half-written."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mediaops.config import keep_in_cache, user_dir


def test_written_whole_within_bounds_and_without_leftovers(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "pages"
    left = cache / ".writing-left-by-a-killed-command"
    recent = cache / ".writing-of-a-command-still-running"
    cache.mkdir(parents=True)
    for temporary in (left, recent):
        temporary.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    for index in range(9):
        page = cache / f"{index}.txt"
        keep_in_cache(page, f"page {index}".encode(), most=4, pattern="*.txt")
        os.utime(page, (two_hours_ago + index, two_hours_ago + index))  # each written after the one before
    kept = sorted(p.name for p in cache.glob("*.txt"))
    assert len(kept) <= 4 and "8.txt" in kept and (cache / "8.txt").read_text() == "page 8"
    assert not left.exists() and recent.exists()  # a temporary file of another command, still being written
    assert [p.name for p in cache.iterdir() if p.name.startswith(".writing-")] == [recent.name]


def test_a_cache_that_cannot_be_written_is_only_slower(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    keep_in_cache(blocked / "pages" / "0.txt", b"page")  # nothing raised, nothing written
    assert blocked.read_text() == "not a directory"


@pytest.mark.parametrize("home", ["/home/op", "/home/op/", "relative/home", None])
@pytest.mark.parametrize("xdg", [None, "", "/xdg/dir", "/xdg/dir/", "relative/xdg"])
@pytest.mark.parametrize("kind", ["cache", "config", "state"])
def test_the_users_directories_are_where_platformdirs_puts_them(monkeypatch: pytest.MonkeyPatch, kind: str,
                                                                  xdg: str | None, home: str | None) -> None:
    """mediaops reads the XDG variables itself on Linux, without importing platformdirs; the answer is the same."""
    import platformdirs

    for name, value in ((f"XDG_{kind.upper()}_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    expected = Path(getattr(platformdirs, f"user_{kind}_dir")("mediaops"))
    assert user_dir(kind) == expected
