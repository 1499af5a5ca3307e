"""Read-only commands run twice on an unchanged checkout: the second time from the apps kept by the first
(mediaops/repo/snapshot.py), with the same output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Mediaops, age


@pytest.mark.parametrize("fixture", ["ops", "lay"])
def test_every_read_only_command_says_the_same_from_kept_apps(fixture: str, request: pytest.FixtureRequest) -> None:
    """On the sample and on the layouts of real repositories: each read-only command prints the same with the apps
    built for it and with the apps read back (the checkout unchanged since they were kept)."""
    ops: Mediaops = request.getfixturevalue(fixture)
    ops.env["MEDIAOPS_CACHE_DIR"] = str(ops.state.parent / "own-cache")  # nothing kept from other tests
    age(ops.cwd)  # a checkout written seconds ago, not in the last two (nothing of that is kept)
    listed = ops.run("apps", "--json")
    names = [a["name"] for a in json.loads(listed.stdout)]
    commands = [("apps", "--json"), ("apps",), ("apps", "--check"), ("graph",), ("graph", "--format", "dot"),
                *[("app", name, "--json") for name in names[::3]], ("app", names[1])]  # a third of the apps
    cache = ops.state.parent / "own-cache"

    def built(command: tuple[str, ...]) -> Any:
        for old in cache.glob("inventory-*.bin"):  # the apps built for this run, not read back
            old.unlink()
        return ops.run(*command)

    first: list[Any] = [built(command) for command in commands]
    kept = list(cache.glob("inventory-*.bin"))
    assert len(kept) == 1, kept
    written = kept[0].stat().st_mtime_ns
    again = [ops.run(*command) for command in commands]
    for command, before, after in zip(commands, first, again, strict=True):
        assert (after.returncode, after.stdout, after.stderr) == (before.returncode, before.stdout, before.stderr), \
            command
    assert kept[0].stat().st_mtime_ns == written  # read back each time, not built and written again
