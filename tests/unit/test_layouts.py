"""The rehearsal built from the layouts of real home-ops repositories (tests/fixtures/layouts), in-process (their
inventory, checks and previews through the CLI: tests/e2e/test_layouts.py)."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import HomeOps


def test_the_rehearsal_starts_from_the_layouts(tmp_path: Path, layouts: HomeOps) -> None:
    from mediaops.cluster.kinds import kind
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    sim = Rehearsal(layouts.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    try:
        assert sim.not_ready() == []
        store = sim.store
        # the GitRepository the entry follows is this repository, whatever its name and URL
        assert store.get(kind("GitRepository"), "flux-system", "home-kubernetes")["status"]["artifact"]
        # a SOPS file for the operator's key: placeholders, never the real values
        secret = store.get(kind("Secret"), "flux-system", "cluster-secrets")
        assert base64.b64decode(secret["data"]["SECRET_API_TOKEN"]).decode() == "rehearsal-secret-api-token"
        # $${VAR} renders ${VAR}; a labelled-out Kustomization and a disabled generator are left as written
        settings = store.get(kind("ConfigMap"), "media", "scripts-settings")["data"]["settings"]
        assert settings == "key=${API_KEY} zone=Europe/Berlin"
        assert store.get(kind("ConfigMap"), "media", "radarr-quality")["data"]["profile"] == "${QUALITY_PROFILE}"
        assert "${sonarr_eventtype}" in store.get(kind("ConfigMap"), "media", "scripts")["data"]["refresh.sh"]
        claim = store.get(kind("PersistentVolumeClaim"), "media", "radarr")
        assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
        # kinds without a controller are stored and listed, with the scope their CRDs give them
        assert store.get(kind("CiliumLoadBalancerIPPool"), "", "pool")
        assert store.get(kind("AlertmanagerConfig"), "observability", "alertmanager")
        assert store.get(kind("Alert"), "media", "alert-manager")
        assert sim.remote_bases == ["kubernetes/apps/network/kustomization.yaml: https://github.com/kubernetes-sigs"
                                    "/gateway-api/releases/download/v1.2.1/standard-install.yaml"]
    finally:
        sim.stop()
    assert sim.manager.errors == []


CLUSTER_CONFIG = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster
  namespace: flux-system
spec:
  interval: 30m
  path: ./kubernetes/flux/meta
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
FLUX_INSTALL = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    tag: v2.6.0
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux
  namespace: flux-system
spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: OCIRepository
    name: flux-manifests
"""


def _older_bootstrap(work: Path) -> None:
    """The older template's bootstrap beside the entry (gavinmcfall/home-ops): `kubernetes/flux/config`, applied by
    the bootstrap task, holds the `cluster` Kustomization that applies the chart sources; the entry holds only
    cluster-apps."""
    config = work / "kubernetes" / "flux" / "config"
    config.mkdir()
    (config / "kustomization.yaml").write_text("resources:\n  - ./flux.yaml\n  - ./cluster.yaml\n")
    (config / "cluster.yaml").write_text(CLUSTER_CONFIG)
    (config / "flux.yaml").write_text(FLUX_INSTALL)
    entry = work / "kubernetes" / "flux" / "cluster" / "ks.yaml"
    text = entry.read_text()
    apps = text.index("---", text.index("name: cluster-meta"))  # the file's second document: cluster-apps
    entry.write_text(text[apps:].replace("  dependsOn:\n    - name: cluster-meta\n      namespace: flux-system\n", ""))


def test_the_older_templates_bootstrap_applies_its_chart_sources(tmp_path: Path) -> None:
    from mediaops.cluster.kinds import kind
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing
    from tests.conftest import make_home_ops

    home_ops = make_home_ops(tmp_path, prepare=_older_bootstrap)
    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    try:
        assert sim.not_ready() == []
        assert sim.store.find(kind("Kustomization"), "flux-system", "cluster-meta") is None
        assert sim.store.get(kind("Kustomization"), "flux-system", "cluster")
        assert sim.store.get(kind("HelmRepository"), "flux-system", "bjw-s")  # applied by `cluster`
        assert sim.store.find(kind("Kustomization"), "flux-system", "flux") is None  # the Flux install: not rehearsed
        release = sim.store.get(kind("HelmRelease"), "media", "tautulli")
        assert [c["status"] for c in release["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    finally:
        sim.stop()


def test_a_clusters_own_vars_folder_seeds_what_its_entry_substitutes_from(tmp_path: Path) -> None:
    """carpenike/k8s-gitops keeps one tree per cluster, kubernetes/<cluster>/flux/ beside kubernetes/<cluster>/apps/,
    and cluster-apps substitutes from the cluster-settings ConfigMap in that cluster's flux/vars/: the rehearsal
    seeds it from there, as it does from kubernetes/flux/vars/ in a one-cluster repository."""
    from mediaops.cluster.kinds import kind
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing
    from tests.conftest import git

    entry = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster-apps\n"
             "  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./kubernetes/{c}/apps\n  prune: true\n"
             "  sourceRef: {{kind: GitRepository, name: flux-system}}\n  postBuild:\n    substituteFrom:\n"
             "      - kind: ConfigMap\n        name: cluster-settings\n")
    files = {f"kubernetes/{c}/{rel}": text.format(c=c) for c in ("main", "lab") for rel, text in {
        "flux/cluster/ks.yaml": entry,
        "flux/vars/cluster-settings.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n"
                                            "  namespace: flux-system\ndata:\n  CLUSTER: {c}\n"),
        "apps/kustomization.yaml": "resources: []\n"}.items()}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "two clusters")
    sim = Rehearsal(tmp_path, timing=Timing.fast(), workdir=tmp_path / ".rehearsal", nas_port=0, cluster="main")
    try:
        sim.start(timeout=60)
        assert sim.store.get(kind("ConfigMap"), "flux-system", "cluster-settings")["data"] == {"CLUSTER": "main"}
        apps = sim.store.get(kind("Kustomization"), "flux-system", "cluster-apps")
        assert [c["status"] for c in apps["status"]["conditions"] if c["type"] == "Ready"] == ["True"], apps["status"]
    finally:
        sim.stop()
