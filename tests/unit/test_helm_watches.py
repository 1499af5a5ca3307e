"""helm-controller's watch of OCIRepositories (fluxcd/helm-controller internal/controller/helmrelease_indexers.go
requestsForOCIRepositoryChange): a chartRef release reconciles as soon as its OCIRepository has an artifact, not
at its retry interval."""

from __future__ import annotations

from typing import Any

from mediaops.cluster.kinds import kind
from mediaops.sim.store import WatchEvent


def test_an_oci_repository_with_an_artifact_wakes_the_releases_that_name_it(rehearsal: Any) -> None:
    store = rehearsal.store
    store.create(kind("Namespace"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "network"}})
    for name, ref in (("ingress", {"kind": "OCIRepository", "name": "ingress-nginx"}),
                      ("elsewhere", {"kind": "OCIRepository", "name": "ingress-nginx", "namespace": "other"}),
                      ("unrelated", {"kind": "OCIRepository", "name": "app-template"})):
        store.create(kind("HelmRelease"), {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                                           "metadata": {"name": name, "namespace": "network"},
                                           "spec": {"interval": "30m", "chartRef": ref}})
    helm = next(c for c in rehearsal.manager.controllers.values() if c.name == "helm-controller")
    repository = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                  "metadata": {"name": "ingress-nginx", "namespace": "network"}, "spec": {}}
    pulled = {**repository, "status": {"artifact": {"revision": "4.12.1@sha256:abc"}}}
    assert helm.keys_for(WatchEvent(1, "MODIFIED", kind("OCIRepository"), repository)) == []  # no artifact yet
    assert helm.keys_for(WatchEvent(2, "MODIFIED", kind("OCIRepository"), pulled)) == [("network", "ingress")]
    # SourceRevisionChangePredicate: a status write that leaves the revision as it was wakes nobody
    assert helm.keys_for(WatchEvent(3, "MODIFIED", kind("OCIRepository"), pulled)) == []
