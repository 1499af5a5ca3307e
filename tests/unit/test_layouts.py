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
