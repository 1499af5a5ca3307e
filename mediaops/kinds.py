"""The kinds mediaops knows: group, version, plural, scope. Shared by the client layer and the rehearsal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    subresources: tuple[str, ...] = ()
    short: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()


def _r(group: str, version: str, kind: str, plural: str, namespaced: bool = True,
       sub: tuple[str, ...] = ("status",), short: tuple[str, ...] = ()) -> Resource:
    return Resource(group, version, kind, plural, namespaced, sub, short)


RESOURCES: list[Resource] = [
    _r("", "v1", "Namespace", "namespaces", False, short=("ns",)),
    _r("", "v1", "Node", "nodes", False, short=("no",)),
    _r("", "v1", "Pod", "pods", sub=("status", "exec", "log"), short=("po",)),
    _r("", "v1", "Service", "services", short=("svc",)),
    _r("", "v1", "ConfigMap", "configmaps", sub=(), short=("cm",)),
    _r("", "v1", "Secret", "secrets", sub=()),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",)),
    _r("", "v1", "Event", "events", sub=(), short=("ev",)),
    _r("", "v1", "ServiceAccount", "serviceaccounts", sub=(), short=("sa",)),
    _r("apps", "v1", "Deployment", "deployments", sub=("status", "scale"), short=("deploy",)),
    _r("apps", "v1", "StatefulSet", "statefulsets", sub=("status", "scale"), short=("sts",)),
    _r("apps", "v1", "ReplicaSet", "replicasets", sub=("status", "scale"), short=("rs",)),
    _r("batch", "v1", "Job", "jobs"),
    _r("batch", "v1", "CronJob", "cronjobs", short=("cj",)),
    _r("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",)),
    _r("coordination.k8s.io", "v1", "Lease", "leases", sub=()),
    _r("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations", short=("ks",)),
    _r("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", short=("hr",)),
    _r("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories", short=("gitrepo",)),
    _r("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories", short=("helmrepo",)),
    _r("source.toolkit.fluxcd.io", "v1beta2", "OCIRepository", "ocirepositories", short=("ocirepo",)),
    _r("velero.io", "v1", "Backup", "backups"),
    _r("velero.io", "v1", "Restore", "restores"),
    _r("velero.io", "v1", "BackupStorageLocation", "backupstoragelocations", short=("bsl",)),
    _r("external-secrets.io", "v1", "ExternalSecret", "externalsecrets", short=("es",)),
    _r("external-secrets.io", "v1", "ClusterSecretStore", "clustersecretstores", False, short=("css",)),
    _r("external-secrets.io", "v1", "SecretStore", "secretstores", short=("ss",)),
    _r("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", sub=(), short=("smon",)),
    _r("kyverno.io", "v1", "ClusterPolicy", "clusterpolicies", False, short=("cpol",)),
    _r("k8up.io", "v1", "Schedule", "schedules"),
]
BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
BY_KIND = {(r.group, r.kind): r for r in RESOURCES}


def resource_for(api_version: str, kind: str) -> Resource | None:
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return BY_KIND.get((group, kind))
BY_NAME = {r.kind: r for r in RESOURCES}


def kind(name: str) -> Resource:
    """The resource of a kind name ("Deployment", "HelmRelease"); kinds are unique in this registry."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown kind {name}") from None
