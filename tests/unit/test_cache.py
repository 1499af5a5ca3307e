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


def test_the_rehearsals_schemas_are_kept_for_the_next_process(tmp_path: Path) -> None:
    """A rehearsal in a new process validates, and answers kubectl's OpenAPI requests, with what an earlier one read
    of the client's models, without importing them; what it says is the same."""
    import subprocess
    import sys

    script = """
import sys
from mediaops.cluster.kinds import kind
from mediaops.sim.server import ApiError, openapi_v3, validate
deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
              "spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 1, "surprise": 1,
                       "template": {"metadata": {"labels": {"app": "a"}},
                                    "spec": {"containers": [{"name": "main", "image": "x", "portz": []}]}}}}
print(validate(kind("Deployment"), deployment, "Warn"))
try:
    nameless = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"image": "x"}]}}
    validate(kind("Deployment"), {**deployment, "spec": {**deployment["spec"], "template": nameless}}, "Ignore")
except ApiError as exc:
    print(exc.code, exc.message)
deployment_schema = openapi_v3("apps", "v1")["components"]["schemas"]["io.k8s.api.v1.Deployment"]
print(sorted(deployment_schema["properties"]), deployment_schema["description"][:38])
print("kubernetes.client" in sys.modules)
"""
    env = {**os.environ, "MEDIAOPS_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    expected = str(['unknown field "spec.surprise"', 'unknown field "spec.template.spec.containers[0].portz"'])
    invalid = ('422 Deployment.apps "a" is invalid: spec.template.spec.containers[0].name: Required value')
    described = "['apiVersion', 'kind', 'metadata', 'spec', 'status'] Deployment enables declarative updates"
    assert runs[0].splitlines() == [expected, invalid, described, "True"]  # read from the models, then kept
    assert runs[1].splitlines() == [expected, invalid, described, "False"]  # the same, without importing them
    assert len(list(tmp_path.glob("k8s-models-*.marshal"))) == len(list(tmp_path.glob("k8s-openapi-*.marshal"))) == 1


def test_rehearsals_side_by_side_keep_what_each_read_of_the_models(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rehearsals that loaded the kept schemas before either saved: the second to save keeps the first's too,
    so a third process finds both without importing the client's models."""
    from mediaops.sim.server import _SchemaTable

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path))
    first, second = _SchemaTable(), _SchemaTable()
    for table, name in ((first, "V1Deployment"), (second, "V1ConfigMap")):
        entries = table._load()
        assert entries == {}
        entries[name] = ({"metadata": ("metadata", "V1ObjectMeta")}, [])
        table.dirty = True
    first.save()
    second.save()
    assert set(_SchemaTable()._load()) == {"V1Deployment", "V1ConfigMap"}
