"""The inventory kept between runs (mediaops/repo/snapshot.py): used only for the checkout exactly as it was, the
same apps as a build, built again after any change a user or git makes."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from mediaops.repo import Repository
from tests.conftest import SAMPLE, Mediaops, age, clean_env, git


def _apps(root: Path) -> tuple[list[dict[str, object]], bool]:
    """The apps as a read-only command reads them, and whether they came from the snapshot."""
    repo = Repository.open(root)
    repo.keep_between_runs()
    snapshot = repo._snapshot
    kept = snapshot.load() is not None
    repo._snapshot = snapshot  # load() took the key; apps() loads again (or builds and saves)
    return [asdict(a) for a in repo.apps()], kept


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))
    # The edits below are each a new state to keep, as if seconds apart: the two-second rule (nothing kept of a file
    # changed just now) has its own test, test_a_file_changed_in_the_last_two_seconds_is_not_kept.
    monkeypatch.setattr("mediaops.repo.yamlfiles.RACY_NS", 0)
    root = tmp_path / "home-ops"
    shutil.copytree(SAMPLE, root)
    return root


def test_kept_apps_are_the_built_ones_until_anything_changes(checkout: Path) -> None:
    built, kept = _apps(checkout)
    assert not kept
    again, kept = _apps(checkout)
    assert kept and again == built == [asdict(a) for a in Repository.open(checkout).apps()]
    # An edit of a file (its size and time), a rename, a new file, a removed folder: each is built again.
    tautulli = checkout / "kubernetes/apps/media/tautulli/app/helmrelease.yaml"
    tautulli.write_text(tautulli.read_text().replace("version: 3.7.3", "version: 3.7.2"))
    edited, kept = _apps(checkout)
    assert not kept and next(a for a in edited if a["name"] == "tautulli")["helmreleases"][0]["version"] == "3.7.2"
    assert _apps(checkout) == (edited, True)
    (checkout / "kubernetes/apps/media/tautulli/ks.yaml").rename(checkout / "kubernetes/apps/media/tautulli/ks.dis")
    renamed, kept = _apps(checkout)
    assert not kept and next(a for a in renamed if a["name"] == "tautulli")["state"] == "inconsistent"
    extra = checkout / "kubernetes/apps/media/tautulli/app/notes.yaml"
    extra.write_text("# nothing\n")
    assert _apps(checkout)[1] is False
    shutil.rmtree(checkout / "kubernetes/apps/media/overseerr")
    gone, kept = _apps(checkout)
    assert not kept and "overseerr" not in {a["name"] for a in gone}


def test_a_checkout_with_a_symbolic_link_is_not_kept(checkout: Path) -> None:
    (checkout / "kubernetes/apps/media/link").symlink_to(checkout / "kubernetes/apps/media/tautulli")
    _apps(checkout)
    assert _apps(checkout)[1] is False


def test_git_checkout_of_another_commit_is_read_as_it_is(tmp_path: Path) -> None:
    """Through the CLI, as an operator switches branches between two `mediaops apps`: the second reads the branch."""
    root = tmp_path / "home-ops"
    shutil.copytree(SAMPLE, root)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "initial import")
    ops = Mediaops(clean_env(tmp_path) | {"MEDIAOPS_CACHE_DIR": str(tmp_path / "cache")}, root, tmp_path / "state")

    def states() -> dict[str, str]:
        listed = ops.run("apps", "--json")
        assert listed.returncode == 0, listed.stderr
        return {a["name"]: a["state"] for a in json.loads(listed.stdout)}

    first = states()
    assert first["plex-exporter"] == "disabled" and states() == first
    git(root, "switch", "--quiet", "--create", "enable")
    ks = root / "kubernetes/apps/media/plex-exporter"
    git(root, "mv", str(ks / "ks.dis"), str(ks / "ks.yaml"))
    listing = root / "kubernetes/apps/media/kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./tautulli/ks.yaml\n",
                                                   "  - ./tautulli/ks.yaml\n  - ./plex-exporter/ks.yaml\n"))
    git(root, "commit", "--quiet", "--all", "--message", "enable plex-exporter")
    assert states()["plex-exporter"] == "active"
    git(root, "switch", "--quiet", "main")
    assert states() == first
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""



def test_a_kind_registered_in_the_process_is_part_of_the_key(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rehearsal in the process registers the CRDs the repository applies; a cluster-scoped one changes what the
    inventory says of objects naming a namespace, so apps kept before are not used after it (nor the reverse)."""
    from mediaops.cluster import kinds

    _apps(checkout)
    assert _apps(checkout)[1] is True
    monkeypatch.setitem(kinds.BY_NAME, "Widget", kinds._r("example.io", "v1", "Widget", "widgets", False))
    assert _apps(checkout)[1] is False
    assert _apps(checkout)[1] is True
    monkeypatch.undo()
    assert _apps(checkout)[1] is False


def test_apps_that_read_outside_the_checkout_are_not_kept(checkout: Path) -> None:
    """A resource past the checkout's root (Flux's artifact does not hold it): reported, never a traceback, and the
    apps are built again each time, so the file appearing there is seen."""
    listing = checkout / "kubernetes/apps/media/tautulli/app/kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./helmrelease.yaml\n",
                                                   "  - ./helmrelease.yaml\n  - ../../../../../../outside.yaml\n"))
    first, kept = _apps(checkout)
    tautulli = next(a for a in first if a["name"] == "tautulli")
    assert not kept and any("resource ../../../../../../outside.yaml does not exist" in r for r in tautulli["reasons"])
    assert _apps(checkout)[1] is False
    (checkout.parent / "outside.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: far\n")
    second, kept = _apps(checkout)
    tautulli = next(a for a in second if a["name"] == "tautulli")
    assert not kept and not any("outside.yaml" in r for r in tautulli["reasons"])
    assert "../outside.yaml" in tautulli["files"]


def test_the_parse_cache_keeps_every_file_when_the_apps_were_read_back(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """After a run that read the apps back, the files it did not parse are still the checkout's: the parse cache
    is not cut down to the few this run read (it is after a run that built every app)."""
    from mediaops.config import kept
    from mediaops.repo.yamlfiles import DiskCache

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))
    for whole, left in ((False, 2500), (True, 10)):
        cache = DiskCache()
        cache.attach(tmp_path / f"repo-{whole}")
        for index in range(2500):
            cache.put(f"/repo/file-{index}.yaml", 1, 1, [])
        cache.used = {f"/repo/file-{index}.yaml" for index in range(10)}
        cache.whole_run = whole
        cache.save()
        assert cache.path is not None and len(kept(cache.path, DiskCache.VERSION)) == left


def test_a_file_changed_in_the_last_two_seconds_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A filesystem's clock ticks every few milliseconds: a file written again within the tick, to the same size,
    keeps its size and time with other content. So a file changed just now is parsed, not kept (git's racily
    clean entries); one older than that is kept."""
    import time

    from mediaops.repo.yamlfiles import DiskCache

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))
    cache = DiskCache()
    cache.attach(tmp_path / "repo")
    now = time.time_ns()
    earlier = now - 3_000_000_000
    cache.put("/repo/just-written.yaml", 10, now, [{"a": 1}])
    cache.put("/repo/settled.yaml", 10, earlier, [{"a": 2}])
    assert cache.get("/repo/just-written.yaml", 10, now) is None
    assert cache.get("/repo/settled.yaml", 10, earlier) == [{"a": 2}]


def test_apps_of_a_checkout_changed_just_now_are_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file written in the last two seconds could be written again within the clock's tick to the same size: the
    apps are built, not kept, until the checkout has settled."""
    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "home-ops"
    shutil.copytree(SAMPLE, root)  # the sample's own times: settled
    (root / "kubernetes/apps/media/tautulli/app/notes.yaml").write_text("# written just now\n")
    _apps(root)
    assert _apps(root)[1] is False
    age(root)
    _apps(root)
    assert _apps(root)[1] is True


def test_the_two_seconds_count_from_when_the_checkout_was_read(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A file changed just before the checkout was read, kept after a long build: what was read may already be
    stale (written again within the tick), so the age is taken at the read, not when the apps are kept."""
    import time

    from mediaops.repo.snapshot import Snapshot

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "home-ops"
    shutil.copytree(SAMPLE, root)
    (root / "kubernetes/apps/media/tautulli/app/notes.yaml").write_text("# written just now\n")
    kept = Snapshot(root, "media")
    assert kept.load() is None  # the checkout's stamps read now
    real_now = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 5_000_000_000)  # a build of five seconds
    kept.save(["the apps"])
    assert Snapshot(root, "media").load() is None
    age(root)
    settled = Snapshot(root, "media")
    assert settled.load() is None
    settled.save(["the apps"])
    assert Snapshot(root, "media").load() == ["the apps"]
