"""The apps of a Flux repository as mediaops models them: Flux objects, workloads, volumes, routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FLUX_KS = "kustomize.toolkit.fluxcd.io"
FLUX_HELM = "helm.toolkit.fluxcd.io"
NO_SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"

ACTIVE, DISABLED, ARCHIVED, INCONSISTENT = "active", "disabled", "archived", "inconsistent"
# A file of the app's that Go's YAML rejects too: Flux fails on it, so mediaops reports it and reads the rest.
UNREADABLE = "unreadable"
STATES = (ACTIVE, DISABLED, ARCHIVED, INCONSISTENT, UNREADABLE)

# An inventory holds one object per app, Kustomization, release and route: they are compared by identity, and
# `public_fields` shows them. Defining a dataclass's __eq__ and __repr__ compiles each (exec), 2 ms of every
# command that reads the repository (`mediaops apps` starts in 60 ms).


@dataclass(frozen=True)
class Ref:
    """A reference to a named object in a namespace (``dependsOn`` entries, stores)."""

    name: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(eq=False, repr=False)
class FluxKustomization:
    """A Flux Kustomization as the repository declares it."""

    name: str
    namespace: str
    path: str
    file: str
    depends_on: list[Ref] = field(default_factory=list)
    target_namespace: str = ""
    suspend: bool = False
    wait: bool = False
    prune: bool = False
    substitute: dict[str, str] = field(default_factory=dict)
    substitute_from: list[str] = field(default_factory=list)
    substitute_from_refs: list[tuple[str, str]] = field(default_factory=list)  # (name, kind) as written
    post_build: bool = False  # Flux substitutes variables only where postBuild is set (its own or patched in)
    components: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""  # its sourceRef: kind/namespace/name
    # What its patches hand down to the Kustomizations it applies (cluster-apps to the apps'): per patch,
    # the target and the postBuild substitute and substituteFrom names.
    children: list[tuple[dict[str, Any], dict[str, str], list[str]]] = field(default_factory=list, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref(self.name, self.namespace)


@dataclass(eq=False, repr=False)
class Container:
    """A container of a controller, with its image and tag."""

    controller: str
    name: str
    image: str  # the repository with its registry: ghcr.io/home-operations/sonarr
    tag: str  # without the digest; empty when the chart's default applies
    digest: str = ""  # sha256:…, when the tag pins one

    @property
    def reference(self) -> str:
        return self.image + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass(eq=False, repr=False)
class Controller:
    """A workload an app's chart values declare (app-template's controllers)."""

    name: str
    type: str
    containers: list[Container] = field(default_factory=list)
    node_selector: dict[str, str] = field(default_factory=dict)
    probes: list[str] = field(default_factory=list)
    schedule: str = ""


@dataclass(eq=False, repr=False)
class ChartSource:
    """An OCIRepository a HelmRelease takes its chart from (``chartRef``)."""

    name: str
    namespace: str
    url: str
    tag: str
    file: str


@dataclass(eq=False, repr=False)
class HelmRelease:
    """A HelmRelease as the repository declares it: its chart and version."""

    name: str
    namespace: str
    file: str
    chart: str = ""
    version: str = ""
    chart_ref: str = ""  # OCIRepository/<namespace>/<name> for chartRef releases
    source_file: str = ""  # where the chartRef's OCIRepository (and so the version) is written
    depends_on: list[Ref] = field(default_factory=list)
    values_from: list[str] = field(default_factory=list)
    controllers: list[Controller] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class Volume:
    """A persistent volume claim an app declares."""

    name: str
    size: str = ""
    storage_class: str = ""
    source: str = ""
    # Left in the cluster when the app goes: Flux's prune disabled on it (kustomize.toolkit.fluxcd.io/prune:
    # disabled, a label or an annotation), or Helm's resource policy keep (app-template's persistence retain)
    kept: bool = False


@dataclass(eq=False, repr=False)
class NfsMount:
    """An NFS share an app mounts: its server, export path and where it is mounted."""

    name: str
    server: str
    path: str
    mount_paths: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class Ingress:
    """How an app is reached: an Ingress, or a Gateway API route (HTTPRoute, app-template ``route:``)."""

    name: str
    hosts: list[str]
    class_name: str = ""  # the ingress class, or the route's parent Gateways
    path: str = "/"
    kind: str = "Ingress"


@dataclass(eq=False, repr=False)
class ExternalName:
    """A Service of type ExternalName and the host it points at."""

    name: str
    target: str


@dataclass(eq=False, repr=False)
class ExternalSecret:
    """An ExternalSecret: its store, the remote keys it reads and the Secret it makes."""

    name: str
    store: Ref
    store_kind: str
    remote_keys: list[str]
    target: str


@dataclass(eq=False, repr=False)
class App:
    """One app folder and everything the repository says about it."""

    name: str
    namespace: str
    directory: str
    state: str
    reasons: list[str] = field(default_factory=list)
    ks_file: str = ""
    kustomizations: list[FluxKustomization] = field(default_factory=list)
    helmreleases: list[HelmRelease] = field(default_factory=list)
    controllers: list[Controller] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    nfs: list[NfsMount] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    external_names: list[ExternalName] = field(default_factory=list)
    external_secrets: list[ExternalSecret] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # ${VAR}s Flux substitutes in what the app deploys
    required: list[str] = field(default_factory=list)  # of those, the ones without a default or a substitute
    unsubstituted: list[str] = field(default_factory=list)  # ${VAR}s in objects Flux does not substitute
    node_selectors: dict[str, str] = field(default_factory=dict)
    probes: list[str] = field(default_factory=list)
    service_monitors: list[str] = field(default_factory=list)
    cronjobs: list[str] = field(default_factory=list)
    sources: list[ChartSource] = field(default_factory=list)  # OCIRepositories it defines
    claims: list[str] = field(default_factory=list)  # existing PVCs its charts mount (existingClaim)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was assumed where the layout is ambiguous
    # Objects that name a namespace their Kustomization's targetNamespace overrides: (kind/name, named, target).
    moved: list[tuple[str, str, str]] = field(default_factory=list)
    # Generated ConfigMaps' files by generator name and key (HelmRelease valuesFrom reads them); not shown.
    _generated: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict, repr=False)

    @property
    def generated(self) -> dict[str, dict[str, tuple[str, str]]]:
        return self._generated

    @property
    def images(self) -> list[Container]:
        return [c for controller in self.controllers for c in controller.containers]

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def _is_record(value: Any) -> bool:
    """A dataclass or a msgspec Struct (the records of the model and of the cluster handles)."""
    return hasattr(value, "__dataclass_fields__") or hasattr(value, "__struct_fields__")


def public_fields(value: Any) -> dict[str, Any]:
    """A record's fields as they are shown (not the ``_private`` ones), one level deep; the JSON encoder's
    ``default`` for records (cli/root.to_json)."""
    if not _is_record(value):
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    names = getattr(value, "__struct_fields__", None)
    if names is not None:  # a Struct keeps no __dict__
        return {k: getattr(value, k) for k in names if not k.startswith("_")}
    return {k: v for k, v in vars(value).items() if not k.startswith("_")}


def _plain(value: Any) -> Any:
    """Records to dicts without dataclasses.asdict's deep copies (it dominates a 300-app inventory)."""
    if _is_record(value):
        return {k: _plain(v) for k, v in public_fields(value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
