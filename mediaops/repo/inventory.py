"""The Flux repository as operators lay it out: apps, their activation state and what they deploy.

Layout (onedr0p cluster template): ``kubernetes/apps/<namespace>/<app>/ks.yaml`` (active, listed in
``kubernetes/apps/<namespace>/kustomization.yaml``) or ``ks.dis`` (disabled); the Flux Kustomization's
``spec.path`` points at the app's kustomize directory; variables come from Flux post-build substitution.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mediaops.cluster.kinds import namespaced
from mediaops.errors import UsageError
from mediaops.repo.apptemplate import app_template, pod_spec, route_path, split_image
from mediaops.repo.model import (
    ACTIVE,
    ARCHIVED,
    DISABLED,
    FLUX_HELM,
    FLUX_KS,
    INCONSISTENT,
    NO_SUBSTITUTE,
    UNREADABLE,
    App,
    ChartSource,
    Container,
    Controller,
    ExternalName,
    ExternalSecret,
    FluxKustomization,
    HelmRelease,
    Ingress,
    Ref,
    Volume,
)
from mediaops.repo.yamlfiles import YamlError, expand, is_kind, load_all, read_text, variable_uses
from mediaops.selectors import prune_disabled, target_matches


class Repository:
    """A checkout of the Flux repository; every path it reports is relative to ``root``."""

    def __init__(self, root: Path, namespace: str = "media", cluster: str = "") -> None:
        self.root = root
        self._prefix = str(root).rstrip("/") + "/"
        self.kubernetes = root / "kubernetes"
        self.default_namespace = namespace
        # One cluster: its Flux entry under kubernetes/flux, its apps under kubernetes/apps. A repository of one tree
        # per cluster (cluster_trees) keeps the chosen cluster's entry elsewhere, and its apps where that entry's
        # cluster-apps points.
        self.cluster = cluster
        self.flux_dir = self.kubernetes / "flux"
        self.apps_dir = self.kubernetes / "apps"
        if cluster:
            self.flux_dir = cluster_trees(root).get(cluster, self.flux_dir)
            beside = self.flux_dir.parent / "apps"  # kubernetes/<cluster>/apps, when the entry does not say
            self.apps_dir = self._entry_apps_dir() or (beside if self.flux_dir.name in ("flux", "cluster") and
                                                       beside.is_dir() else self.apps_dir)
        self._apps: list[App] | None = None
        self._flux: list[FluxKustomization] | None = None
        self._snapshot: Any = None  # snapshot.Snapshot, for the commands that only read (keep_between_runs)
        self._outside = False  # whether a file named a path outside the checkout (_within)

    @classmethod
    def open(cls, root: Path, namespace: str = "media", cluster: str = "") -> Repository:
        """The checkout at ``root``; ``cluster`` names one of a repository that keeps one tree per cluster (needed
        when it keeps several)."""
        if not root.is_dir():
            raise UsageError(f"{root} is not a directory", hint="pass --repo with your Flux checkout")
        trees = cluster_trees(root)
        if cluster:
            if cluster not in trees:
                known = f"its clusters are {', '.join(sorted(trees))}" if trees else \
                    "it keeps one cluster (kubernetes/flux and kubernetes/apps)"
                raise UsageError(f"no cluster named {cluster!r} in {root}: {known}",
                                 hint="pass --cluster with one of them" if trees else "leave out --cluster")
        elif trees and not (root / "kubernetes" / "flux").is_dir():
            if len(trees) > 1:
                raise UsageError(
                    f"{root} keeps one tree per cluster ({', '.join(sorted(trees))}): say which one",
                    hint="pass --cluster NAME, or set cluster: NAME in the config or MEDIAOPS_CLUSTER")
            cluster = next(iter(trees))
        repo = cls(root.resolve(), namespace, cluster)
        if not repo.apps_dir.is_dir():
            raise UsageError(
                f"{root} is not a Flux repository: it has no {repo.rel(repo.apps_dir)}/",
                hint="pass --repo with the checkout that holds kubernetes/apps/<namespace>/<app>",
            )
        return repo

    def _entry_apps_dir(self) -> Path | None:
        """Where the cluster's entry Kustomization applies its apps from: the one named cluster-apps, else the only
        one whose path ends in apps (joryirving/home-ops: ./kubernetes/apps/main)."""
        candidates: list[tuple[str, str]] = []
        for path in sorted(self.flux_dir.rglob("*.yaml")) if self.flux_dir.is_dir() else []:
            candidates += [(str((d.get("metadata") or {}).get("name", "")), str((d.get("spec") or {}).get("path", "")))
                           for d in _mappings(path, self.root) if is_kind(d, "Kustomization", FLUX_KS)]
        chosen = [p for n, p in candidates if n == "cluster-apps"] or \
            [p for _, p in candidates if posixpath.basename(posixpath.normpath(p)) == "apps"] or \
            [p for _, p in candidates if posixpath.basename(posixpath.dirname(posixpath.normpath(p))) == "apps"]
        if len(chosen) != 1 or not chosen[0]:
            return None
        directory = Path(os.path.normpath(self.root / chosen[0]))
        return directory if directory.is_dir() and (str(directory) + "/").startswith(self._prefix) else None

    def rel(self, path: Path | str) -> str:
        text = os.fspath(path)
        if text.startswith(self._prefix):
            return text[len(self._prefix):]
        return Path(os.path.relpath(text, self.root)).as_posix()  # ../ for a path outside the checkout

    def _within(self, path: Path | str) -> Path:
        """A path a file of the checkout names, normalized; one outside the checkout (``../..`` past its root, which
        Flux's artifact does not hold) is noted: apps that read one are not kept between runs (snapshot.py)."""
        normal = os.path.normpath(path)
        if not (normal + "/").startswith(self._prefix):
            self._outside = True
        return Path(normal)

    # -- namespaces and the list of active apps ----------------------------------------------------
    def namespace_dirs(self) -> list[Path]:
        return _subdirs(self.apps_dir)

    def namespace_kustomization(self, namespace: str) -> Path:
        return self.apps_dir / namespace / "kustomization.yaml"

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
                for doc in _mappings(path, self.root):
                    if is_kind(doc, "Kustomization", FLUX_KS):
                        inherited += flux_kustomization(doc, self.rel(path), "flux-system").children
            webhook = self.mutating_webhook_sources()
            if webhook:  # it adds to every Kustomization the API server admits, whatever the entry patches
                inherited.append(({"group": "kustomize.toolkit.fluxcd.io", "kind": "Kustomization"}, {}, webhook))
            self._inherited = inherited
        return self._inherited

    def mutating_webhook_sources(self) -> list[str]:
        """The ConfigMaps and Secrets whose keys xunholy's kustomize-mutating-webhook, when the repository installs
        it, adds to every Flux Kustomization's postBuild.substitute (rwlove/home-ops: cluster-config and
        cluster-secrets). Its main.go handleMutate adds postBuild and substitute where missing, then each key of the
        files mounted at /etc/config; the chart mounts ``configMaps``/``secrets`` (``configMap.name`` in older
        charts, cluster-config by default). Read from the values in the app folders named after it."""
        if not hasattr(self, "_webhook"):
            names: list[str] = []
            found = False
            folders = [d for ns_dir in self.namespace_dirs() for d in _subdirs(ns_dir)
                       if "kustomize-mutating-webhook" in d.name]  # the app's folder, <namespace>/<app>
            for directory in folders:
                for path in sorted(directory.rglob("*.y*ml")):
                    for doc in _mappings(path, self.root):
                        if is_kind(doc, "HelmRelease", FLUX_HELM):
                            found = True
                            doc = (doc.get("spec") or {}).get("values") or {}
                        elif "apiVersion" in doc or "kind" in doc:
                            continue  # a values file is a plain mapping
                        for key in ("configMaps", "secrets"):
                            names += [str(o["name"]) for o in doc.get(key) or []
                                      if isinstance(o, dict) and o.get("name")]
                        single = doc.get("configMap")
                        if isinstance(single, dict) and single.get("name"):
                            names.append(str(single["name"]))
            self._webhook: list[str] = list(dict.fromkeys(names)) or (["cluster-config"] if found else [])
        return self._webhook

    def listed(self, namespace: str) -> list[str]:
        """The ``resources`` of the namespace kustomization.yaml, normalised (``calibre-web/ks.yaml``)."""
        return self._resources(self.namespace_kustomization(namespace))

    def _resources(self, path: Path) -> list[str]:
        if not path.is_file():
            return []
        docs = load_all(path, self.root)
        resources = docs[0].get("resources", []) if docs and isinstance(docs[0], dict) else []
        return [posixpath.normpath(str(r)) for r in resources or []]

    # -- inventory ---------------------------------------------------------------------------------
    def keep_between_runs(self) -> None:
        """Keep the apps between runs (snapshot.py): for the commands that only read the checkout."""
        from mediaops.repo.snapshot import Snapshot

        self._snapshot = Snapshot(self.root, self.default_namespace, self.cluster)

    def apps(self) -> list[App]:
        if self._apps is None:
            with no_cycle_collection():
                kept = self._snapshot.load() if self._snapshot is not None else None
                if kept is not None:
                    self._apps = kept
                    return kept
                apps: list[App] = []
                for ns_dir in self.namespace_dirs():
                    apps.extend(self._namespace_apps(ns_dir))
                apps.extend(self._archived())
                self._apps = sorted(apps, key=lambda a: (a.state == ARCHIVED, a.namespace, a.name))
                if self._snapshot is not None and not self._outside:
                    self._snapshot.save(self._apps)
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
        import difflib

        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`mediaops apps` lists them"
        if not names:
            hint = ("no app was found at all: mediaops reads kubernetes/apps/<namespace>/<app>/ks.yaml "
                    "(README, \"The repository\")")
        raise UsageError(f"no app named {name!r} in {self.rel(self.apps_dir)}", hint=hint)

    def _namespace_apps(self, ns_dir: Path) -> Iterator[App]:
        namespace = ns_dir.name
        try:
            listed = self.listed(namespace)
        except YamlError as exc:  # the namespace's list cannot be read: each of its apps says why
            for app_dir in _subdirs(ns_dir):
                yield App(app_dir.name, namespace, self.rel(app_dir), UNREADABLE, [str(exc)])
            return
        seen: set[str] = set()
        by_folder = _by_folder(listed)  # what the namespace lists of each folder (once: a namespace may have hundreds)
        for app_dir in _subdirs(ns_dir):
            seen.add(app_dir.name)
            mine = by_folder.get(app_dir.name, [])
            grouped = [e.split("/", 1)[1] for e in mine if e.count("/") == 2]
            if app_dir.name in mine:  # the folder itself (./exporters): kustomize reads its kustomization.yaml
                grouped += self._resources(app_dir / "kustomization.yaml")
            if grouped and not (app_dir / "ks.yaml").is_file() and not (app_dir / "ks.dis").is_file():
                # A group folder the namespace lists into (./mcp/context7/ks.yaml), or that lists its apps itself
                # (./exporters, whose kustomization.yaml lists ./plex-exporter/ks.yaml): each sub-folder is an app.
                in_group = _by_folder(grouped)
                for sub_dir in _subdirs(app_dir):
                    app = self._app(sub_dir, namespace, in_group.get(sub_dir.name, []))
                    if app is not None:
                        yield app
                continue
            app = self._app(app_dir, namespace, mine)
            if app is not None:
                yield app
        # One Flux Kustomization file per app beside the namespace's kustomization.yaml (joryirving/home-ops:
        # kubernetes/apps/main/downloads/autobrr.yaml, whose path is ./kubernetes/apps/base/downloads/autobrr):
        # listed is active, there and not listed (or commented out) is disabled.
        with os.scandir(ns_dir) as entries:
            files = sorted(e.name for e in entries if e.is_file() and e.name.endswith((".yaml", ".yml"))
                           and e.name not in ("kustomization.yaml", "kustomization.yml", "namespace.yaml"))
        for name in files:
            app = self._file_app(ns_dir / name, namespace, name in listed)
            if app is not None:
                seen.add(name)
                yield app
        for entry in listed:
            first = entry.split("/", 1)[0]
            if first not in seen and entry.endswith("ks.yaml"):
                yield App(first, namespace, self.rel(ns_dir / first), INCONSISTENT,
                          [f"listed in {self.rel(self.namespace_kustomization(namespace))} but "
                           f"{self.rel(ns_dir / entry)} does not exist"])

    def _app(self, app_dir: Path, namespace: str, listed: list[str]) -> App | None:
        """The app in ``app_dir``; ``listed``: what its namespace lists of that folder (``tautulli/ks.yaml``)."""
        name = app_dir.name
        # The app's Flux Kustomizations are in the file the namespace lists for it: ks.yaml in the template,
        # another name (install.yaml) in some repositories. ks.dis is the disabled ks.yaml.
        own = [e.split("/", 1)[1] for e in listed if e.count("/") == 1 and e.split("/", 1)[0] == name]
        # Of several files listed from the folder (tyriis/home-ops: ./cnpg/git-repository.yaml, then
        # ./cnpg/flux-sync.yaml), the one that holds the Flux Kustomizations.
        candidates = [f for f in own if f not in ("ks.yaml", "ks.dis") and (app_dir / f).is_file()]
        other = next((f for f in candidates if self._holds_flux_kustomization(app_dir / f)),
                     candidates[0] if candidates else None)
        if other and not (app_dir / "ks.yaml").is_file():
            return self._described(App(name, namespace, self.rel(app_dir), ACTIVE, [],
                                           ks_file=self.rel(app_dir / other)), app_dir / other)
        ks_yaml, ks_dis = app_dir / "ks.yaml", app_dir / "ks.dis"
        entry = f"{name}/ks.yaml"
        is_listed = entry in listed
        ns_file = self.rel(self.namespace_kustomization(namespace))
        reasons: list[str] = []
        notes: list[str] = []
        has_yaml, has_dis = ks_yaml.is_file(), ks_dis.is_file()
        if has_yaml and has_dis:
            state = INCONSISTENT
            reasons.append("both ks.yaml and ks.dis are present")
        elif has_yaml:
            state = ACTIVE if is_listed else DISABLED  # taken out of the list (or commented out): disabled
            if not is_listed:
                notes.append(f"ks.yaml is not listed in {ns_file}: taken as disabled (activation lists it)")
        elif has_dis:
            state = DISABLED if not is_listed else INCONSISTENT
            if is_listed:
                reasons.append(f"listed in {ns_file} but ks.yaml is missing (only ks.dis)")
        else:
            mine = [entry for entry in listed if entry.split("/", 1)[0] == name]
            plain = all(entry == name for entry in mine) and any(
                (app_dir / f).is_file() for f in ("kustomization.yaml", "kustomization.yml", "Kustomization"))
            named = self._named_entry(app_dir) if not mine else None
            if named is not None:
                # Its Flux Kustomizations in a file of another name, taken out of the list (ahinko/home-ops:
                # `#- ./jellyfin/install.yaml`): disabled, as a ks.yaml not listed is.
                return self._described(App(name, namespace, self.rel(app_dir), DISABLED, [], ks_file=self.rel(named),
                                           notes=[f"{named.name} is not listed in {ns_file}: taken as disabled "
                                                  "(activation lists it)"]), named)
            if not mine or plain:
                # A folder no one lists and with no ks.yaml (notes, ks.bak), or one listed whole whose kustomization
                # holds plain manifests kustomize applies with the namespace (szinn/k8s-homelab's
                # external-services/adguard: an EndpointSlice, a Service, an HTTPRoute): not an app. Listed whole
                # without a kustomization, kustomize cannot build it: that stays a problem.
                return None
            return App(name, namespace, self.rel(app_dir), INCONSISTENT,
                       [f"listed in {ns_file} but the folder has no ks.yaml or ks.dis"])
        ks_file = ks_yaml if has_yaml else ks_dis
        return self._described(App(name, namespace, self.rel(app_dir), state, reasons, ks_file=self.rel(ks_file),
                                   notes=notes), ks_file)

    def _named_entry(self, app_dir: Path) -> Path | None:
        """The one YAML file at the top of an app's folder, beside no ks.yaml, that holds Flux Kustomizations (the
        file the namespace lists for the app in repositories that do not name it ks.yaml); None when there is none,
        or several."""
        found = []
        for child in sorted(app_dir.iterdir()):
            if child.suffix in (".yaml", ".yml") and child.name not in ("kustomization.yaml", "kustomization.yml") \
                    and child.is_file():
                try:
                    docs = load_all(child, self.root)
                except YamlError:
                    continue
                if any(is_kind(d, "Kustomization", FLUX_KS) for d in docs):
                    found.append(child)
        return found[0] if len(found) == 1 else None

    def _holds_flux_kustomization(self, path: Path) -> bool:
        try:
            return any(is_kind(d, "Kustomization", FLUX_KS) for d in load_all(path, self.root))
        except YamlError:
            return False

    def _file_app(self, path: Path, namespace: str, listed: bool) -> App | None:
        """The app of a namespace-level file holding its Flux Kustomizations; None for a file that holds none."""
        try:
            docs = load_all(path, self.root)
        except YamlError as exc:
            return App(path.stem, namespace, self.rel(path.parent), UNREADABLE, [str(exc)], ks_file=self.rel(path)) \
                if listed else None
        if not any(is_kind(d, "Kustomization", FLUX_KS) for d in docs):
            return None
        ns_file = self.rel(self.namespace_kustomization(namespace))
        notes = [] if listed else [f"{path.name} is not listed in {ns_file}: taken as disabled (activation lists it)"]
        app = self._described(App(path.stem, namespace, self.rel(path.parent), ACTIVE if listed else DISABLED, [],
                                  ks_file=self.rel(path), notes=notes), path)
        names = [k.name for k in app.kustomizations]
        if names and path.stem not in names and not any(n.startswith(f"{path.stem}-") for n in names):
            # A file named for what it is, not for the app (tyriis/home-ops: hermes-agent/flux-sync.yaml holds
            # hermes-agent-tyriis, hermes-agent-jazzlyn …): the app is what its Kustomizations' names share.
            shared: list[str] = []
            for column in zip(*(n.split("-") for n in names), strict=False):  # the words they all begin with
                if len(set(column)) > 1:
                    break
                shared.append(column[0])
            name = "-".join(shared)
            # not the name of an app beside it (a folder, or a file of its own): two apps of one name are one too many
            if name and not (path.parent / name).exists() and not (path.parent / f"{name}.yaml").exists():
                app.name = name
        # The app's folder: where its Kustomization of the app's name applies from (the folder above a lone app/),
        # else what its Kustomizations of this repository have in common.
        own = self.entry_source()
        paths = {k.name: k.path for k in app.kustomizations if _same_source(k.source, own)}
        common = paths.get(app.name) or (posixpath.commonpath(list(paths.values()))
                                         if paths and all(not p.startswith("/") for p in paths.values()) else "")
        if (app.name in paths or len(set(paths.values())) == 1) and posixpath.basename(common) == "app":
            common = posixpath.dirname(common)
        if common not in ("", ".") and not common.startswith(".."):
            app.directory = common
        return app

    def _described(self, app: App, ks_file: Path) -> App:
        """The app with what its Kustomizations deploy (``_describe``); one bad file marks this app only
        ``unreadable``, and what was read so far stays shown."""
        try:
            self._describe(app, ks_file)
        except YamlError as exc:
            app.state = UNREADABLE
            app.reasons.insert(0, str(exc))
        return app

    def _archived(self) -> Iterator[App]:
        for base in (self.root / "archive" / "apps", self.kubernetes / "archive" / "apps"):
            if not base.is_dir():
                continue
            for ns_dir in _subdirs(base):
                for app_dir in _subdirs(ns_dir):
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
                        # what it hands down is its own output, which it substitutes too (CLUSTER: ${CLUSTER})
                        handed = {k: expand(v, self.entry_values()) if "${" in v else v for k, v in handed.items()}
                        ks.substitute = {**handed, **ks.substitute}
                app.kustomizations.append(ks)
        if not app.kustomizations:
            app.state = INCONSISTENT
            app.reasons.append(f"{app.ks_file} holds no Flux Kustomization")
        used: set[str] = set()
        required: set[str] = set()
        unsubstituted: set[str] = set()
        own = self.entry_source()
        for ks in app.kustomizations:
            if not _same_source(ks.source, own):  # another repository's files (a GitRepository of its own)
                app.notes.append(f"Kustomization {ks.name} applies {ks.path} of {ks.source.split('/')[0]} "
                                 f"{ks.source.split('/')[2]}, another source than this repository: not read")
                continue
            if "${" in ks.path:  # the entry substitutes its variables in the Kustomizations it applies
                ks.path = posixpath.normpath(expand(ks.path, self.entry_values()))
            directory = self._within(self.root / ks.path)
            if not directory.is_dir():
                app.reasons.append(f"Kustomization {ks.name}: path {ks.path} does not exist")
                app.state = INCONSISTENT
                continue
            objects = self._kustomize_files(directory, app)
            for component in ks.components:  # Flux components: relative to the Kustomization's path
                target = self._within(directory / component)
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
            target = self._within(os.path.join(base, text))
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
                for entry in [*(generator.get("files") or []), *_env_files(generator)]:
                    key_name, _, file_name = str(entry).rpartition("=")
                    path = self._within(os.path.join(base, file_name))
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
        named = str(meta.get("namespace") or "")
        if ks.target_namespace and named and named != ks.target_namespace and namespaced(str(kind)):
            # kustomize-controller sets every namespaced object's namespace to spec.targetNamespace
            # (fluxcd/pkg kustomize/kustomize_generator.go: the generated kustomization.yaml gets namespace:
            # targetNamespace, and kustomize's namespace transformer applies it).
            app.moved.append((f"{kind}/{name}", named, ks.target_namespace))
        spec = doc.get("spec") or {}
        if kind == "_Generated":
            app.generated.setdefault(str(doc["name"]), {})[str(doc["key"])] = (str(doc["file"]), str(doc["text"]))
            return
        if is_kind(doc, "HelmRelease", FLUX_HELM):
            release = helm_release(doc, rel, namespace, forced=bool(ks.target_namespace))
            self._chart_source(app, release, doc)
            values = self._values(app, doc, rel)
            chart = release.chart or ("app-template" if "controllers" in values else "")
            release.controllers = app_template(app, release.name, values, release.namespace, chart)
            app.controllers.extend(release.controllers)
            app.helmreleases.append(release)
        elif kind == "OCIRepository" and str(doc.get("apiVersion", "")).startswith("source.toolkit.fluxcd.io/"):
            ref = spec.get("ref") or {}
            app.sources.append(ChartSource(name, namespace, str(spec.get("url", "")),
                                           str(ref.get("tag") or ref.get("semver") or ref.get("digest") or ""), rel))
        elif kind == "HTTPRoute":
            parents = ", ".join(str(p.get("name")) for p in spec.get("parentRefs") or [] if isinstance(p, dict))
            app.ingresses.append(Ingress(name, [str(h) for h in spec.get("hostnames") or []], parents,
                                         route_path(spec), kind="HTTPRoute"))
        elif kind == "PersistentVolumeClaim":
            requests = (spec.get("resources") or {}).get("requests") or {}
            app.volumes.append(Volume(name, str(requests.get("storage", "")), str(spec.get("storageClassName", "")),
                                      rel, prune_disabled(doc.get("metadata") or {})))
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
            pod_spec(app, (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec"))
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            pod = ((spec.get("template") or {}).get("spec")) or {}
            containers = [Container(name, str(c.get("name")), *split_image(str(c.get("image", ""))))
                          for c in pod.get("containers", []) or [] if isinstance(c, dict)]
            app.controllers.append(Controller(name, kind.lower(), containers, dict(pod.get("nodeSelector") or {})))
            pod_spec(app, pod)

    def _chart_source(self, app: App, release: HelmRelease, doc: dict[str, Any]) -> None:
        """Chart name and version of a ``chartRef`` release, from its OCIRepository: the app's own (the usual
        layout: ``app/ocirepository.yaml``) or a shared one under kubernetes/flux."""
        ref = (doc.get("spec") or {}).get("chartRef")
        if not isinstance(ref, dict) or ref.get("kind", "OCIRepository") != "OCIRepository":
            return
        key = (str(ref.get("namespace") or release.namespace), str(ref.get("name", "")))
        release.chart_ref = f"OCIRepository/{key[0]}/{key[1]}"
        source = (next((s for s in app.sources if (s.namespace, s.name) == key), None)
                  or self.namespace_sources(app.namespace).get(key) or self.shared_sources().get(key))
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
            bases = (self.flux_dir, self.kubernetes / "components")
            self._shared = {(s.namespace, s.name): s for base in bases for s in self._oci_sources(base, "flux-system")}
        return self._shared

    def namespace_sources(self, namespace: str) -> dict[tuple[str, str], ChartSource]:
        """OCIRepositories the namespace's kustomization.yaml brings in through its ``components`` (a shared
        ``components/common/repos/app-template`` in each namespace) or lists beside the apps' ks.yaml among its
        ``resources`` (kashalls/home-cluster: ``apps/default/app-template.yaml``), in the namespace kustomize
        gives them. A listed folder with a ks.yaml of its own is an app's, not read here."""
        cache: dict[str, dict[tuple[str, str], ChartSource]] = self.__dict__.setdefault("_namespace_sources", {})
        if namespace not in cache:
            spec = self._namespace_spec(namespace)
            listing = self.namespace_kustomization(namespace).parent
            override = str(spec.get("namespace") or "")
            cache[namespace] = {}
            listed = [self._within(listing / str(c)) for c in spec.get("components") or []]
            for resource in spec.get("resources") or []:
                path = self._within(listing / str(resource))
                a_file = path.suffix in (".yaml", ".yml") and path.name != "ks.yaml"
                if a_file or (path.is_dir() and not (path / "ks.yaml").exists()):
                    listed.append(path)
            for base in listed:
                for source in self._oci_sources(base, namespace):
                    source.namespace = override or source.namespace
                    cache[namespace][(source.namespace, source.name)] = source
        return cache[namespace]

    def _oci_sources(self, base: Path, default_namespace: str) -> list[ChartSource]:
        """The OCIRepositories of the YAML files under ``base``, or of the file ``base`` (a namespace-less one in
        ``default_namespace``)."""
        found: list[ChartSource] = []
        for path in sorted(base.rglob("*.y*ml")) if base.is_dir() else [base] if base.is_file() else []:
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
                    found.append(ChartSource(str(meta.get("name")), str(meta.get("namespace") or default_namespace),
                                             str(spec.get("url", "")), str(ref.get("tag") or ref.get("semver") or ""),
                                             self.rel(path)))
        return found

    def _values(self, app: App, doc: dict[str, Any], rel: str) -> dict[str, Any]:
        """The HelmRelease's values as Flux merges them: each valuesFrom in order, then inline values."""
        from mediaops.repo.yamlfiles import describe_error, parse_cached, yaml_error

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
                except YamlError:
                    raise
                except yaml_error() as exc:  # helm-controller cannot read these values either
                    raise YamlError(describe_error(file, exc), hint="fix the file, then run again") from None
                if isinstance(values, dict):
                    _merge(merged, values)
        _merge(merged, spec.get("values") or {})
        return merged

    # -- Flux objects across the repository ----------------------------------------------------------
    def flux_kustomizations(self) -> list[FluxKustomization]:
        """Every Flux Kustomization the repository defines: the entry ones and every app's (ks.dis too)."""
        if self._flux is None:
            found: list[FluxKustomization] = []
            flux_dir = self.flux_dir
            if flux_dir.is_dir():
                for path in sorted(flux_dir.rglob("*.yaml")):
                    for doc in load_all(path, self.root):
                        if is_kind(doc, "Kustomization", FLUX_KS):
                            found.append(flux_kustomization(doc, self.rel(path), "flux-system"))
            # Trees other entry Kustomizations apply beside kubernetes/apps (cluster-core -> ./kubernetes/core,
            # cluster-platform -> ./kubernetes/platform): their Kustomizations exist too, as dependsOn targets.
            apps_dir = self.apps_dir.resolve()
            for entry in list(found):
                tree = (self.root / entry.path).resolve() if entry.path else None
                if tree is None or not tree.is_dir() or tree == apps_dir or apps_dir in tree.parents \
                        or self.root.resolve() not in tree.parents or tree == flux_dir.resolve():
                    continue
                for path in sorted(tree.rglob("*.yaml")):
                    if path.name == "kustomization.yaml":
                        continue
                    try:
                        docs = load_all(path, self.root)
                    except YamlError:
                        continue
                    namespace = self._enclosing_namespace(path.parent, tree)
                    found += [flux_kustomization(doc, self.rel(path), namespace) for doc in docs
                              if is_kind(doc, "Kustomization", FLUX_KS)]
            for app in self.apps():
                found.extend(app.kustomizations)
            self._flux = found
        return self._flux

    def _enclosing_namespace(self, directory: Path, top: Path) -> str:
        """The ``namespace:`` the nearest kustomization.yaml from ``directory`` up to ``top`` sets (kustomize's
        namespace transformer gives it to what that directory lists), else flux-system."""
        while True:
            for name in ("kustomization.yaml", "kustomization.yml"):
                spec = directory / name
                if spec.is_file():
                    try:
                        docs = load_all(spec, self.root)
                    except YamlError:
                        docs = []
                    if docs and isinstance(docs[0], dict) and docs[0].get("namespace"):
                        return str(docs[0]["namespace"])
            if directory == top or top not in directory.parents:
                return "flux-system"
            directory = directory.parent

    def entry_kustomization(self) -> dict[str, Any]:
        """The entry Kustomization that applies the apps (cluster-apps), as written; {} when there is none."""
        if not hasattr(self, "_entry"):
            apps = self.rel(self.apps_dir)
            docs: list[dict[str, Any]] = []
            for path in self.flux_entry():
                try:
                    docs += [d for d in load_all(path, self.root) if is_kind(d, "Kustomization", FLUX_KS)]
                except YamlError:
                    continue
            pointing = [d for d in docs if posixpath.normpath(str((d.get("spec") or {}).get("path", ""))) == apps]
            self._entry: dict[str, Any] = (pointing or docs or [{}])[0]
        return self._entry

    def entry_source(self) -> str:
        """The source the entry Kustomization applies the apps from (kind/namespace/name): this repository."""
        entry = self.entry_kustomization()
        namespace = str((entry.get("metadata") or {}).get("namespace") or "flux-system")
        return _source_ref((entry.get("spec") or {}).get("sourceRef"), namespace) if entry else ""

    def entry_values(self) -> dict[str, str]:
        """What the entry Kustomization substitutes in the apps' Flux Kustomizations it applies: its
        postBuild.substitute and the data of the ConfigMaps its substituteFrom names, as its cluster's folder
        defines them (joryirving/home-ops: cluster-info's CLUSTER, which some apps' paths use)."""
        if not hasattr(self, "_entry_values"):
            post = (self.entry_kustomization().get("spec") or {}).get("postBuild") or {}
            values: dict[str, str] = {}
            names = {str(s.get("name")) for s in post.get("substituteFrom") or []
                     if isinstance(s, dict) and s.get("kind", "ConfigMap") == "ConfigMap"}
            for path in sorted(self.flux_dir.rglob("*.yaml")) if names and self.flux_dir.is_dir() else []:
                try:
                    docs = load_all(path, self.root)
                except YamlError:
                    continue
                for doc in docs:
                    if is_kind(doc, "ConfigMap") and str((doc.get("metadata") or {}).get("name")) in names:
                        values.update({str(k): str(v) for k, v in (doc.get("data") or {}).items()})
            values.update({str(k): str(v) for k, v in (post.get("substitute") or {}).items()})
            self._entry_values: dict[str, str] = values
        return self._entry_values

    def flux_entry(self) -> list[Path]:
        """The files holding the Flux Kustomizations that ``flux bootstrap`` starts from.

        The cluster template's is ``kubernetes/flux/cluster/ks.yaml`` (``cluster-apps`` points at
        ``./kubernetes/apps``); older layouts keep ``cluster-apps`` in ``kubernetes/flux/apps.yaml`` or name it
        otherwise. So: that file when it exists, else every file under ``kubernetes/flux`` (then ``clusters/``)
        whose Kustomization points at ``kubernetes/apps``, else every file there that holds one.
        """
        default = self.flux_dir / "cluster" / "ks.yaml"
        if default.is_file():
            return [default]
        found: list[Path] = []
        pointing: list[Path] = []
        apps = self.rel(self.apps_dir)
        for base in (self.flux_dir, self.root / "clusters"):
            for path in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
                try:
                    docs = load_all(path, self.root)
                except YamlError:
                    continue
                kustomizations = [d for d in docs if is_kind(d, "Kustomization", FLUX_KS)]
                if kustomizations:
                    found.append(path)
                if any(posixpath.normpath(str((d.get("spec") or {}).get("path", ""))) == apps
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
        self._from_store: dict[str, set[str] | None] = {}
        for path in sorted(self.kubernetes.rglob("*.y*ml")) if names else []:
            text = read_text(path)
            if not any(name in text for name in names):
                continue  # most files name none of them (`name: &name cluster-secrets` too): no need to parse
            for doc in _mappings(path, self.root):
                made = _external_secret_keys(doc)
                if made is not None and made[0] in names:
                    self._from_store[made[0]] = made[1]
                if doc.get("kind") in ("ConfigMap", "Secret") and str((doc.get("metadata") or {}).get("name")) in names:
                    found.add(str(doc["metadata"]["name"]))
                    for section in ("data", "stringData"):
                        for key in (doc.get(section) or {}):
                            defined.setdefault(str(key), self.rel(path))
                for key in ("configMapGenerator", "secretGenerator"):
                    # kustomize takes a kustomization.yaml without kind for a Kustomization
                    kind = doc.get("kind", "Kustomization")
                    for generator in doc.get(key) or [] if kind in ("Kustomization", "Component") else []:
                        if not isinstance(generator, dict) or str(generator.get("name")) not in names:
                            continue
                        found.add(str(generator["name"]))
                        lines = [str(x) for x in generator.get("literals") or []]
                        for env in _env_files(generator):
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

    def substitution_sources_from_store(self) -> dict[str, set[str] | None]:
        """The ``substituteFrom`` Secrets an ExternalSecret under kubernetes/ makes (a namespace component's
        cluster-secrets, an app's own), with the keys they will hold, or None where the secret store decides them."""
        self.substitution_sources()
        return self._from_store

    def substitution_sources_missing(self) -> list[str]:
        """The ``substituteFrom`` objects no file under kubernetes/ defines (made by hand, by a bootstrap
        script or by another tool)."""
        self.substitution_sources()
        return self._sources_missing


def flux_kustomization(doc: dict[str, Any], file: str, default_namespace: str,
                       override: bool = False) -> FluxKustomization:
    """A Flux Kustomization as the repository declares it; ``override``: the namespace kustomization's
    ``namespace:`` replaces the object's own (kustomize's namespace transformer does)."""
    from mediaops.repo.yamlfiles import parse_cached

    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    namespace = default_namespace if override else str(meta.get("namespace") or default_namespace)
    post = spec.get("postBuild") if isinstance(spec.get("postBuild"), dict) else None
    children: list[tuple[dict[str, Any], dict[str, str], list[str]]] = []
    for patch in spec.get("patches", []) or []:  # cluster-apps hands postBuild down to its children
        if not isinstance(patch, dict) or ((patch.get("target") or {}).get("kind") not in (None, "Kustomization")):
            continue
        try:
            patched = parse_cached(str(patch.get("patch") or "")) or {}
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
        source=_source_ref(spec.get("sourceRef"), namespace),
        children=children,
    )


def _same_source(source: str, own: str) -> bool:
    """Whether a Kustomization's source is the repository's own (by kind and name; either unknown counts as the
    same): its path is then a folder of this checkout."""
    if not source or not own:
        return True
    kind, _, name = source.split("/", 2)
    own_kind, _, own_name = own.split("/", 2)
    return (kind, name) == (own_kind, own_name)


def _source_ref(ref: Any, namespace: str) -> str:
    """A Flux sourceRef as kind/namespace/name (the Kustomization's namespace when it names none)."""
    if not isinstance(ref, dict) or not ref.get("name"):
        return ""
    return f"{ref.get('kind') or 'GitRepository'}/{ref.get('namespace') or namespace}/{ref['name']}"


def helm_release(doc: dict[str, Any], file: str, namespace: str, *, forced: bool = False) -> HelmRelease:
    """The HelmRelease ``doc`` in ``namespace`` when it names none, or always (``forced``: its Kustomization's
    targetNamespace, which Flux sets on it whatever it names; tyriis/home-ops's argo-events)."""
    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    chart = ((spec.get("chart") or {}).get("spec")) or {}
    chart_ref = spec.get("chartRef") or {}
    own = namespace if forced else str(meta.get("namespace") or namespace)
    return HelmRelease(
        name=str(meta.get("name", "")),
        namespace=own,
        file=file,
        chart=str(chart.get("chart", "")),
        version=str(chart.get("version", "")),
        chart_ref=f"{chart_ref.get('kind')}/{chart_ref.get('namespace') or own}/{chart_ref.get('name')}"
        if chart_ref else "",
        depends_on=[Ref(str(d.get("name")), str(d.get("namespace") or own))
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


def _external_secret_keys(doc: Any) -> tuple[str, set[str] | None] | None:
    """The Secret an ExternalSecret makes and its keys, as external-secrets writes them
    (pkg/controllers/externalsecret/externalsecret_controller_template.go ApplyTemplate): template.data's keys; the
    fetched ones (spec.data's secretKey, and whatever spec.dataFrom brings) only with no data template or
    mergePolicy Merge. None for the keys where the store or the existing Secret decides them (dataFrom,
    templateFrom, creationPolicy Merge)."""
    if not isinstance(doc, dict) or doc.get("kind") != "ExternalSecret" or \
            not str(doc.get("apiVersion", "")).startswith("external-secrets.io/"):
        return None
    spec = doc.get("spec") or {}
    target = spec.get("target") or {}
    name = str(target.get("name") or (doc.get("metadata") or {}).get("name") or "")
    template = target.get("template") if isinstance(target.get("template"), dict) else None
    keys = {str(k) for k in ((template or {}).get("data") or {})}
    fetched_kept = template is None or template.get("mergePolicy") == "Merge" or \
        not (template.get("data") or template.get("templateFrom"))
    if fetched_kept:
        if spec.get("dataFrom"):
            return name, None
        keys |= {str(d.get("secretKey")) for d in spec.get("data") or [] if isinstance(d, dict)}
    if (template or {}).get("templateFrom") or target.get("creationPolicy") in ("Merge", "CreateOrMerge"):
        return name, None
    return name, keys


def _mappings(path: Path, root: Path) -> list[dict[str, Any]]:
    """The documents of a YAML file that are mappings; none when the file cannot be read (what reads the file for
    a finding says so; here it only contributes nothing)."""
    try:
        return [doc for doc in load_all(path, root) if isinstance(doc, dict)]
    except YamlError:
        return []


def _subdirs(path: Path) -> list[Path]:
    """The folders in ``path``, sorted (a directory entry says whether it is one without another stat)."""
    with os.scandir(path) as entries:
        return sorted(Path(entry.path) for entry in entries if entry.is_dir())


def _by_folder(entries: list[str]) -> dict[str, list[str]]:
    """A kustomization's resources (``tautulli/ks.yaml``, or the folder alone: ``tautulli``) by their first folder."""
    found: dict[str, list[str]] = {}
    for entry in entries:
        found.setdefault(entry.split("/", 1)[0], []).append(entry)
    return found


@contextmanager
def no_cycle_collection(*, freeze: bool = False) -> Iterator[None]:
    """Reading a repository only makes objects, hundreds of thousands that live as long as the inventory: the cyclic
    collector, which runs every 700 new objects and walks the survivors again and again, found nothing in them and
    took a third of `apps` over 3,000 apps. It is off while they are made, and on again after as it was. With
    ``freeze`` (the read-only commands, which end soon after) they are frozen first (gc.freeze), so it never walks
    them again; a long-lived process must not freeze what it reads, since frozen cyclic garbage is never freed (a
    test worker's rehearsals grew it by 45 MB over 41 tests)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


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


def _env_files(generator: dict[str, Any]) -> list[str]:
    """A generator's env files: ``envs``, then the deprecated ``env`` that kustomize still reads, appended to them
    (kubernetes-sigs/kustomize api/types/kustomization.go FixKustomization; seen in kashalls/home-cluster)."""
    files = [str(e) for e in generator.get("envs") or []]
    return [*files, str(generator["env"])] if generator.get("env") else files


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


def cluster_trees(root: Path) -> dict[str, Path]:
    """The clusters of a repository that keeps one tree per cluster, by name: the folder of each one's Flux entry.

    joryirving/home-ops: ``kubernetes/clusters/<name>/`` (apps.yaml: cluster-apps -> ./kubernetes/apps/<name>,
    whose namespaces list one Flux Kustomization file per app over kubernetes/apps/base); haraldkoch/kochhaus-home:
    ``kubernetes/<name>/flux/`` beside ``kubernetes/<name>/apps/`` (szinn/k8s-homelab: ``kubernetes/<name>/cluster/``);
    `flux bootstrap`'s own: ``clusters/<name>/``."""
    found: dict[str, Path] = {}
    kubernetes = root / "kubernetes"
    for base in (kubernetes / "clusters", root / "clusters"):
        for directory in _subdirs(base) if base.is_dir() else []:
            found.setdefault(directory.name, directory)
    for directory in _subdirs(kubernetes) if kubernetes.is_dir() else []:
        if (directory / "apps").is_dir() and directory.name not in ("apps", "clusters"):
            # its entry under flux/, or cluster/ (szinn/k8s-homelab: kubernetes/main/cluster/config/cluster.yaml)
            entry = next((directory / d for d in ("flux", "cluster") if (directory / d).is_dir()), directory / "flux")
            found.setdefault(directory.name, entry)
    return found
