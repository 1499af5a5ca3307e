"""What checks read: the repository, the cluster (listed once per kind and shared), and the HTTP and DNS
endpoints the settings name. Nothing here writes."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediaops.cluster.client import Kube
    from mediaops.config import Config
    from mediaops.repo import App, Repository

# Flux labels what it applies: kustomize-controller its owner labels "kustomize.toolkit.fluxcd.io/name|namespace"
# (internal/controller/kustomization_controller.go, through fluxcd/pkg ssa's SetOwnerLabels), helm-controller
# "helm.toolkit.fluxcd.io/name|namespace" (its origin-labels post-renderer, internal/postrender).
KS_NAME, KS_NAMESPACE = "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"
HR_NAME, HR_NAMESPACE = "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"


class Probe:
    """One check run's view of the world: built once, shared by the checks' threads."""

    def __init__(self, config: Config, repo: Repository, kube: Kube | None) -> None:
        self.config = config
        self.repo = repo
        self.kube = kube
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def has_cluster(self) -> bool:
        return self.kube is not None

    def cluster(self) -> Kube:
        if self.kube is None:
            from mediaops.errors import UsageError

            raise UsageError("no cluster configured")
        return self.kube

    def all_of(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind in the cluster, listed once per run (an absent CRD lists nothing)."""
        with self._lock:
            if kind not in self._lists:
                from mediaops.cluster.client import NotFound

                try:
                    self._lists[kind] = self.cluster().list(kind)[0]
                except NotFound:
                    self._lists[kind] = []
            return self._lists[kind]

    def custom(self, api_version: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a custom resource by its API path (K8up, VolSync: kinds whose names other groups use too);
        none when the cluster does not serve it (its CRD is not installed)."""
        from mediaops.cluster.client import KubeError

        path = f"/apis/{api_version}/" + (f"namespaces/{namespace}/" if namespace else "") + plural
        with self._lock:
            if path not in self._lists:
                try:
                    answer = self.cluster().request("GET", path, what=f"{plural}.{api_version}", verb="list")
                    self._lists[path] = list(answer.get("items") or [])
                except KubeError:
                    self._lists[path] = []
            return self._lists[path]

    def serves(self, api_version: str) -> bool:
        """Whether the cluster serves an API group version (a backup system's CRDs are installed)."""
        from mediaops.cluster.client import KubeError

        key = f"serves/{api_version}"
        with self._lock:
            if key not in self._lists:
                try:
                    self.cluster().request("GET", f"/apis/{api_version}", what=api_version, verb="get")
                    self._lists[key] = [{}]
                except KubeError:
                    self._lists[key] = []
            return bool(self._lists[key])

    def pods(self, app: App) -> list[dict[str, Any]]:
        """The app's pods (label app.kubernetes.io/name, as the app-template chart sets it)."""
        return [p for p in self.all_of("Pod") if p["metadata"].get("namespace") == app.namespace
                and (p["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == app.name]

    def applied(self, kind: str, app: App) -> list[dict[str, Any]]:
        """The live objects of a kind that the app's Kustomizations or HelmReleases applied (Flux's labels)."""
        ks = {(k.namespace, k.name) for k in app.kustomizations}
        hr = {(h.namespace, h.name) for h in app.helmreleases}
        found = []
        for obj in self.all_of(kind):
            labels = obj["metadata"].get("labels") or {}
            if ((labels.get(KS_NAMESPACE), labels.get(KS_NAME)) in ks
                    or (labels.get(HR_NAMESPACE), labels.get(HR_NAME)) in hr):
                found.append(obj)
        return found

    def node_stats(self, node: str) -> dict[str, Any]:
        """The kubelet's stats summary of a node, through the API server's node proxy (what `kubectl get --raw
        /api/v1/nodes/NODE/proxy/stats/summary` prints; k8s.io/kubelet pkg/apis/stats/v1alpha1 Summary)."""
        from urllib.parse import quote

        key = f"stats/{node}"
        with self._lock:
            if key not in self._lists:
                summary = self.cluster().request("GET", f"/api/v1/nodes/{quote(node)}/proxy/stats/summary",
                                                 what=f"the stats summary of node {node}", verb="get")
                self._lists[key] = [summary]
            return self._lists[key][0]

    def http_json(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = 5.0) -> Any:
        """GET a JSON document; raises OSError or ValueError with what went wrong."""
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "mediaops",
                                                       **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise OSError(f"{url} answered HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise OSError(f"no answer from {url} ({exc.reason})") from None

    def setting(self, key: str) -> str:
        return str(self.config.get(key) or "")
