"""External Secrets' contracts (external-secrets pkg/controllers/externalsecret/externalsecret_controller.go)."""

from __future__ import annotations

import time

import pytest

from mediaops.cluster import externalsecrets, waits
from mediaops.errors import MediaopsError
from tests.conftest import Cluster


def _external_secret(cluster: Cluster, name: str, **spec: object) -> None:
    cluster.kube.create("ExternalSecret", {"metadata": {"name": name, "namespace": "media"}, "spec": {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"}, "target": {"name": name},
        "dataFrom": [{"extract": {"key": "plex-api"}}], **spec}})
    waits.until(cluster.kube, "ExternalSecret", name, "media", externalsecrets.ready(), timeout=30)


def test_a_resync_is_read_from_the_controllers_status_not_from_clocks(cluster: Cluster) -> None:
    """syncedResourceVersion moves on each sync of a changed annotation; refreshTime is the controller's
    clock, here an hour behind the operator's: comparing it with ours would wait forever."""
    _external_secret(cluster, "skewed")
    cluster.sim.set_fault("eso-clock-skew", "-3600")
    cluster.sim.vault["plex-api"]["PLEX_TOKEN"] = "rotated-token-0003"
    started = time.monotonic()
    assert externalsecrets.force_sync(cluster.kube, "skewed", "media", timeout=20) == "skewed"
    assert time.monotonic() - started < 10
    status = cluster.kube.get("ExternalSecret", "skewed", "media")["status"]
    assert status["refreshTime"] < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # behind our clock


def test_created_once_never_refreshes_and_is_refused_up_front(cluster: Cluster) -> None:
    _external_secret(cluster, "once", refreshPolicy="CreatedOnce")
    before = externalsecrets.secret_version(cluster.kube, "once", "media")
    cluster.sim.vault["plex-api"]["PLEX_TOKEN"] = "rotated-token-0004"
    with pytest.raises(MediaopsError, match="refreshPolicy CreatedOnce") as refused:
        externalsecrets.force_sync(cluster.kube, "once", "media", timeout=5)
    assert "kubectl delete secret once -n media" in (refused.value.hint or "")
    cluster.kube.patch("ExternalSecret", "once", {"metadata": {"annotations": {"force-sync": "now"}}}, "media")
    time.sleep(0.3)  # the controller had its chance: the rehearsal, like the real one, does not refresh it
    assert externalsecrets.secret_version(cluster.kube, "once", "media") == before


def test_a_sync_that_changes_nothing_ends_at_once(cluster: Cluster) -> None:
    """The Secret may already hold the store's value (a periodic refresh came first): the sync is still
    read from the status, and nothing waits for a change that will not come."""
    _external_secret(cluster, "same")
    before = externalsecrets.secret_version(cluster.kube, "same", "media")
    started = time.monotonic()
    assert externalsecrets.force_sync(cluster.kube, "same", "media", timeout=20) == "same"
    assert time.monotonic() - started < 10
    assert externalsecrets.secret_version(cluster.kube, "same", "media") == before
