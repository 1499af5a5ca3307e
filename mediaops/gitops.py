"""The Flux repository as operators lay it out: apps, their activation state and what they deploy.

Layout (onedr0p cluster template): ``kubernetes/apps/<namespace>/<app>/ks.yaml`` (active, listed in
``kubernetes/apps/<namespace>/kustomization.yaml``) or ``ks.dis`` (disabled); the Flux Kustomization's
``spec.path`` points at the app's kustomize directory; variables come from Flux post-build substitution.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediaops.engine.model import Changes, FileChange
from mediaops.errors import UsageError
from mediaops.selectors import target_matches
from mediaops.yamlfiles import YamlError, expand, is_kind, load_all, read_text, variable_uses

FLUX_KS = "kustomize.toolkit.fluxcd.io"
FLUX_HELM = "helm.toolkit.fluxcd.io"
NO_SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"

ACTIVE, DISABLED, ARCHIVED, INCONSISTENT = "active", "disabled", "archived", "inconsistent"
# A file of the app's that Go's YAML rejects too: Flux fails on it, so mediaops reports it and reads the rest.
UNREADABLE = "unreadable"
STATES = (ACTIVE, DISABLED, ARCHIVED, INCONSISTENT, UNREADABLE)


@dataclass(frozen=True)
class Ref:
    """A reference to a named object in a namespace (``dependsOn`` entries, stores)."""

    name: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass
class FluxKustomization:
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
    # What its patches hand down to the Kustomizations it applies (cluster-apps to the apps'): per patch,
    # the target and the postBuild substitute and substituteFrom names.
    children: list[tuple[dict[str, Any], dict[str, str], list[str]]] = field(default_factory=list, repr=False)

    @property
    def ref(self) -> Ref:
        return Ref(self.name, self.namespace)


@dataclass
class Container:
    controller: str
    name: str
    image: str  # the repository with its registry: ghcr.io/home-operations/sonarr
    tag: str  # without the digest; empty when the chart's default applies
    digest: str = ""  # sha256:…, when the tag pins one

    @property
    def reference(self) -> str:
        return self.image + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass
class Controller:
    name: str
    type: str
    containers: list[Container] = field(default_factory=list)
    node_selector: dict[str, str] = field(default_factory=dict)
    probes: list[str] = field(default_factory=list)
    schedule: str = ""


@dataclass
class ChartSource:
    """An OCIRepository a HelmRelease takes its chart from (``chartRef``)."""

    name: str
    namespace: str
    url: str
    tag: str
    file: str


@dataclass
class HelmRelease:
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


@dataclass
class Volume:
    name: str
    size: str = ""
    storage_class: str = ""
    source: str = ""


@dataclass
class NfsMount:
    name: str
    server: str
    path: str
    mount_paths: list[str] = field(default_factory=list)


@dataclass
class Ingress:
    """How an app is reached: an Ingress, or a Gateway API route (HTTPRoute, app-template ``route:``)."""

    name: str
    hosts: list[str]
    class_name: str = ""  # the ingress class, or the route's parent Gateways
    path: str = "/"
    kind: str = "Ingress"


@dataclass
class ExternalName:
    name: str
    target: str


@dataclass
class ExternalSecret:
    name: str
    store: Ref
    store_kind: str
    remote_keys: list[str]
    target: str


@dataclass
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


class Repository:
    """A checkout of the Flux repository; every path it reports is relative to ``root``."""

    def __init__(self, root: Path, namespace: str = "media") -> None:
        self.root = root
        self._prefix = str(root).rstrip("/") + "/"
        self.kubernetes = root / "kubernetes"
        self.default_namespace = namespace
        self._apps: list[App] | None = None
        self._flux: list[FluxKustomization] | None = None

    @classmethod
    def open(cls, root: Path, namespace: str = "media") -> Repository:
        if not root.is_dir():
            raise UsageError(f"{root} is not a directory", hint="pass --repo with your Flux checkout")
        if not (root / "kubernetes" / "apps").is_dir():
            raise UsageError(
                f"{root} is not a Flux repository: it has no kubernetes/apps/",
                hint="pass --repo with the checkout that holds kubernetes/apps/<namespace>/<app>",
            )
        return cls(root.resolve(), namespace)

    def rel(self, path: Path | str) -> str:
        text = os.fspath(path)
        if text.startswith(self._prefix):
            return text[len(self._prefix):]
        return Path(text).relative_to(self.root).as_posix()

    # -- namespaces and the list of active apps ----------------------------------------------------
    def namespace_dirs(self) -> list[Path]:
        return sorted(p for p in (self.kubernetes / "apps").iterdir() if p.is_dir())

    def namespace_kustomization(self, namespace: str) -> Path:
        return self.kubernetes / "apps" / namespace / "kustomization.yaml"

    def _namespace_spec(self, namespace: str) -> dict[str, Any]:
        path = self.namespace_kustomization(namespace)
        if not path.is_file():
            return {}
        docs = load_all(path, self.root)
        return docs[0] if docs and isinstance(docs[0], dict) else {}

    def namespace_override(self, namespace: str) -> str:
        """The ``namespace:`` of the namespace kustomization.yaml: kustomize sets it on every object it lists."""
        return str(self._namespace_spec(namespace).get("namespace") or "")

    def inherited_post_build(self) -> list[tuple[dict[str, Any], dict[str, str], list[str]]]:
        """What the entry Kustomizations patch into their children's postBuild: (patch target, substitute,
        substituteFrom names) per patch. Only the children a target selects get it."""
        if not hasattr(self, "_inherited"):
            inherited: list[tuple[dict[str, Any], dict[str, str], list[str]]] = []
            for path in self.flux_entry():
                try:
                    docs = load_all(path, self.root)
                except YamlError:
                    continue
                for doc in docs:
                    if is_kind(doc, "Kustomization", FLUX_KS):
                        inherited += flux_kustomization(doc, self.rel(path), "flux-system").children
            self._inherited = inherited
        return self._inherited

    def listed(self, namespace: str) -> list[str]:
        """The ``resources`` of the namespace kustomization.yaml, normalised (``calibre-web/ks.yaml``)."""
        path = self.namespace_kustomization(namespace)
        if not path.is_file():
            return []
        docs = load_all(path, self.root)
        resources = docs[0].get("resources", []) if docs and isinstance(docs[0], dict) else []
        return [posixpath.normpath(str(r)) for r in resources or []]

    # -- inventory ---------------------------------------------------------------------------------
    def apps(self) -> list[App]:
        if self._apps is None:
            apps: list[App] = []
            for ns_dir in self.namespace_dirs():
                apps.extend(self._namespace_apps(ns_dir))
            apps.extend(self._archived())
            self._apps = sorted(apps, key=lambda a: (a.state == ARCHIVED, a.namespace, a.name))
        return self._apps

    def app(self, name: str, namespace: str | None = None) -> App:
        matches = [a for a in self.apps() if a.name == name and (namespace is None or a.namespace == namespace)]
        live = [a for a in matches if a.state != ARCHIVED] or matches
        if len(live) == 1:
            return live[0]
        if len(live) > 1:
            where = ", ".join(a.namespace for a in live)
            raise UsageError(f"app {name!r} exists in several namespaces ({where})", hint="pass --namespace")
        names = sorted({a.name for a in self.apps()})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`mediaops apps` lists them"
        if not names:
            hint = ("no app was found at all: mediaops reads kubernetes/apps/<namespace>/<app>/ks.yaml "
                    "(README, \"The repository\")")
        raise UsageError(f"no app named {name!r} in {self.rel(self.kubernetes / 'apps')}", hint=hint)

    def _namespace_apps(self, ns_dir: Path) -> Iterator[App]:
        namespace = ns_dir.name
        try:
            listed = self.listed(namespace)
        except YamlError as exc:  # the namespace's list cannot be read: each of its apps says why
            for app_dir in sorted(p for p in ns_dir.iterdir() if p.is_dir()):
                yield App(app_dir.name, namespace, self.rel(app_dir), UNREADABLE, [str(exc)])
            return
        seen: set[str] = set()
        for app_dir in sorted(p for p in ns_dir.iterdir() if p.is_dir()):
            seen.add(app_dir.name)
            app = self._app(app_dir, namespace, listed)
            if app is not None:
                yield app
        for entry in listed:
            first = entry.split("/", 1)[0]
            if first not in seen and entry.endswith("ks.yaml"):
                yield App(first, namespace, self.rel(ns_dir / first), INCONSISTENT,
                          [f"listed in {self.rel(self.namespace_kustomization(namespace))} but "
                           f"{self.rel(ns_dir / entry)} does not exist"])

    def _app(self, app_dir: Path, namespace: str, listed: list[str]) -> App | None:
        name = app_dir.name
        # The app's Flux Kustomizations are in the file the namespace lists for it: ks.yaml in the template,
        # another name (install.yaml) in some repositories. ks.dis is the disabled ks.yaml.
        own = [e.split("/", 1)[1] for e in listed if e.count("/") == 1 and e.split("/", 1)[0] == name]
        other = next((f for f in own if f not in ("ks.yaml", "ks.dis") and (app_dir / f).is_file()), None)
        if other and not (app_dir / "ks.yaml").is_file():
            app = App(name, namespace, self.rel(app_dir), ACTIVE, [], ks_file=self.rel(app_dir / other))
            try:
                self._describe(app, app_dir / other)
            except YamlError as exc:
                app.state = UNREADABLE
                app.reasons.insert(0, str(exc))
            return app
        ks_yaml, ks_dis = app_dir / "ks.yaml", app_dir / "ks.dis"
        entry = f"{name}/ks.yaml"
        is_listed = entry in listed
        ns_file = self.rel(self.namespace_kustomization(namespace))
        reasons: list[str] = []
        notes: list[str] = []
        if ks_yaml.is_file() and ks_dis.is_file():
            state = INCONSISTENT
            reasons.append("both ks.yaml and ks.dis are present")
        elif ks_yaml.is_file():
            state = ACTIVE if is_listed else DISABLED  # taken out of the list (or commented out): disabled
            if not is_listed:
                notes.append(f"ks.yaml is not listed in {ns_file}: taken as disabled (activation lists it)")
        elif ks_dis.is_file():
            state = DISABLED if not is_listed else INCONSISTENT
            if is_listed:
                reasons.append(f"listed in {ns_file} but ks.yaml is missing (only ks.dis)")
        else:
            if not any(entry.split("/", 1)[0] == name for entry in listed):
                return None  # a folder no one lists and with no ks.yaml (notes, ks.bak): not an app
            return App(name, namespace, self.rel(app_dir), INCONSISTENT,
                       [f"listed in {ns_file} but the folder has no ks.yaml or ks.dis"])
        ks_file = ks_yaml if ks_yaml.is_file() else ks_dis
        app = App(name, namespace, self.rel(app_dir), state, reasons, ks_file=self.rel(ks_file), notes=notes)
        try:
            self._describe(app, ks_file)
        except YamlError as exc:  # one bad file marks this app only; what was read so far stays shown
            app.state = UNREADABLE
            app.reasons.insert(0, str(exc))
        return app

    def _archived(self) -> Iterator[App]:
        for base in (self.root / "archive" / "apps", self.kubernetes / "archive" / "apps"):
            if not base.is_dir():
                continue
            for ns_dir in sorted(p for p in base.iterdir() if p.is_dir()):
                for app_dir in sorted(p for p in ns_dir.iterdir() if p.is_dir()):
                    yield App(app_dir.name, ns_dir.name, self.rel(app_dir), ARCHIVED)

    # -- what an app deploys -------------------------------------------------------------------------
    def _describe(self, app: App, ks_file: Path) -> None:
        app.files.append(app.ks_file)
        override = self.namespace_override(app.namespace)
        inherited = self.inherited_post_build()
        for doc in load_all(ks_file, self.root):
            if is_kind(doc, "Kustomization", FLUX_KS):
                ks = flux_kustomization(doc, self.rel(ks_file), override or app.namespace, override=bool(override))
                for selected, handed, sources in inherited:  # cluster-apps patches postBuild into children
                    if target_matches(selected, doc):
                        ks.post_build = True
                        ks.substitute_from = list(dict.fromkeys([*sources, *ks.substitute_from]))
                        ks.substitute = {**handed, **ks.substitute}
                app.kustomizations.append(ks)
        if not app.kustomizations:
            app.state = INCONSISTENT
            app.reasons.append(f"{app.ks_file} holds no Flux Kustomization")
        used: set[str] = set()
        required: set[str] = set()
        unsubstituted: set[str] = set()
        for ks in app.kustomizations:
            directory = Path(os.path.normpath(self.root / ks.path))
            if not directory.is_dir():
                app.reasons.append(f"Kustomization {ks.name}: path {ks.path} does not exist")
                app.state = INCONSISTENT
                continue
            objects = self._kustomize_files(directory, app)
            for component in ks.components:  # Flux components: relative to the Kustomization's path
                target = Path(os.path.normpath(directory / component))
                if component.startswith(("http://", "https://")) or target.is_dir():
                    objects += self._kustomize_files(target, app) if target.is_dir() else []
                else:
                    app.reasons.append(f"Kustomization {ks.name}: component {component} does not exist")
                    app.state = INCONSISTENT
            values = {**ks.substitute}
            first = {"_Generated": 0, "OCIRepository": 1}  # what the HelmReleases read: their values, their chart
            objects.sort(key=lambda item: first.get(str(item[1].get("kind")), 2) if isinstance(item[1], dict) else 2)
            for rel, doc, substitutable in objects:
                names = document_variables(doc)
                if not ks.post_build or not substitutable or _substitution_disabled_on(doc):
                    unsubstituted.update(n for n, _ in names)
                    rendered = doc
                else:
                    used.update(n for n, _ in names)
                    required.update(n for n, has_default in names if not has_default and n not in values)
                    rendered = render(doc, values) if names else doc
                self._object(app, ks, rel, rendered)
        app.variables = sorted(used)
        app.required = sorted(required)
        app.unsubstituted = sorted(unsubstituted - used)
        app.secrets = sorted(set(app.secrets))
        app.files = sorted(set(app.files))

    def _kustomize_files(self, directory: Path, app: App, seen: set[Path] | None = None,
                         substitutable: bool = True) -> list[tuple[str, Any, bool]]:
        """The objects a kustomize directory builds, following resources and components, each with whether
        Flux may substitute it (a generator with ``substitute: disabled`` is not)."""
        seen = seen if seen is not None else set()
        if directory in seen:
            return []
        seen.add(directory)
        base = os.fspath(directory)
        kfile = next((Path(base, n) for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
                      if os.path.isfile(os.path.join(base, n))), None)
        objects: list[tuple[str, Any, bool]] = []
        if kfile is None:  # kustomize-controller generates one listing the directory's manifests
            for path in sorted(directory.glob("*.y*ml")):
                objects.extend((self.rel(path), d, substitutable) for d in load_all(path, self.root))
                app.files.append(self.rel(path))
            return objects
        app.files.append(self.rel(kfile))
        kdocs = load_all(kfile, self.root)
        spec = kdocs[0] if kdocs and isinstance(kdocs[0], dict) else {}
        global_off = _substitution_disabled(spec.get("generatorOptions"))
        for resource in [*(spec.get("resources") or []), *(spec.get("components") or [])]:
            text = str(resource)
            if "://" in text or text.startswith(("github.com/", "git@")):
                continue  # a remote base: kustomize fetches it; nothing to read here
            target = Path(os.path.normpath(os.path.join(base, text)))
            if target.is_dir():
                objects += self._kustomize_files(target, app, seen, substitutable)
            elif target.is_file():
                app.files.append(self.rel(target))
                objects.extend((self.rel(target), d, substitutable) for d in load_all(target, self.root))
            else:
                app.reasons.append(f"{self.rel(kfile)}: resource {resource} does not exist")
                app.state = INCONSISTENT
        for kind_name, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for generator in spec.get(key) or []:
                if not isinstance(generator, dict):
                    continue
                off = global_off or _substitution_disabled(generator.get("options"))
                for entry in [*(generator.get("files") or []), *(generator.get("envs") or [])]:
                    key_name, _, file_name = str(entry).rpartition("=")
                    path = Path(os.path.normpath(os.path.join(base, file_name)))
                    if not path.is_file():
                        app.reasons.append(f"{self.rel(kfile)}: generator file {file_name} does not exist")
                        app.state = INCONSISTENT
                        continue
                    rel = self.rel(path)
                    app.files.append(rel)
                    objects.append((rel, {"kind": "_Generated", "generates": kind_name,
                                          "name": generator.get("name", ""), "key": key_name or path.name,
                                          "file": rel, "text": read_text(path)}, substitutable and not off))
        return objects

    def _object(self, app: App, ks: FluxKustomization, rel: str, doc: Any) -> None:
        if not isinstance(doc, dict):
            return
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        name = str(meta.get("name", ""))
        namespace = ks.target_namespace or str(meta.get("namespace", "")) or app.namespace
        spec = doc.get("spec") or {}
        if kind == "_Generated":
            app.generated.setdefault(str(doc["name"]), {})[str(doc["key"])] = (str(doc["file"]), str(doc["text"]))
            return
        if is_kind(doc, "HelmRelease", FLUX_HELM):
            release = helm_release(doc, rel, namespace)
            self._chart_source(app, release, doc)
            values = self._values(app, doc, rel)
            chart = release.chart or ("app-template" if "controllers" in values else "")
            release.controllers = _app_template(app, release.name, values, release.namespace, chart)
            app.controllers.extend(release.controllers)
            app.helmreleases.append(release)
        elif kind == "OCIRepository" and str(doc.get("apiVersion", "")).startswith("source.toolkit.fluxcd.io/"):
            ref = spec.get("ref") or {}
            app.sources.append(ChartSource(name, namespace, str(spec.get("url", "")),
                                           str(ref.get("tag") or ref.get("semver") or ref.get("digest") or ""), rel))
        elif kind == "HTTPRoute":
            parents = ", ".join(str(p.get("name")) for p in spec.get("parentRefs") or [] if isinstance(p, dict))
            app.ingresses.append(Ingress(name, [str(h) for h in spec.get("hostnames") or []], parents,
                                         _route_path(spec), kind="HTTPRoute"))
        elif kind == "PersistentVolumeClaim":
            requests = (spec.get("resources") or {}).get("requests") or {}
            app.volumes.append(Volume(name, str(requests.get("storage", "")),
                                      str(spec.get("storageClassName", "")), rel))
        elif kind == "Ingress":
            hosts = [str(r.get("host")) for r in spec.get("rules", []) or [] if isinstance(r, dict) and r.get("host")]
            app.ingresses.append(Ingress(name, hosts, str(spec.get("ingressClassName", ""))))
        elif kind == "Service" and spec.get("type") == "ExternalName":
            app.external_names.append(ExternalName(name, str(spec.get("externalName", ""))))
        elif kind == "ExternalSecret":
            store = spec.get("secretStoreRef") or {}
            keys = [str((d.get("extract") or {}).get("key")) for d in spec.get("dataFrom", []) or []
                    if isinstance(d, dict) and d.get("extract")]
            keys += [str((d.get("remoteRef") or {}).get("key")) for d in spec.get("data", []) or []
                     if isinstance(d, dict) and d.get("remoteRef")]
            target = str((spec.get("target") or {}).get("name") or name)
            app.external_secrets.append(ExternalSecret(name, Ref(str(store.get("name", ""))),
                                                       str(store.get("kind", "SecretStore")), keys, target))
        elif kind == "ServiceMonitor":
            app.service_monitors.append(name)
        elif kind == "CronJob":
            app.cronjobs.append(name)
            _pod_spec(app, (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec"))
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            pod = ((spec.get("template") or {}).get("spec")) or {}
            containers = [Container(name, str(c.get("name")), *_split_image(str(c.get("image", ""))))
                          for c in pod.get("containers", []) or [] if isinstance(c, dict)]
            app.controllers.append(Controller(name, kind.lower(), containers, dict(pod.get("nodeSelector") or {})))
            _pod_spec(app, pod)

    def _chart_source(self, app: App, release: HelmRelease, doc: dict[str, Any]) -> None:
        """Chart name and version of a ``chartRef`` release, from its OCIRepository: the app's own (the usual
        layout: ``app/ocirepository.yaml``) or a shared one under kubernetes/flux."""
        ref = (doc.get("spec") or {}).get("chartRef")
        if not isinstance(ref, dict) or ref.get("kind", "OCIRepository") != "OCIRepository":
            return
        key = (str(ref.get("namespace") or release.namespace), str(ref.get("name", "")))
        release.chart_ref = f"OCIRepository/{key[0]}/{key[1]}"
        source = next((s for s in app.sources if (s.namespace, s.name) == key), None) or self.shared_sources().get(key)
        if source is None:
            app.notes.append(f"HelmRelease {release.name}: OCIRepository {key[0]}/{key[1]} is not in the repository; "
                             "chart and version unknown")
            return
        release.chart = source.url.rstrip("/").rpartition("/")[2]
        release.version = source.tag
        release.source_file = source.file

    def shared_sources(self) -> dict[tuple[str, str], ChartSource]:
        """OCIRepositories outside the apps (kubernetes/flux/…), by (namespace, name)."""
        if not hasattr(self, "_shared"):
            found: dict[tuple[str, str], ChartSource] = {}
            for base in (self.kubernetes / "flux", self.kubernetes / "components"):
                for path in sorted(base.rglob("*.y*ml")) if base.is_dir() else []:
                    if "OCIRepository" not in read_text(path):
                        continue
                    try:
                        docs = load_all(path, self.root)
                    except YamlError:
                        continue
                    for doc in docs:
                        if is_kind(doc, "OCIRepository", "source.toolkit.fluxcd.io"):
                            meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
                            ref = spec.get("ref") or {}
                            source = ChartSource(str(meta.get("name")), str(meta.get("namespace") or "flux-system"),
                                                 str(spec.get("url", "")), str(ref.get("tag") or ref.get("semver")
                                                                               or ""), self.rel(path))
                            found[(source.namespace, source.name)] = source
            self._shared = found
        return self._shared

    def _values(self, app: App, doc: dict[str, Any], rel: str) -> dict[str, Any]:
        """The HelmRelease's values as Flux merges them: each valuesFrom in order, then inline values."""
        import yaml

        from mediaops.yamlfiles import describe_error, parse_cached

        merged: dict[str, Any] = {}
        spec = doc.get("spec") or {}
        for source in spec.get("valuesFrom", []) or []:
            if not isinstance(source, dict):
                continue
            kind, name = source.get("kind"), str(source.get("name", ""))
            if kind == "Secret":
                app.secrets.append(name)
                continue
            key = str(source.get("valuesKey", "values.yaml"))
            found = app.generated.get(name, {}).get(key)
            if found is not None:
                file, text = found
                try:  # as written (the usual case), the file's parse is cached; substituted, its text's
                    values = (next(iter(load_all(self.root / file, self.root)), None)
                              if text == read_text(self.root / file) else parse_cached(text))
                except yaml.YAMLError as exc:  # helm-controller cannot read these values either
                    raise YamlError(describe_error(file, exc), hint="fix the file, then run again") from None
                except YamlError:
                    raise
                if isinstance(values, dict):
                    _merge(merged, values)
        _merge(merged, spec.get("values") or {})
        return merged

    # -- Flux objects across the repository ----------------------------------------------------------
    def flux_kustomizations(self) -> list[FluxKustomization]:
        """Every Flux Kustomization the repository defines: the entry ones and every app's (ks.dis too)."""
        if self._flux is None:
            found: list[FluxKustomization] = []
            flux_dir = self.kubernetes / "flux"
            if flux_dir.is_dir():
                for path in sorted(flux_dir.rglob("*.yaml")):
                    for doc in load_all(path, self.root):
                        if is_kind(doc, "Kustomization", FLUX_KS):
                            found.append(flux_kustomization(doc, self.rel(path), "flux-system"))
            for app in self.apps():
                found.extend(app.kustomizations)
            self._flux = found
        return self._flux

    def flux_entry(self) -> list[Path]:
        """The files holding the Flux Kustomizations that ``flux bootstrap`` starts from.

        The cluster template's is ``kubernetes/flux/cluster/ks.yaml`` (``cluster-apps`` points at
        ``./kubernetes/apps``); older layouts keep ``cluster-apps`` in ``kubernetes/flux/apps.yaml`` or name it
        otherwise. So: that file when it exists, else every file under ``kubernetes/flux`` (then ``clusters/``)
        whose Kustomization points at ``kubernetes/apps``, else every file there that holds one.
        """
        default = self.kubernetes / "flux" / "cluster" / "ks.yaml"
        if default.is_file():
            return [default]
        found: list[Path] = []
        pointing: list[Path] = []
        for base in (self.kubernetes / "flux", self.root / "clusters"):
            for path in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
                try:
                    docs = load_all(path, self.root)
                except YamlError:
                    continue
                kustomizations = [d for d in docs if is_kind(d, "Kustomization", FLUX_KS)]
                if kustomizations:
                    found.append(path)
                if any(posixpath.normpath(str((d.get("spec") or {}).get("path", ""))) == "kubernetes/apps"
                       for d in kustomizations):
                    pointing.append(path)
            if found:
                break
        return pointing or found

    def substitution_sources(self) -> dict[str, str]:
        """Variable name to the file defining it: the ConfigMaps and Secrets that ``substituteFrom`` names
        (cluster-settings, cluster-secrets and the like, wherever under kubernetes/ they are) and every
        Kustomization's ``substitute``."""
        if hasattr(self, "_sources"):
            return self._sources
        names: set[str] = {name for _, _, from_names in self.inherited_post_build() for name in from_names}
        for ks in self.flux_kustomizations():
            names.update(ks.substitute_from)
        defined: dict[str, str] = {}
        found: set[str] = set()
        needles = tuple(f"name: {n}" for n in names)
        for path in sorted(self.kubernetes.rglob("*.y*ml")) if names else []:
            text = read_text(path)
            if not any(needle in text for needle in needles):
                continue  # most files name none of them: no need to parse
            try:
                docs = load_all(path, self.root)
            except YamlError:
                continue
            for doc in docs:
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind") in ("ConfigMap", "Secret") and str((doc.get("metadata") or {}).get("name")) in names:
                    found.add(str(doc["metadata"]["name"]))
                    for section in ("data", "stringData"):
                        for key in (doc.get(section) or {}):
                            defined.setdefault(str(key), self.rel(path))
                for key in ("configMapGenerator", "secretGenerator"):
                    for generator in doc.get(key) or [] if doc.get("kind") in ("Kustomization", "Component") else []:
                        if not isinstance(generator, dict) or str(generator.get("name")) not in names:
                            continue
                        found.add(str(generator["name"]))
                        lines = [str(x) for x in generator.get("literals") or []]
                        for env in generator.get("envs") or []:
                            env_path = path.parent / str(env)
                            if env_path.is_file():
                                lines += read_text(env_path).splitlines()
                        for line in lines:
                            variable = line.split("=", 1)[0].strip()
                            if variable and not variable.startswith("#"):
                                defined.setdefault(variable, self.rel(path))
        self._sources: dict[str, str] = defined
        self._sources_missing = sorted(names - found)
        return defined

    def substitution_sources_missing(self) -> list[str]:
        """The ``substituteFrom`` objects no file under kubernetes/ defines (made by hand, by a bootstrap
        script or by another tool)."""
        self.substitution_sources()
        return self._sources_missing


def _plain(value: Any) -> Any:
    """Dataclasses to dicts without dataclasses.asdict's deep copies (it dominates a 300-app inventory)."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def flux_kustomization(doc: dict[str, Any], file: str, default_namespace: str,
                       override: bool = False) -> FluxKustomization:
    """A Flux Kustomization as the repository declares it; ``override``: the namespace kustomization's
    ``namespace:`` replaces the object's own (kustomize's namespace transformer does)."""
    from mediaops.yamlfiles import parse

    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    namespace = default_namespace if override else str(meta.get("namespace") or default_namespace)
    post = spec.get("postBuild") if isinstance(spec.get("postBuild"), dict) else None
    children: list[tuple[dict[str, Any], dict[str, str], list[str]]] = []
    for patch in spec.get("patches", []) or []:  # cluster-apps hands postBuild down to its children
        if not isinstance(patch, dict) or ((patch.get("target") or {}).get("kind") not in (None, "Kustomization")):
            continue
        try:
            patched = parse(str(patch.get("patch") or "")) or {}
        except Exception:  # yaml.YAMLError: Flux would refuse the patch too; nothing is handed down
            continue
        child_post = ((patched.get("spec") or {}) if isinstance(patched, dict) else {}).get("postBuild")
        if isinstance(child_post, dict):
            children.append((dict(patch.get("target") or {}),
                             {str(k): str(v) for k, v in (child_post.get("substitute") or {}).items()},
                             [str(s.get("name")) for s in child_post.get("substituteFrom") or []
                              if isinstance(s, dict)]))
    return FluxKustomization(
        name=str(meta.get("name", "")),
        namespace=namespace,
        path=posixpath.normpath(str(spec.get("path", "."))),
        file=file,
        depends_on=[Ref(str(d.get("name")), str(d.get("namespace") or namespace))
                    for d in spec.get("dependsOn", []) or [] if isinstance(d, dict)],
        target_namespace=str(spec.get("targetNamespace") or ""),
        suspend=bool(spec.get("suspend", False)),
        wait=bool(spec.get("wait", False)),
        prune=bool(spec.get("prune", False)),
        substitute={str(k): str(v) for k, v in ((post or {}).get("substitute") or {}).items()},
        substitute_from=list(dict.fromkeys(str(s.get("name")) for s in (post or {}).get("substituteFrom") or []
                                           if isinstance(s, dict))),
        substitute_from_refs=[(str(s.get("name")), str(s.get("kind") or "ConfigMap"))
                              for s in (post or {}).get("substituteFrom") or [] if isinstance(s, dict)],
        post_build=post is not None,
        components=[str(c) for c in spec.get("components") or []],
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        children=children,
    )


def helm_release(doc: dict[str, Any], file: str, namespace: str) -> HelmRelease:
    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    chart = ((spec.get("chart") or {}).get("spec")) or {}
    chart_ref = spec.get("chartRef") or {}
    return HelmRelease(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace") or namespace),
        file=file,
        chart=str(chart.get("chart", "")),
        version=str(chart.get("version", "")),
        chart_ref=f"{chart_ref.get('kind')}/{chart_ref.get('namespace') or meta.get('namespace') or namespace}/"
                  f"{chart_ref.get('name')}" if chart_ref else "",
        depends_on=[Ref(str(d.get("name")), str(d.get("namespace") or meta.get("namespace") or namespace))
                    for d in spec.get("dependsOn", []) or [] if isinstance(d, dict)],
        values_from=[f"{v.get('kind')}/{v.get('name')}" for v in spec.get("valuesFrom", []) or []
                     if isinstance(v, dict)],
    )


def _substitution_disabled_on(doc: Any) -> bool:
    """``kustomize.toolkit.fluxcd.io/substitute: disabled`` as a label or an annotation of the object
    (kustomize-controller's varsub skips it either way)."""
    if not isinstance(doc, dict):
        return False
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        return False
    for part in ("labels", "annotations"):
        values = meta.get(part)
        if isinstance(values, dict) and str(values.get(NO_SUBSTITUTE, "")).lower() == "disabled":
            return True
    return False


def document_variables(doc: Any) -> list[tuple[str, bool]]:
    """(name, has a default) of every ``${VAR}`` in a document's strings; ``$${VAR}`` is Flux's escape."""
    found: list[tuple[str, bool]] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "${" in value:
                found.extend(variable_uses(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc)
    return found


def render(doc: Any, values: dict[str, str]) -> Any:
    """The document with ``${VAR}``s that have a value or a default filled in, as Flux renders them; the
    others stay as written, so what is shown never pretends to know a secret."""
    if isinstance(doc, str):
        return expand(doc, values) if "${" in doc else doc
    if isinstance(doc, dict):
        return {render(k, values): render(v, values) for k, v in doc.items()}
    if isinstance(doc, list):
        return [render(v, values) for v in doc]
    return doc


def _substitution_disabled(options: Any) -> bool:
    annotations = (options or {}).get("annotations") or {} if isinstance(options, dict) else {}
    return str(annotations.get(NO_SUBSTITUTE, "")).lower() == "disabled"


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Helm's values merge; what ``extra`` holds is copied, never shared (parsed files are cached)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif isinstance(value, dict):
            base[key] = {}
            _merge(base[key], value)
        else:
            base[key] = value


def _split_image(image: str) -> tuple[str, str, str]:
    """(repository with registry, tag, digest) of an image reference."""
    name, _, digest = image.partition("@")
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "" if digest else "latest", digest
    return repo, tag, digest


def _image(value: Any) -> tuple[str, str, str] | None:
    """An app-template or chart ``image:`` block ({registry, repository, tag, digest}) as (image, tag, digest)."""
    if isinstance(value, str):
        return _split_image(value)
    if not isinstance(value, dict) or not value.get("repository"):
        return None
    repository = str(value["repository"])
    if value.get("registry") and not repository.startswith(str(value["registry"]) + "/"):
        repository = f"{value['registry']}/{repository}"
    tag, _, digest = str(value.get("tag") or "").partition("@")
    return repository, tag, str(value.get("digest") or digest)


def rendered(text: Any, release: str, namespace: str) -> str | None:
    """A chart value as Helm renders it with ``tpl``: ``{{ .Release.Name }}`` and ``{{ .Release.Namespace }}``
    filled in; None when anything else is templated (mediaops shows no name it cannot know)."""
    value = str(text)
    if "{{" not in value:
        return value
    value = re.sub(r"\{\{-?\s*\.Release\.Name\s*-?\}\}", release, value)
    value = re.sub(r"\{\{-?\s*\.Release\.Namespace\s*-?\}\}", namespace, value)
    return None if "{{" in value else value


def _secret_refs(app: App, container: dict[str, Any], release: str = "", namespace: str = "") -> None:
    names: list[Any] = []
    for source in container.get("envFrom", []) or []:
        if isinstance(source, dict) and isinstance(source.get("secretRef"), dict):
            names.append(source["secretRef"].get("name"))
    env = container.get("env") or {}
    items = env.values() if isinstance(env, dict) else env
    for item in items:
        if isinstance(item, dict):
            ref = ((item.get("valueFrom") or {}).get("secretKeyRef")) or {}
            if isinstance(ref, dict) and ref.get("name"):
                names.append(ref["name"])
    for name in names:
        shown = rendered(name, release, namespace) if name else None
        if shown:
            app.secrets.append(shown)


def _pod_spec(app: App, pod: Any) -> None:
    if not isinstance(pod, dict):
        return
    app.node_selectors.update({str(k): str(v) for k, v in (pod.get("nodeSelector") or {}).items()})
    for container in pod.get("containers", []) or []:
        if isinstance(container, dict):
            _secret_refs(app, container)
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(probe):
                    app.probes.append(f"{container.get('name')}: {probe.removesuffix('Probe')}")


def _mount_paths(name: str, volume: dict[str, Any]) -> list[str]:
    """Where app-template mounts a persistence item: globalMounts (path defaults to /<name>) and
    advancedMounts (per controller and container)."""
    paths = [str(m.get("path") or f"/{name}") for m in volume.get("globalMounts") or [] if isinstance(m, dict)]
    for containers in (volume.get("advancedMounts") or {}).values():
        for mounts in (containers or {}).values() if isinstance(containers, dict) else []:
            paths += [str(m.get("path") or f"/{name}") for m in mounts or [] if isinstance(m, dict)]
    if not volume.get("globalMounts") and not volume.get("advancedMounts"):
        paths.append(f"/{name}")  # app-template mounts it everywhere at /<name> when neither is given
    return list(dict.fromkeys(paths))


def _identifier(release: str, key: str) -> str:
    """The object name app-template gives a controller, route or monitor keyed ``key``."""
    return release if key in (release, "app", "main") else f"{release}-{key}"


def _app_template(app: App, release: str, values: dict[str, Any], namespace: str = "",
                  chart: str = "app-template") -> list[Controller]:
    """What a HelmRelease deploys, read from its values: bjw-s app-template (v3 to v5) in full; for any
    other chart its top-level image, ``serviceMonitor.enabled`` and ``httpRoute``/``route`` hosts."""
    controllers: list[Controller] = []
    if chart != "app-template":
        image = _image(values.get("image"))
        if image is not None:
            controllers.append(Controller(release, "deployment", [Container(release, release, *image)]))
        metrics = values.get("metrics")
        monitor = values.get("serviceMonitor") or (metrics.get("serviceMonitor") if isinstance(metrics, dict) else None)
        if isinstance(monitor, dict) and monitor.get("enabled") is True:
            app.service_monitors.append(release)
        for key in ("httpRoute", "route"):
            route = values.get(key)
            if isinstance(route, dict) and route.get("enabled", True) is not False:
                hosts = [h for h in (rendered(x, release, namespace) for x in
                                     route.get("hostnames") or route.get("hosts") or []) if h]
                parents = ", ".join(str(p.get("name")) for p in route.get("parentRefs") or [] if isinstance(p, dict))
                if hosts:
                    app.ingresses.append(Ingress(release, hosts, parents, kind="HTTPRoute"))
        return controllers
    default_pod = values.get("defaultPodOptions") or {}
    app.node_selectors.update({str(k): str(v) for k, v in (default_pod.get("nodeSelector") or {}).items()})
    for cname, controller in (values.get("controllers") or {}).items():
        if not isinstance(controller, dict) or controller.get("enabled") is False:
            continue
        kind = str(controller.get("type", "deployment"))
        pod = controller.get("pod") or {}
        selector = {str(k): str(v) for k, v in (pod.get("nodeSelector") or {}).items()}
        app.node_selectors.update(selector)
        entry = Controller(str(cname), kind, node_selector=selector,
                           schedule=str((controller.get("cronjob") or {}).get("schedule", "")))
        for group in ("initContainers", "containers"):
            for name, container in (controller.get(group) or {}).items():
                if not isinstance(container, dict):
                    continue
                image = _image(container.get("image")) or ("", "", "")
                entry.containers.append(Container(str(cname), str(name), *image))
                _secret_refs(app, container, release, namespace)
                for probe, settings in (container.get("probes") or {}).items():
                    if isinstance(settings, dict) and settings.get("enabled"):
                        entry.probes.append(f"{name}: {probe}")
                        app.probes.append(f"{cname}/{name}: {probe}")
        if kind == "cronjob":
            app.cronjobs.append(_identifier(release, str(cname)))
        controllers.append(entry)
    for pname, volume in (values.get("persistence") or {}).items():
        if not isinstance(volume, dict) or volume.get("enabled") is False:
            continue
        kind = str(volume.get("type", "persistentVolumeClaim"))
        mounts = _mount_paths(str(pname), volume)
        if kind == "nfs":
            app.nfs.append(NfsMount(str(pname), str(volume.get("server", "")), str(volume.get("path", "")), mounts))
        elif kind == "persistentVolumeClaim" and volume.get("existingClaim"):
            claim = rendered(volume["existingClaim"], release, namespace)
            if claim:
                app.claims.append(claim)
        elif kind == "persistentVolumeClaim":
            app.volumes.append(Volume(_identifier(release, str(pname)) if pname != release else release,
                                      str(volume.get("size", "")), str(volume.get("storageClass", "")),
                                      "app-template persistence"))
        elif kind == "secret":
            name = rendered(volume.get("name", ""), release, namespace)
            if name:
                app.secrets.append(name)
    for iname, ingress in (values.get("ingress") or {}).items():
        if isinstance(ingress, dict) and ingress.get("enabled", True) is not False:
            hosts = [h for h in (rendered(x.get("host"), release, namespace) for x in ingress.get("hosts", []) or []
                                 if isinstance(x, dict)) if h]
            paths = [str(p.get("path")) for h in ingress.get("hosts", []) or [] if isinstance(h, dict)
                     for p in h.get("paths", []) or [] if isinstance(p, dict)]
            annotations = ingress.get("annotations") or {}
            path = str(annotations.get("gatus.io/path") or (paths[0] if paths else "/"))
            app.ingresses.append(Ingress(_identifier(release, str(iname)), hosts, str(ingress.get("className", "")),
                                         path))
    for rname, route in (values.get("route") or {}).items():
        if isinstance(route, dict) and route.get("enabled", True) is not False:
            hosts = [h for h in (rendered(x, release, namespace) for x in route.get("hostnames") or []) if h]
            parents = ", ".join(str(p.get("name")) for p in route.get("parentRefs") or [] if isinstance(p, dict))
            app.ingresses.append(Ingress(_identifier(release, str(rname)), hosts, parents,
                                         _route_path(route), kind="HTTPRoute"))
    for sname, monitor in (values.get("serviceMonitor") or {}).items():
        if isinstance(monitor, dict) and monitor.get("enabled", True) is not False:
            app.service_monitors.append(_identifier(release, str(sname)))
    return controllers


def _route_path(route: dict[str, Any]) -> str:
    """The path a health check should ask for: the gatus endpoint annotation's ``path``, else the first rule's."""
    annotation = str((route.get("annotations") or {}).get("gatus.home-operations.com/endpoint") or "")
    match = re.search(r"(?m)^\s*path:\s*['\"]?([^'\"\s]+)", annotation)
    if match:
        return match.group(1)
    for rule in route.get("rules") or []:
        for item in (rule or {}).get("matches") or [] if isinstance(rule, dict) else []:
            value = ((item or {}).get("path") or {}).get("value") if isinstance(item, dict) else None
            if value:
                return str(value)
    return "/"


# -- activation edits ----------------------------------------------------------------------------------
def _entry_style(repo: Repository, namespace: str, app: str) -> str:
    path = repo.namespace_kustomization(namespace)
    docs = load_all(path, repo.root) if path.is_file() else []
    resources = [str(r) for r in (docs[0].get("resources") or [])] if docs and isinstance(docs[0], dict) else []
    dotted = any(r.startswith("./") for r in resources) or not resources
    return f"./{app}/ks.yaml" if dotted else f"{app}/ks.yaml"


def activation(repo: Repository, app: App) -> Changes:
    """ks.dis becomes ks.yaml and the namespace kustomization lists it; nothing else in either file moves."""
    from mediaops.yamlfiles import add_list_entry

    directory = repo.root / app.directory
    ks_dis, ks_yaml = directory / "ks.dis", directory / "ks.yaml"
    files: list[FileChange] = []
    if ks_dis.is_file() and not ks_yaml.is_file():
        text = read_text(ks_dis)
        files += [FileChange(repo.rel(ks_dis), text, None),
                  FileChange(repo.rel(ks_yaml), None, text, moved_from=repo.rel(ks_dis))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = add_list_entry(before, "resources", _entry_style(repo, app.namespace, app.name), repo.rel(ns_file))
        if after != before:
            files.append(FileChange(repo.rel(ns_file), before, after))
    else:
        raise UsageError(f"{repo.rel(ns_file)} does not exist", hint="create the namespace kustomization first")
    return Changes(repo.root, tuple(files), summary=f"activated {app.name} in the repository")


def deactivation(repo: Repository, app: App) -> Changes:
    """The exact reverse of ``activation``."""
    from mediaops.yamlfiles import remove_list_entry

    directory = repo.root / app.directory
    ks_dis, ks_yaml = directory / "ks.dis", directory / "ks.yaml"
    files: list[FileChange] = []
    if ks_yaml.is_file() and not ks_dis.is_file():
        text = read_text(ks_yaml)
        files += [FileChange(repo.rel(ks_yaml), text, None),
                  FileChange(repo.rel(ks_dis), None, text, moved_from=repo.rel(ks_yaml))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = before
        for entry in (f"./{app.name}/ks.yaml", f"{app.name}/ks.yaml"):
            after = remove_list_entry(after, "resources", entry, repo.rel(ns_file))
        if after != before:
            files.append(FileChange(repo.rel(ns_file), before, after))
    return Changes(repo.root, tuple(files), summary=f"deactivated {app.name} in the repository")


# -- consistency -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One thing ``apps --check`` reports: an error (Flux fails, or deploys something else than meant) or a
    warning (mediaops cannot tell from the repository alone)."""

    where: str
    what: str
    level: str = "error"


def variable_findings(repo: Repository, app: App) -> list[Finding]:
    """What is wrong with the ``${VAR}``s of one app, judged as Flux's post-build substitution works."""
    where = f"{app.namespace}/{app.name}"
    defined = repo.substitution_sources()
    missing = repo.substitution_sources_missing()
    sources = list(dict.fromkeys(name for ks in app.kustomizations for name in ks.substitute_from))
    elsewhere = [name for name in sources if name in missing]
    # A substituteFrom Secret an ExternalSecret of the repository makes: its keys are in the secret store,
    # which the repository does not show; nothing to say about its variables.
    from_store = {e.target for a in repo.apps() for e in a.external_secrets} & set(elsewhere)
    found: list[Finding] = []
    for var in app.required:
        if var in defined or from_store:
            continue
        if elsewhere:
            found.append(Finding(where, f"${{{var}}} is defined nowhere under kubernetes/; it may come from "
                                        f"{', '.join(elsewhere)} (substituteFrom), which is created elsewhere",
                                 "warning"))
        elif sources:
            found.append(Finding(where, f"${{{var}}} is defined by none of its substitution sources "
                                        f"({', '.join(sources)}); Flux renders it empty"))
        else:
            found.append(Finding(where, f"${{{var}}} has no value: its Kustomization substitutes only "
                                        "postBuild.substitute; Flux renders it empty"))
    for var in app.unsubstituted:
        if var in defined:  # a cluster variable where Flux will not put it: almost surely meant to be filled in
            found.append(Finding(where, f"${{{var}}} sits in a file Flux does not substitute ({NO_SUBSTITUTE}: "
                                        f"disabled, or no postBuild); it reaches the cluster as written"))
    return found


def problems(repo: Repository, namespace: str | None = None) -> list[Finding]:
    """Everything ``mediaops apps --check`` reports, each following Flux's documented behaviour."""
    found: list[Finding] = []
    apps = [a for a in repo.apps() if a.state != ARCHIVED and (namespace is None or a.namespace == namespace)]
    known_ks = {k.ref for k in repo.flux_kustomizations()}
    known_hr = {Ref(h.name, h.namespace) for a in repo.apps() for h in a.helmreleases}
    owners: dict[Ref, list[str]] = {}
    for app in repo.apps():
        for ks in app.kustomizations:
            if app.state != ARCHIVED:
                owners.setdefault(ks.ref, []).append(f"{app.namespace}/{app.name}")
    for ns_dir in repo.namespace_dirs():
        if namespace is not None and ns_dir.name != namespace:
            continue
        try:
            listed = repo.listed(ns_dir.name)
        except YamlError:
            continue
        for entry in sorted({e for e in listed if listed.count(e) > 1}):
            found.append(Finding(repo.rel(repo.namespace_kustomization(ns_dir.name)),
                                 f"lists {entry} twice: kustomize refuses the build, and every app of the "
                                 "entry Kustomization with it"))
    for ref, where_defined in owners.items():
        if len(where_defined) > 1:
            for where in where_defined:
                if namespace is None or where.startswith(namespace + "/"):
                    found.append(Finding(where, f"Kustomization {ref} is also defined by "
                                                f"{', '.join(w for w in where_defined if w != where)}: "
                                                "one overwrites the other (or the build fails)"))
    for app in apps:
        where = f"{app.namespace}/{app.name}"
        found += [Finding(where, reason) for reason in app.reasons]
        if app.state == UNREADABLE:
            continue
        for ks in app.kustomizations:
            for dep in ks.depends_on:
                if dep not in known_ks:
                    found.append(Finding(where, f"Kustomization {ks.name} dependsOn {dep}, "
                                                "which exists nowhere in the repository"))
        for hr in app.helmreleases:
            for dep in hr.depends_on:
                if dep not in known_hr:
                    found.append(Finding(where, f"HelmRelease {hr.name} dependsOn HelmRelease {dep}, "
                                                "which exists nowhere in the repository"))
        found += variable_findings(repo, app)
    # One line per problem: a broken namespace kustomization.yaml is one problem, not one per app.
    unique: dict[tuple[str, str], Finding] = {}
    for finding in found:
        about_a_file = finding.what.startswith("kubernetes/")  # file:line: … is the same for every app
        unique.setdefault(("", finding.what) if about_a_file else (finding.where, finding.what), finding)
    return list(unique.values())
