"""The kinds mediaops knows: group, version, plural, scope. Shared by the client layer and the rehearsal."""

from __future__ import annotations

from typing import NamedTuple


class Resource(NamedTuple):  # a tuple: the kinds table is read by every command, a dataclass costs 0.5 ms
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
    _r("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories", short=("ocirepo",)),
    _r("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts", short=("hc",)),
    _r("velero.io", "v1", "Backup", "backups"),
    _r("velero.io", "v1", "Restore", "restores"),
    _r("velero.io", "v1", "BackupStorageLocation", "backupstoragelocations", short=("bsl",)),
    _r("external-secrets.io", "v1", "ExternalSecret", "externalsecrets", short=("es",)),
    _r("external-secrets.io", "v1", "ClusterSecretStore", "clustersecretstores", False, short=("css",)),
    _r("external-secrets.io", "v1", "SecretStore", "secretstores", short=("ss",)),
    _r("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", sub=(), short=("smon",)),
    _r("kyverno.io", "v1", "ClusterPolicy", "clusterpolicies", False, short=("cpol",)),
    _r("k8up.io", "v1", "Schedule", "schedules"),
    # K8up's and VolSync's kinds (k8up-io/k8up api/v1, backube/volsync api/v1alpha1): K8up's Backup and Restore
    # share their names with Velero's, so they are addressed by group ("k8up.io/Backup", BY_KIND); the API serves
    # them only while their CRDs are installed (SERVED_WHEN_INSTALLED).
    _r("k8up.io", "v1", "Backup", "backups"),
    _r("k8up.io", "v1", "Restore", "restores"),
    _r("k8up.io", "v1", "Snapshot", "snapshots"),
    _r("k8up.io", "v1", "Archive", "archives"),
    _r("k8up.io", "v1", "Check", "checks"),
    _r("k8up.io", "v1", "Prune", "prunes"),
    _r("k8up.io", "v1", "PreBackupPod", "prebackuppods"),
    _r("k8up.io", "v1", "PodConfig", "podconfigs"),
    _r("volsync.backube", "v1alpha1", "ReplicationSource", "replicationsources"),
    _r("volsync.backube", "v1alpha1", "ReplicationDestination", "replicationdestinations"),
    # Longhorn's kinds the backups check reads (longhorn/longhorn-manager k8s/pkg/apis/longhorn/v1beta2: volume.go,
    # recurringjob.go, backup.go; kubebuilder shortNames lhv, lhrj, lhb), served only while their CRDs are installed
    # (the longhorn chart's templates/crds.yaml). Its Backup shares its name with Velero's: "longhorn.io/Backup".
    _r("longhorn.io", "v1beta2", "Volume", "volumes", short=("lhv",)),
    _r("longhorn.io", "v1beta2", "RecurringJob", "recurringjobs", short=("lhrj",)),
    _r("longhorn.io", "v1beta2", "Backup", "backups", short=("lhb",)),
    # Built-in kinds that repositories apply besides the ones mediaops acts on, with their real scope.
    _r("apps", "v1", "DaemonSet", "daemonsets", short=("ds",)),
    _r("", "v1", "PersistentVolume", "persistentvolumes", False, short=("pv",)),
    _r("", "v1", "Endpoints", "endpoints", sub=(), short=("ep",)),
    _r("", "v1", "LimitRange", "limitranges", sub=(), short=("limits",)),
    _r("", "v1", "ResourceQuota", "resourcequotas", short=("quota",)),
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, sub=(), short=("sc",)),
    _r("storage.k8s.io", "v1", "CSIDriver", "csidrivers", False, sub=()),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, sub=()),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, sub=()),
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles", sub=()),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", sub=()),
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", sub=(), short=("netpol",)),
    _r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, sub=()),
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",)),
    _r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",)),
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, sub=(), short=("pc",)),
    _r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
       short=("crd", "crds")),
    _r("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
       False, sub=()),
    _r("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
       False, sub=()),
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", sub=()),
    _r("snapshot.storage.k8s.io", "v1", "VolumeSnapshotClass", "volumesnapshotclasses", False, sub=()),
    _r("snapshot.storage.k8s.io", "v1", "VolumeSnapshot", "volumesnapshots", short=("vs",)),
    _r("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", False),
    _r("gateway.networking.k8s.io", "v1", "Gateway", "gateways", short=("gtw",)),
    _r("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
    _r("gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes"),
    # the experimental channel's routes (config/crd/experimental: still v1alpha2)
    _r("gateway.networking.k8s.io", "v1alpha2", "TCPRoute", "tcproutes"),
    _r("gateway.networking.k8s.io", "v1alpha2", "TLSRoute", "tlsroutes"),
    _r("gateway.networking.k8s.io", "v1alpha2", "UDPRoute", "udproutes"),
    _r("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant", "referencegrants", sub=()),
    # node-feature-discovery's rules (deployment/base/nfd-crds/nfd-api-crds.yaml: cluster-scoped, no status)
    _r("nfd.k8s-sigs.io", "v1alpha1", "NodeFeatureRule", "nodefeaturerules", False, sub=(), short=("nfr",)),
    _r("cert-manager.io", "v1", "Certificate", "certificates", short=("cert",)),
    _r("cert-manager.io", "v1", "Issuer", "issuers"),
    _r("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", False),
    _r("notification.toolkit.fluxcd.io", "v1beta3", "Alert", "alerts"),
    _r("notification.toolkit.fluxcd.io", "v1beta3", "Provider", "providers"),
    _r("notification.toolkit.fluxcd.io", "v1", "Receiver", "receivers"),
    _r("external-secrets.io", "v1alpha1", "PushSecret", "pushsecrets"),
    _r("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors", sub=()),
    _r("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules", sub=(), short=("promrule",)),
    # Served beside core/v1 Events from the same storage, as the API server does.
    _r("events.k8s.io", "v1", "Event", "events", sub=(), short=("ev",)),
    Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False, (),
             (), ("create",)),
]
# Groups whose kinds the API server itself defines (their schemas are the built-in OpenAPI); every other group
# is a custom resource, defined by a CustomResourceDefinition.
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "networking.k8s.io", "coordination.k8s.io", "storage.k8s.io",
                            "rbac.authorization.k8s.io", "policy", "autoscaling", "scheduling.k8s.io",
                            "apiextensions.k8s.io", "admissionregistration.k8s.io", "discovery.k8s.io",
                            "events.k8s.io", "authorization.k8s.io", "node.k8s.io", "certificates.k8s.io"})

_READY = ('.status.conditions[?(@.type=="Ready")].status', '.status.conditions[?(@.type=="Ready")].message')
_AGE = ("Age", "date", ".metadata.creationTimestamp")
_READY_STATUS = (("Ready", "string", _READY[0]), ("Status", "string", _READY[1]))
_SCHEDULE_REF = ("Schedule Ref", "string", '.metadata.ownerReferences[?(@.kind == "Schedule")].name')
_COMPLETION = ("Completion", "string", '.status.conditions[?(@.type == "Completed")].reason')
_SYNC_COLUMNS = (("Last sync", "string", ".status.lastSyncTime"), ("Duration", "string", ".status.lastSyncDuration"),
                 ("Next sync", "string", ".status.nextSyncTime"))
# additionalPrinterColumns of the upstream CRDs: (name, type, JSONPath). The kubebuilder markers in
# fluxcd/source-controller api/v1/*_types.go, fluxcd/kustomize-controller api/v1/kustomization_types.go,
# fluxcd/helm-controller api/v2/helmrelease_types.go, vmware-tanzu/velero pkg/apis/velero/v1/*_types.go
# (Backup and Restore have none: kubectl shows NAME and AGE).
PRINTER_COLUMNS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (_AGE, *_READY_STATUS),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (_AGE, *_READY_STATUS),
    ("source.toolkit.fluxcd.io", "GitRepository"): (("URL", "string", ".spec.url"), _AGE, *_READY_STATUS),
    ("source.toolkit.fluxcd.io", "HelmRepository"): (("URL", "string", ".spec.url"), _AGE, *_READY_STATUS),
    ("source.toolkit.fluxcd.io", "OCIRepository"): (("URL", "string", ".spec.url"), *_READY_STATUS, _AGE),
    ("source.toolkit.fluxcd.io", "HelmChart"): (
        ("Chart", "string", ".spec.chart"), ("Version", "string", ".spec.version"),
        ("Source Kind", "string", ".spec.sourceRef.kind"), ("Source Name", "string", ".spec.sourceRef.name"),
        _AGE, *_READY_STATUS),
    ("velero.io", "Backup"): (),
    ("velero.io", "Restore"): (),
    ("velero.io", "BackupStorageLocation"): (
        ("Phase", "string", ".status.phase"), ("Last Validated", "date", ".status.lastValidationTime"), _AGE,
        ("Default", "boolean", ".spec.default")),
    # k8up-io/k8up api/v1/*_types.go (kubebuilder:printcolumn); Schedule, PreBackupPod and PodConfig have none
    ("k8up.io", "Backup"): (_SCHEDULE_REF, _COMPLETION, (
        "PreBackup", "string", '.status.conditions[?(@.type == "PreBackupPodReady")].reason'), _AGE),
    **{("k8up.io", k): (_SCHEDULE_REF, _COMPLETION, _AGE) for k in ("Restore", "Archive", "Check", "Prune")},
    **{("k8up.io", k): () for k in ("Schedule", "PreBackupPod", "PodConfig")},
    ("k8up.io", "Snapshot"): (("Date taken", "string", ".spec.date"), ("Paths", "string", ".spec.paths[*]"),
                              ("Repository", "string", ".spec.repository")),
    # backube/volsync api/v1alpha1/replication{source,destination}_types.go
    ("volsync.backube", "ReplicationSource"): (("Source", "string", ".spec.sourcePVC"), *_SYNC_COLUMNS),
    ("volsync.backube", "ReplicationDestination"): _SYNC_COLUMNS,
    # kubernetes-csi/external-snapshotter client/apis/volumesnapshot/v1/types.go (VolumeSnapshot)
    ("snapshot.storage.k8s.io", "VolumeSnapshot"): (
        ("ReadyToUse", "boolean", ".status.readyToUse"),
        ("SourcePVC", "string", ".spec.source.persistentVolumeClaimName"),
        ("SourceSnapshotContent", "string", ".spec.source.volumeSnapshotContentName"),
        ("RestoreSize", "string", ".status.restoreSize"), ("SnapshotClass", "string", ".spec.volumeSnapshotClassName"),
        ("SnapshotContent", "string", ".status.boundVolumeSnapshotContentName"),
        ("CreationTime", "date", ".status.creationTime"), _AGE),
    # longhorn/longhorn-manager k8s/pkg/apis/longhorn/v1beta2/{volume,recurringjob,backup}.go (Volume's
    # Switchover column is priority 1: kubectl shows it with -o wide only, and the rehearsal not at all)
    ("longhorn.io", "Volume"): (
        ("Data Engine", "string", ".spec.dataEngine"), ("State", "string", ".status.state"),
        ("Robustness", "string", ".status.robustness"),
        ("Scheduled", "string", '.status.conditions[?(@.type == "Schedulable")].status'),
        ("Size", "string", ".spec.size"), ("Node", "string", ".status.currentNodeID"), _AGE),
    ("longhorn.io", "RecurringJob"): (
        ("Groups", "string", ".spec.groups"), ("Task", "string", ".spec.task"), ("Cron", "string", ".spec.cron"),
        ("RetentionPolicy", "string", ".spec.retentionPolicy"), ("RetainCount", "integer", ".spec.retain"),
        ("RetainAge", "string", ".spec.retainAge"), ("Concurrency", "integer", ".spec.concurrency"), _AGE,
        ("Labels", "string", ".spec.labels")),
    ("longhorn.io", "Backup"): (
        ("SnapshotName", "string", ".status.snapshotName"), ("SnapshotSize", "string", ".status.size"),
        ("SnapshotCreatedAt", "string", ".status.snapshotCreatedAt"),
        ("BackupTarget", "string", ".status.backupTargetName"), ("State", "string", ".status.state"),
        ("LastSyncedAt", "string", ".status.lastSyncedAt")),
}
# Groups the API serves only while their CustomResourceDefinitions are in the store (installed by a chart or a
# Kustomization, as on a cluster); every other custom kind the registry knows is served from the start.
SERVED_WHEN_INSTALLED = frozenset({"k8up.io", "volsync.backube", "longhorn.io", "velero.io"})
# Kinds an older controller serves at an older version only (the client asks which one the server has).
OLDER_VERSIONS = {("source.toolkit.fluxcd.io", "OCIRepository"): ("v1beta2",)}
BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
BY_KIND = {(r.group, r.kind): r for r in RESOURCES}


BY_NAME: dict[str, Resource] = {}
for _resource in RESOURCES:
    BY_NAME.setdefault(_resource.kind, _resource)  # the first of a kind name: core/v1 Event, not events.k8s.io
# Custom kinds that are cluster-scoped although nothing in the repository says so (their CRDs come from charts).
CLUSTER_SCOPED = {"GatewayClass", "CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy", "CiliumBGPClusterConfig",
                  "CiliumBGPPeerConfig", "CiliumBGPAdvertisement", "CiliumClusterwideNetworkPolicy", "CiliumNode",
                  "StorageClass", "VolumeSnapshotClass", "PriorityClass", "IngressClass", "RuntimeClass",
                  "FluxInstance"}


def plural_of(kind_name: str) -> str:
    """The plural the API server would serve for a kind without a CRD at hand (Kubernetes' own rule of thumb)."""
    lower = kind_name.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def register(api_version: str, kind_name: str, *, plural: str | None = None,
             namespaced: bool | None = None) -> Resource:
    """Make a kind known (a CRD the repository installs, or a custom kind it uses); the known one if it is."""
    group, _, version = api_version.rpartition("/")
    existing = BY_KIND.get((group, kind_name))
    if existing is not None:
        return existing
    if namespaced is None:
        namespaced = not (kind_name.startswith("Cluster") or kind_name in CLUSTER_SCOPED)
    resource = _r(group, version, kind_name, plural or plural_of(kind_name), namespaced)
    RESOURCES.append(resource)
    BY_PLURAL[(group, resource.plural)] = resource
    BY_KIND[(group, kind_name)] = resource
    BY_NAME.setdefault(kind_name, resource)
    return resource


# Kinds first made known by a CustomResourceDefinition written through the rehearsal's API (`kubectl apply -f` of a
# chart's CRDs), as (group, plural): served only while such a CRD is stored (sim/server.py ApiServer.serves), in
# every rehearsal of the process, since the registry is the process's.
DEFINED: set[tuple[str, str]] = set()


def register_crd(crd: dict[str, object]) -> Resource | None:
    """Register the kind a CustomResourceDefinition defines, at its storage version."""
    spec = crd.get("spec") if isinstance(crd.get("spec"), dict) else None
    if not isinstance(spec, dict):
        return None
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict)]
    version = next((v.get("name") for v in versions if v.get("storage")), versions[0].get("name") if versions else "")
    if not (isinstance(names, dict) and names.get("kind") and spec.get("group") and version):
        return None
    return register(f"{spec['group']}/{version}", str(names["kind"]), plural=str(names.get("plural") or "") or None,
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced")


def kind(name: str) -> Resource:
    """The resource of a kind name ("Deployment", "HelmRelease"), or of a kind in a group ("k8up.io/Backup"): a
    bare name is the first kind of that name the registry lists (Velero's Backup and Restore, core/v1 Event)."""
    try:
        if "/" in name:
            group, _, kind_name = name.rpartition("/")
            return BY_KIND[(group, kind_name)]
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown kind {name}") from None


def namespaced(kind_name: str) -> bool:
    """Whether objects of a kind live in a namespace (unknown kinds: unless cluster-scoped by name)."""
    resource = BY_NAME.get(kind_name)
    if resource is not None:
        return resource.namespaced
    return _by_name(kind_name)


def _by_name(kind_name: str) -> bool:
    return not (kind_name.startswith("Cluster") or kind_name in CLUSTER_SCOPED)


def scopes_known() -> tuple[str, ...]:
    """The kinds whose scope the registry knows otherwise than their name says: what ``namespaced`` answers
    depends on this, and it grows as CRDs are registered (a rehearsal in the process registers those the
    repository applies)."""
    return tuple(sorted(name for name, resource in BY_NAME.items() if resource.namespaced != _by_name(name)))
