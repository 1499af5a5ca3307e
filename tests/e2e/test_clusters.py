"""A repository of one tree per cluster (tests/fixtures/clusters, the layout of joryirving/home-ops and of
haraldkoch/kochhaus-home): mediaops asks which cluster, reads that one's apps (one Flux Kustomization file per app
beside the namespace's list, applying a shared base), activates an app by listing its file, and rehearses that
cluster."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KUBECTL, ROOT, HomeOps, Mediaops, make_home_ops

CLUSTERS = ROOT / "tests" / "fixtures" / "clusters"


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path, source=CLUSTERS)


def _apps(ops: Mediaops, *args: str) -> dict[str, dict[str, object]]:
    result = ops.run(*args, "apps", "--json")
    assert result.returncode == 0, result.stderr
    return {a["name"]: a for a in json.loads(result.stdout)}


def test_without_a_cluster_named_it_says_which_there_are_and_changes_nothing(ops: Mediaops,
                                                                             home_ops: HomeOps) -> None:
    for args in ((), ("--cluster", "nope"), ("--cluster", "nope", "--sim")):
        result = ops.run(*args, "apps")
        assert result.returncode == 2, result.stdout
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert result.stdout == ""
    assert ops.run("apps").stderr.strip() == (
        f"mediaops: {home_ops.path} keeps one tree per cluster (home, lab): say which one (pass --cluster NAME, or "
        "set cluster: NAME in the config or MEDIAOPS_CLUSTER)")
    assert "no cluster named 'nope'" in ops.run("--cluster", "nope", "apps").stderr
    assert "its clusters are home, lab" in ops.run("--cluster", "nope", "apps").stderr
    assert home_ops.git("status", "--porcelain") == ""


def test_each_cluster_reads_its_own_apps_over_the_shared_bases(ops: Mediaops) -> None:
    home = _apps(ops, "--cluster", "home")
    assert sorted((name, a["state"]) for name, a in home.items()) == [("overseerr", "disabled"),
                                                                       ("tautulli", "active")]
    tautulli = home["tautulli"]
    assert tautulli["ks_file"] == "kubernetes/apps/home/media/tautulli.yaml"
    assert tautulli["directory"] == "kubernetes/apps/base/media/tautulli"
    # The path cluster-apps substitutes CLUSTER in, and the CLUSTER it hands down: the home cluster's.
    paths = {k["name"]: (k["path"], k["substitute"]) for k in tautulli["kustomizations"]}  # type: ignore[attr-defined]
    assert paths == {"tautulli": ("kubernetes/apps/base/media/tautulli", {"CLUSTER": "home", "APP": "tautulli"}),
                     "tautulli-settings": ("kubernetes/apps/home/media/settings", {"CLUSTER": "home"})}
    assert home["overseerr"]["notes"] == ["overseerr.yaml is not listed in kubernetes/apps/home/media/"
                                          "kustomization.yaml: taken as disabled (activation lists it)"]
    # The cluster from the environment; the other cluster's apps; a Kustomization of another GitRepository is
    # not looked for in this checkout.
    ops.env["MEDIAOPS_CLUSTER"] = "lab"
    lab = _apps(ops)
    assert list(lab) == ["plex-exporter"] and lab["plex-exporter"]["state"] == "active"
    assert lab["plex-exporter"]["directory"] == "kubernetes/apps/base/media/plex-exporter"
    assert lab["plex-exporter"]["notes"] == ["Kustomization plex-dashboards applies grafana of GitRepository "
                                             "plex-dashboards, another source than this repository: not read"]
    checked = ops.run("apps", "--check")
    assert (checked.returncode, checked.stdout.strip()) == (0, "no problems found"), checked.stderr
    checked = ops.run("--cluster", "home", "apps", "--check")  # the flag wins over the environment
    assert (checked.returncode, checked.stdout.strip()) == (0, "no problems found"), checked.stderr
    shown = ops.run("--cluster", "home", "app", "tautulli")
    assert "folder kubernetes/apps/base/media/tautulli" in shown.stdout


def test_activation_uncomments_the_apps_file_and_the_rehearsal_deploys_it(ops: Mediaops, home_ops: HomeOps) -> None:
    preview = ops.run("--cluster", "home", "run", "activate", "overseerr", "--dry-run")
    assert preview.returncode == 0, preview.stdout[-2000:]
    said = " ".join(preview.stdout.split())
    assert "# uncomment ./overseerr.yaml under resources: in kubernetes/apps/home/media/kustomization.yaml" in said
    assert "git mv" not in said
    activated = ops.run("--cluster", "home", "--sim", "run", "activate", "overseerr", "--yes")
    assert activated.returncode == 0, activated.stdout[-3000:] + activated.stderr[-2000:]
    assert "Wait until its pods are ready" in activated.stdout
    assert home_ops.origin_log()[0] == "feat(media): activate overseerr"
    diff = home_ops.git("show", "--format=", "HEAD")
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-  # - ./overseerr.yaml", "+  - ./overseerr.yaml"]
    assert _apps(ops, "--cluster", "home")["overseerr"]["state"] == "active"


def test_the_background_rehearsal_bootstraps_the_cluster_named(ops: Mediaops) -> None:
    up = ops.run("--cluster", "lab", "sim", "up", "--timing", "fast", "--nas-port", "0")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        state = json.loads((ops.state / "sim" / "state.json").read_text())
        listed = subprocess.run([KUBECTL, "--kubeconfig", state["kubeconfig"], "get", "kustomizations", "-A", "-o",
                                 "json"], capture_output=True, text=True, timeout=60)
        found = {(k["metadata"]["namespace"], k["metadata"]["name"]): k for k in json.loads(listed.stdout)["items"]}
        # lab's entry, substituting from lab's cluster-info (applied with it), and lab's app; not home's.
        assert sorted(found) == [("flux-system", "cluster-apps"), ("media", "plex-dashboards"),
                                 ("media", "plex-exporter")]
        assert found[("flux-system", "cluster-apps")]["spec"]["path"] == "./kubernetes/apps/lab"
        ready = {name: next((c["status"], c["reason"]) for c in k["status"]["conditions"] if c["type"] == "Ready")
                 for (_, name), k in found.items()}
        # The dashboards' GitRepository is another project's: it fails to clone, as offline, and what applies it
        # waits; the rehearsal settles with them not Ready and says so.
        assert ready == {"cluster-apps": ("True", "ReconciliationSucceeded"),
                         "plex-dashboards": ("False", "ArtifactFailed"),
                         "plex-exporter": ("False", "DependencyNotReady")}
        source = json.loads(subprocess.run([KUBECTL, "--kubeconfig", state["kubeconfig"], "get", "gitrepository",
                                            "plex-dashboards", "-n", "media", "-o", "json"],
                                           capture_output=True, text=True, timeout=60).stdout)
        failed = next(c for c in source["status"]["conditions"] if c["type"] == "Ready")
        assert (failed["status"], failed["reason"]) == ("False", "GitOperationFailed")
        assert failed["message"].startswith("failed to checkout and determine revision: unable to clone "
                                            "'https://git.example.invalid/dashboards/plex': ")
        assert "2 Kustomization(s) not Ready" in up.stderr
    finally:
        ops.run("sim", "down")


def _depends_on_other_clusters(work: Path) -> None:
    ks = work / "kubernetes" / "apps" / "home" / "media" / "tautulli.yaml"
    ks.write_text(ks.read_text().replace("  interval: 1h\n  path: ./kubernetes/apps/base/media/tautulli",
                                         "  dependsOn:\n    - name: plex-exporter\n    - name: gatus\n"
                                         "  interval: 1h\n  path: ./kubernetes/apps/base/media/tautulli", 1))


def test_a_dependency_of_another_clusters_tree_is_named_as_such(ops: Mediaops, tmp_path: Path) -> None:
    """A dependsOn copied from another cluster's tree: `apps --check` says where it was looked for and which
    clusters have it (carpenike/k8s-gitops: cluster-0's apps depend on names only nas-1 has)."""
    copy = make_home_ops(tmp_path / "deps", source=CLUSTERS, prepare=_depends_on_other_clusters)
    ops.cwd = copy.path
    result = ops.run("--cluster", "home", "apps", "--check")
    assert result.returncode == 1, result.stdout
    assert "media/tautulli: Kustomization tautulli dependsOn media/plex-exporter, which exists nowhere in cluster " \
           "home's tree (only in lab's)" in result.stdout.splitlines()
    assert "media/tautulli: Kustomization tautulli dependsOn media/gatus, which exists nowhere in cluster home's " \
           "tree nor any other cluster's" in result.stdout.splitlines()
