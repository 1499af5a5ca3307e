"""Values of bjw-s app-template (and common chart shapes) read as controllers, volumes, routes and secrets."""

from __future__ import annotations

import re
from typing import Any

from mediaops.repo.model import App, Container, Controller, Ingress, NfsMount, Volume


def split_image(image: str) -> tuple[str, str, str]:
    """(repository with registry, tag, digest) of an image reference."""
    name, _, digest = image.partition("@")
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, "" if digest else "latest", digest
    return repo, tag, digest


def _image(value: Any) -> tuple[str, str, str] | None:
    """An app-template or chart ``image:`` block ({registry, repository, tag, digest}) as (image, tag, digest)."""
    if isinstance(value, str):
        return split_image(value)
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


def pod_spec(app: App, pod: Any) -> None:
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


def app_template(app: App, release: str, values: dict[str, Any], namespace: str = "",
                  chart: str = "app-template") -> list[Controller]:
    """What a HelmRelease deploys, read from its values: bjw-s app-template (v3 to v5) in full, 1.x's one
    top-level image; for any other chart its top-level image, ``serviceMonitor.enabled`` and
    ``httpRoute``/``route`` hosts."""
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
    if "controllers" not in values and isinstance(values.get("image"), dict):
        # app-template 1.x (common library 1.x; truxnell/home-cluster's releases): one controller, the release's,
        # and its main container's image at the top level of the values
        image = _image(values["image"])
        if image is not None:
            kind = str((values.get("controller") or {}).get("type", "deployment"))
            controllers.append(Controller(release, kind, [Container(release, "main", *image)]))
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
                                      "app-template persistence", kept=volume.get("retain") is True))
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
                                         route_path(route), kind="HTTPRoute"))
    for sname, monitor in (values.get("serviceMonitor") or {}).items():
        if isinstance(monitor, dict) and monitor.get("enabled", True) is not False:
            app.service_monitors.append(_identifier(release, str(sname)))
    return controllers


GATUS = "gatus.home-operations.com/endpoint"  # gatus-sidecar's annotation: the endpoint's YAML


def route_path(route: dict[str, Any]) -> str:
    """The path a health check should ask for: the gatus endpoint annotation's ``path``, else the first rule's."""
    annotation = str((route.get("annotations") or {}).get(GATUS) or "")
    match = re.search(r"(?m)^\s*path:\s*['\"]?([^'\"\s]+)", annotation)
    if match:
        return match.group(1)
    for rule in route.get("rules") or []:
        for item in (rule or {}).get("matches") or [] if isinstance(rule, dict) else []:
            path = ((item or {}).get("path") or {}) if isinstance(item, dict) else {}
            # a path to ask for: an Exact or PathPrefix value (a RegularExpression is no path)
            if path.get("value") and path.get("type", "PathPrefix") in ("Exact", "PathPrefix"):
                return str(path["value"])
    return "/"
