"""The rehearsal's kustomize builds are kept by the artifact's git tree, so the next rehearsal (in this process or,
from the cache directory, another) builds only what changed: unless an attribute makes the files depend on more
than the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_home_ops


def _attributes(text: str) -> object:
    def prepare(work: Path) -> None:
        (work / ".gitattributes").write_text(text)

    return prepare


LINE_ENDINGS = _attributes("* text=auto eol=lf\n*.sops.* diff=sopsdiffer\n")  # as every home-ops repository has
GIT_CRYPT = _attributes("* text=auto eol=lf\nsecrets/** filter=git-crypt diff=git-crypt\n")
SUBSTITUTED = _attributes("kubernetes/** export-subst\n")


@pytest.mark.parametrize(("prepare", "shared"), [(LINE_ENDINGS, True), (GIT_CRYPT, False), (SUBSTITUTED, False)],
                         ids=["line-endings", "git-crypt", "export-subst"])
def test_builds_are_shared_when_the_files_are_the_trees(tmp_path: Path, prepare: object, shared: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mediaops.sim import flux
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))  # builds on disk: none yet
    home_ops = make_home_ops(tmp_path, prepare=prepare)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    try:
        sha = home_ops.git("rev-parse", "HEAD")
        assert (sim.tree(sha) is not None) is shared
    finally:
        sim.stop()
    kept = list((tmp_path / "cache" / "kustomize").glob("*.json"))
    assert bool(kept) is shared
    if shared:  # what a new process finds: the same results, read from disk
        key = next(k for k in flux.BUILDS.results if k[1] == sim.tree(sha))
        with flux.BUILDS.lock:
            in_memory = flux.BUILDS.results.pop(key)
        assert flux.BUILDS.get(key) == in_memory
