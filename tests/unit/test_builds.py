"""The rehearsal's kustomize builds are kept by the files they can read (else by the artifact's git tree, unless an
attribute makes the files depend on more than the tree), so the next rehearsal (in this process or, from the cache
directory, another) builds only what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cluster, make_home_ops


def _attributes(text: str) -> object:
    def prepare(work: Path) -> None:
        (work / ".gitattributes").write_text(text)

    return prepare


LINE_ENDINGS = _attributes("* text=auto eol=lf\n*.sops.* diff=sopsdiffer\n")  # as every home-ops repository has
GIT_CRYPT = _attributes("* text=auto eol=lf\nsecrets/** filter=git-crypt diff=git-crypt\n")
SUBSTITUTED = _attributes("kubernetes/** export-subst\n")  # `git archive` only: a clone's checkout never applies it


@pytest.mark.parametrize(("prepare", "tree"), [(LINE_ENDINGS, True), (GIT_CRYPT, False), (SUBSTITUTED, True)],
                         ids=["line-endings", "git-crypt", "export-subst"])
def test_builds_are_kept_by_their_files_and_by_the_tree_where_the_files_are_the_trees(
        tmp_path: Path, prepare: object, tree: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediaops.sim import flux
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    monkeypatch.setenv("MEDIAOPS_CACHE_DIR", str(tmp_path / "cache"))  # builds on disk: none yet
    with flux.BUILDS.lock:  # and none in this process (the same app's files, built by another test, would be found)
        flux.BUILDS.results.clear()
    home_ops = make_home_ops(tmp_path, prepare=prepare)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    try:
        sha = home_ops.git("rev-parse", "HEAD")
        assert (sim.tree(sha) is not None) is tree
        root = sim.source_dir(sha)
        inputs = flux.build_inputs(root, os.path.join(root, "kubernetes/apps/media/tautulli/app"))
    finally:
        sim.stop()
    # the files as the checkout wrote them (a filter's output included) are what the build read: kept by them
    assert inputs is not None
    assert list((tmp_path / "cache" / "kustomize").glob("*.json"))
    key = next(k for k in flux.BUILDS.results if k[1] == "files " + inputs)
    with flux.BUILDS.lock:  # what a new process finds: the same result, read from disk
        in_memory = flux.BUILDS.results.pop(key)
    assert flux.BUILDS.get(key) == in_memory


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


APPS = {
    "apps/media/tautulli/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n"
                                                  "  - ../../../../shared/pvc.yaml\n"
                                                  "configMapGenerator:\n  - name: cfg\n"
                                                  "    files:\n      - config.ini=../../../../shared/config.ini\n",
    "apps/media/tautulli/app/helmrelease.yaml": "kind: HelmRelease\n",
    "apps/media/overseerr/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
    "apps/media/overseerr/app/helmrelease.yaml": "kind: HelmRelease\n",
    "shared/pvc.yaml": "kind: PersistentVolumeClaim\n",
    "shared/config.ini": "[a]\n",
    "shared/unread.yaml": "kind: ConfigMap\n",
    "components/common/kustomization.yaml": "kind: Component\nresources:\n  - ../../shared/extra/\n",
    "shared/extra/kustomization.yaml": "resources:\n  - ./x.yaml\n",
    "shared/extra/x.yaml": "kind: ConfigMap\n",
    # a generator's and a transformer's configuration: their paths are the kustomization folder's too
    "apps/media/overseerr/app/generator.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\n"
                                               "metadata:\n  name: generated\n"
                                               "files:\n  - ../../../../shared/app.conf\n",
    "apps/media/overseerr/app/transformer.yaml": "apiVersion: builtin\nkind: PatchTransformer\n"
                                                 "metadata:\n  name: patched\n"
                                                 "path: ../../../../shared/patch.yaml\n"
                                                 "target:\n  kind: HelmRelease\n",
    "shared/app.conf": "a=1\n",
    "shared/patch.yaml": "kind: HelmRelease\nmetadata:\n  name: overseerr\n",
}


def test_what_a_build_can_read_and_nothing_else_keys_it(tmp_path: Path) -> None:
    from mediaops.sim.flux import build_inputs

    _write(tmp_path, APPS)
    app = str(tmp_path / "apps/media/tautulli/app")
    before = build_inputs(str(tmp_path), app)
    with_component = build_inputs(str(tmp_path), app, ("../../../../components/common",))
    assert before is not None and with_component is not None and before != with_component
    # another app, a file nothing names: the same build
    (tmp_path / "apps/media/overseerr/app/helmrelease.yaml").write_text("kind: HelmRelease\nchanged: 1\n")
    (tmp_path / "shared/unread.yaml").write_text("kind: ConfigMap\nchanged: 1\n")
    assert build_inputs(str(tmp_path), app) == before
    # each file the build reads, named from inside or through ..: another build
    for name in ("apps/media/tautulli/app/helmrelease.yaml", "shared/pvc.yaml", "shared/config.ini"):
        kept = (tmp_path / name).read_text()
        (tmp_path / name).write_text(kept + "# changed\n")
        assert build_inputs(str(tmp_path), app) != before, name
        (tmp_path / name).write_text(kept)
    assert build_inputs(str(tmp_path), app) == before
    # what a generator's or a transformer's configuration names (kustomize reads them from the kustomization's
    # folder): another build
    overseerr = str(tmp_path / "apps/media/overseerr/app")
    (tmp_path / "apps/media/overseerr/app/kustomization.yaml").write_text(
        "resources:\n  - ./helmrelease.yaml\ngenerators:\n  - generator.yaml\ntransformers:\n  - transformer.yaml\n")
    configured = build_inputs(str(tmp_path), overseerr)
    for name in ("shared/app.conf", "shared/patch.yaml"):
        kept = (tmp_path / name).read_text()
        (tmp_path / name).write_text(kept + "# changed\n")
        assert build_inputs(str(tmp_path), overseerr) not in (configured, None), name
        (tmp_path / name).write_text(kept)
    # what a component names, followed in turn
    (tmp_path / "shared/extra/x.yaml").write_text("kind: ConfigMap\nchanged: 1\n")
    assert build_inputs(str(tmp_path), app, ("../../../../components/common",)) != with_component
    assert build_inputs(str(tmp_path), app) == before


@pytest.mark.parametrize("change", ["outside", "missing", "symlink", "linked-folder", "unparsable"])
def test_a_build_whose_inputs_are_not_known_for_sure_has_no_file_key(tmp_path: Path, change: str) -> None:
    from mediaops.sim.flux import build_inputs

    _write(tmp_path / "repo", APPS)
    root, app = tmp_path / "repo", tmp_path / "repo/apps/media/tautulli/app"
    kustomization = app / "kustomization.yaml"
    if change == "outside":
        (tmp_path / "elsewhere.yaml").write_text("kind: ConfigMap\n")
        kustomization.write_text("resources:\n  - ../../../../elsewhere.yaml\n")
    elif change == "missing":
        kustomization.write_text("resources:\n  - ../../../../shared/absent.yaml\n")
    elif change == "symlink":
        (app / "linked.yaml").symlink_to(root / "shared/pvc.yaml")
    elif change == "linked-folder":  # `..` past a linked folder is not where the text says: kustomize follows the link
        (root / "apps/common").symlink_to(root / "components/common")
        (root / "components/common/sub").mkdir()
        (root / "components/common/sub/kustomization.yaml").write_text("resources:\n  - ../../../shared/pvc.yaml\n")
        kustomization.write_text("resources:\n  - ../../../common/sub\n")
    else:
        kustomization.write_text("resources: [\n")
    assert build_inputs(str(root), str(app)) is None


def test_a_push_that_changes_one_app_builds_only_what_reads_its_files(tmp_path: Path) -> None:
    """The rehearsal builds with the real kubectl, through a wrapper that notes each build; after a push that
    changes tautulli's HelmRelease, only the Kustomizations whose builds read that file build again (tautulli's, and
    those whose folder holds it): every other build is the one before."""
    from mediaops.cluster import flux
    from mediaops.cluster.client import Kube
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    home_ops = make_home_ops(tmp_path)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    log, wrapper = tmp_path / "builds.log", tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {sim.kubectl} "$@"\n')
    wrapper.chmod(0o755)
    sim.kubectl = str(wrapper)  # before the start: builds are kept by the kubectl that made them
    sim.start(timeout=60)
    try:
        cluster = Cluster(sim, Kube(str(sim.kubeconfig(tmp_path / "kubeconfig")), backoff=0.01), tmp_path, home_ops)
        release = Path("kubernetes/apps/media/tautulli/app/helmrelease.yaml")

        def change(path: Path) -> None:
            (path / release).write_text((path / release).read_text() + f"# {tmp_path.name}\n")

        log.write_text("")
        sha = cluster.push("chore: touch tautulli", change)
        flux.reconcile(cluster.kube, "Kustomization", "cluster-apps", "flux-system", with_source=True, timeout=30)
        kustomizations = cluster.kube.list("Kustomization")[0]
        for ks in kustomizations:
            meta = ks["metadata"]
            state = flux.reconcile(cluster.kube, "Kustomization", meta["name"], meta["namespace"], timeout=30)
            assert state.revision == f"main@sha1:{sha}"
    finally:
        sim.stop()
    built = [line.split()[-1].split(f"/{sha}/", 1)[1] for line in log.read_text().splitlines()]
    spec_paths = {ks["spec"]["path"].removeprefix("./").rstrip("/") for ks in kustomizations}
    readers = {p for p in spec_paths if str(release).startswith(p + "/")}
    assert sorted(built) == sorted(readers) and "kubernetes/apps/media/tautulli/app" in built
