"""What the rehearsal's helm-controller installs: bjw-s app-template rendered from its values.

Enough of the chart for the runbooks: one workload per controller (Deployment, StatefulSet or CronJob)
named like the chart names it, containers with images, env, envFrom and probes, persistence as PVCs,
NFS, emptyDir and ConfigMap volumes, Services, Ingresses, HTTPRoutes and ServiceMonitors. Any other chart becomes a
single Deployment of ``values.image`` and a Service named after the release (with the CustomResourceDefinitions
of the charts that ship them:
k8up, volsync and its volsync-perfectra1n fork, longhorn, velero); Velero's chart also gets its storage locations,
schedules and node agent from its values. The chart catalog says which versions exist.
"""

from __future__ import annotations

import re
from typing import Any

KEEP = "helm.sh/resource-policy"  # "keep": Helm leaves the object when the release drops it or is uninstalled
CATALOG: dict[str, list[str]] = {
    "app-template": ["3.5.1", "3.6.0", "3.6.1", "3.7.0", "3.7.1", "3.7.2", "3.7.3", "4.0.0", "4.0.1", "4.1.0",
                     "4.1.1", "4.1.2", "4.2.0", "4.3.0", "4.4.0", "5.0.0", "5.0.1", "5.1.0", "5.1.1", "5.2.0"],
}


# Charts that install CustomResourceDefinitions with the release, by the group of the kinds they define:
# k8up-io/k8up charts/k8up/crds/ (Helm's crds/ folder: installed when absent, never upgraded or deleted; the chart's
# README, "Handling CRDs": "they're now included in the Helm chart") and backube/volsync
# helm/volsync/templates/volsync.backube_*.yaml (with `helm.sh/resource-policy: keep`: Helm leaves them on
# uninstall), and longhorn/longhorn chart/templates/crds.yaml (its longhorn.io kinds, as a template of the
# release), and vmware-tanzu/helm-charts charts/velero/crds/ (Helm's crds/ folder; its upgrade-crds Job keeps them
# current). The fork perfectra1n/volsync is installed from the chart `volsync-perfectra1n` (home-operations'
# charts-mirror) and ships the same group's CRDs. Rehearsal.install creates them when absent and never deletes them.
CRD_GROUPS: dict[str, str] = {"k8up": "k8up.io", "volsync": "volsync.backube", "volsync-perfectra1n": "volsync.backube",
                              "longhorn": "longhorn.io", "velero": "velero.io"}


def crds(group: str) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of every kind the registry knows in a group (Established, their printer
    columns), as a chart that ships them installs them."""
    from mediaops.cluster import velero  # noqa: F401  (registers Velero's kinds beyond the static table)
    from mediaops.cluster.kinds import RESOURCES
    from mediaops.sim.server import crd_for
    from mediaops.sim.store import now

    return [crd_for(r, now()) for r in RESOURCES if r.group == group]


def known(chart: str, version: str) -> bool:
    versions = CATALOG.get(chart)
    return versions is None or version in versions


def _name(release: str, identifier: str) -> str:
    return release if identifier in (release, "app", "main") else f"{release}-{identifier}"


def _object_name(release: str, identifier: str, values: dict[str, Any], count: int) -> str:
    """The name the common library gives one of ``count`` enabled objects of a kind (a Service, a route):
    ``forceRename``, else the release, with ``-<identifier>`` when there are several unless the name already ends
    so (lib/common/_determineResourceNameFromValues.tpl; prefixes and suffixes are not modelled)."""
    if values.get("forceRename"):
        return str(values["forceRename"]).lower()
    several = count > 1 and identifier != release and not release.endswith(f"-{identifier}")
    return (f"{release}-{identifier}" if several else release).lower()


def _env(env: Any) -> list[dict[str, Any]]:
    if isinstance(env, list):
        return env
    out = []
    for key, value in (env or {}).items():
        if isinstance(value, dict):
            item = {"name": key}
            if "valueFrom" in value:
                item["valueFrom"] = value["valueFrom"]
            else:
                item["value"] = str(value.get("value", ""))
            out.append(item)
        else:
            out.append({"name": key, "value": "" if value is None else str(value)})
    return out


def _tpl(value: Any, release: str, namespace: str) -> Any:
    """What app-template's ``tpl`` makes of the values it templates: the release's name and namespace."""
    if isinstance(value, str) and "{{" in value:
        value = re.sub(r"\{\{-?\s*\.Release\.Name\s*-?\}\}", release, value)
        return re.sub(r"\{\{-?\s*\.Release\.Namespace\s*-?\}\}", namespace, value)
    if isinstance(value, dict):
        return {k: _tpl(v, release, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_tpl(v, release, namespace) for v in value]
    return value


def render(release: str, namespace: str, chart: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    values = _tpl(values, release, namespace)
    labels = {"app.kubernetes.io/name": release, "app.kubernetes.io/instance": release}
    if chart != "app-template":
        image = values.get("image") or {}
        single = {"name": release, "image": f"{image.get('repository', release)}:{image.get('tag', 'latest')}"}
        return [*(crds(CRD_GROUPS[chart]) if chart in CRD_GROUPS else []),
                _workload("Deployment", release, namespace, labels, {"containers": [single]}, 1),
                # the Service most charts name after the release, which routes and probes reach it by
                {"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)},
                 "spec": {"ports": [{"name": "http", "port": 80}], "selector": dict(labels)}},
                *(_velero(release, namespace, values, labels) if chart == "velero" else [])]
    objects: list[dict[str, Any]] = []
    default_pod = values.get("defaultPodOptions") or {}
    persistence = {k: v for k, v in (values.get("persistence") or {}).items()
                   if isinstance(v, dict) and v.get("enabled", True) is not False}
    volumes, claims, mounts = [], [], []
    for pid, item in persistence.items():
        kind = item.get("type", "persistentVolumeClaim")
        paths = [str(m.get("path")) for m in item.get("globalMounts") or [] if isinstance(m, dict)] or [f"/{pid}"]
        mounts += [{"name": pid, "mountPath": path} for path in paths]
        if kind == "persistentVolumeClaim":
            claim = item.get("existingClaim") or (release if pid == release else f"{release}-{pid}")
            volumes.append({"name": pid, "persistentVolumeClaim": {"claimName": claim}})
            if not item.get("existingClaim"):
                # retain: the common library's classes/_pvc.tpl annotates helm.sh/resource-policy: keep
                kept = {"annotations": {KEEP: "keep"}} if item.get("retain") is True else {}
                claims.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "metadata": {"name": claim, "namespace": namespace, "labels": dict(labels), **kept},
                               "spec": {"accessModes": [item.get("accessMode", "ReadWriteOnce")],
                                        "resources": {"requests": {"storage": item.get("size", "1Gi")}},
                                        "storageClassName": item.get("storageClass", "")}})
        elif kind == "nfs":
            volumes.append({"name": pid, "nfs": {"server": item.get("server"), "path": item.get("path")}})
        elif kind == "configMap":
            volumes.append({"name": pid, "configMap": {"name": item.get("name")}})
        elif kind == "secret":
            volumes.append({"name": pid, "secret": {"secretName": item.get("name")}})
        else:
            volumes.append({"name": pid, "emptyDir": {}})
    objects += claims
    for cid, controller in (values.get("controllers") or {}).items():
        if not isinstance(controller, dict) or controller.get("enabled", True) is False:
            continue
        kind = {"statefulset": "StatefulSet", "cronjob": "CronJob"}.get(controller.get("type", "deployment"),
                                                                      "Deployment")
        pod = {**default_pod, **(controller.get("pod") or {})}
        containers = []
        for name, spec in (controller.get("containers") or {}).items():
            if not isinstance(spec, dict):
                continue
            image = spec.get("image") or {}
            container: dict[str, Any] = {"name": name, "image": f"{image.get('repository')}:{image.get('tag')}"}
            if spec.get("args"):
                container["args"] = [str(a) for a in spec["args"]]
            if spec.get("env"):
                container["env"] = _env(spec["env"])
            if spec.get("envFrom"):
                container["envFrom"] = spec["envFrom"]
            if mounts:
                container["volumeMounts"] = mounts
            probes = spec.get("probes") or {}
            if (probes.get("readiness") or {}).get("enabled", True):
                container["readinessProbe"] = {"tcpSocket": {"port": 8080}}
            containers.append(container)
        pod_spec: dict[str, Any] = {"containers": containers, "volumes": volumes}
        if pod.get("nodeSelector"):
            pod_spec["nodeSelector"] = pod["nodeSelector"]
        workload_labels = {**labels, "app.kubernetes.io/controller": cid}
        objects.append(_workload(kind, _name(release, cid), namespace, workload_labels, pod_spec,
                                 _integer(controller.get("replicas", 1), f"{kind}.spec.replicas",
                                          f"io.k8s.api.apps.v1.{kind}Spec.replicas"),
                                 schedule=str((controller.get("cronjob") or {}).get("schedule", "@daily"))))
    services = {str(k): v for k, v in (values.get("service") or {}).items()
                if isinstance(v, dict) and v.get("enabled", True) is not False}
    for sid, service in services.items():
        ports = [{"name": pname, "port": _integer(p.get("port", 80), f"Service.spec.ports[{index}].port",
                                          "io.k8s.api.core.v1.ServicePort.port")}
                 for index, (pname, p) in enumerate((service.get("ports") or {}).items())
                 if isinstance(p, dict)]
        objects.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": _object_name(release, sid, service, len(services)),
                                     "namespace": namespace, "labels": dict(labels)},
                        "spec": {"ports": ports, "selector": dict(labels)}})
    for iid, ingress in (values.get("ingress") or {}).items():
        if not isinstance(ingress, dict) or ingress.get("enabled", True) is False:
            continue
        rules = [{"host": h.get("host"), "http": {"paths": [{"path": p.get("path", "/"), "pathType": "Prefix",
                                                              "backend": {"service": {"name": release}}}
                                                             for p in h.get("paths") or []]}}
                 for h in ingress.get("hosts") or [] if isinstance(h, dict)]
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                        "metadata": {"name": _name(release, iid), "namespace": namespace, "labels": dict(labels),
                                     "annotations": dict(ingress.get("annotations") or {})},
                        "spec": {"ingressClassName": ingress.get("className", ""), "rules": rules}})
    objects += _routes(release, namespace, values, labels)
    for mid, monitor in (values.get("serviceMonitor") or {}).items():
        if isinstance(monitor, dict):
            objects.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                            "metadata": {"name": _name(release, mid), "namespace": namespace, "labels": dict(labels)},
                            "spec": {"endpoints": monitor.get("endpoints") or [],
                                     "selector": {"matchLabels": dict(labels)}}})
    return objects


def _routes(release: str, namespace: str, values: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """app-template's ``route`` entries as the bjw-s common library renders them (charts/library/common/templates:
    lib/routes/_enabled_routes.tpl, _autoDetectService.tpl, classes/_route.tpl): each enabled one (``enabled``
    defaults to true) an HTTPRoute (or its ``kind``) named by lib/common/_determineResourceNameFromValues.tpl
    (``forceRename``, else the release, with ``-<identifier>`` when there are several); with exactly one Service,
    a route without rules gets one rule to it and a backendRef naming neither ``name`` nor ``identifier`` points
    at it; a backendRef's port is its number, a port name of that Service, else the Service's primary port
    (``primary: true``, else the first by name: lib/service/_primary_port.tpl). Resolving a port name is the
    newer library's (common 4.x passes the name through, which the API server then refuses: not modelled)."""
    services = {str(k): v for k, v in (values.get("service") or {}).items()
                if isinstance(v, dict) and v.get("enabled", True) is not False}
    routes = {str(k): v for k, v in (values.get("route") or {}).items()
              if isinstance(v, dict) and v.get("enabled", True) is not False}

    def ports(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {str(k): p for k, p in sorted((service.get("ports") or {}).items())
                if isinstance(p, dict) and p.get("enabled", True) is not False}

    def backend(ref: dict[str, Any]) -> dict[str, Any]:
        service = services.get(str(ref.get("identifier", ""))) or {}
        name = str(ref.get("name") or (_object_name(release, str(ref["identifier"]), service, len(services))
                                       if ref.get("identifier") else ""))
        port = ref.get("port")
        found = ports(service)
        if isinstance(port, str):
            port = (found.get(port) or {}).get("port")
        elif port is None and found:
            port = next((p for p in found.values() if p.get("primary")), next(iter(found.values()))).get("port", 80)
        return {"group": str(ref.get("group") or ""), "kind": str(ref.get("kind") or "Service"), "name": name,
                "namespace": str(ref.get("namespace") or namespace), **({"port": port} if port else {}),
                "weight": ref.get("weight", 1)}

    objects = []
    for rid, route in routes.items():
        rules = [dict(r) for r in route.get("rules") or [] if isinstance(r, dict)]
        if len(services) == 1:
            only = next(iter(services))
            rules = rules or [{"backendRefs": [{}]}]
            for rule in rules:
                rule["backendRefs"] = [ref if not isinstance(ref, dict) or ref.get("name") or ref.get("identifier")
                                       else {**ref, "identifier": only} for ref in rule.get("backendRefs") or []]
        name = _object_name(release, rid, route, len(routes))
        kind = str(route.get("kind") or "HTTPRoute")
        spec: dict[str, Any] = {
            "parentRefs": [{"group": p.get("group", "gateway.networking.k8s.io"), "kind": p.get("kind", "Gateway"),
                            "name": p.get("name"), **({"namespace": p["namespace"]} if p.get("namespace") else {}),
                            **({"sectionName": p["sectionName"]} if p.get("sectionName") else {})}
                           for p in route.get("parentRefs") or [] if isinstance(p, dict)],
            "rules": [{"backendRefs": [backend(ref) for ref in rule.get("backendRefs") or [] if isinstance(ref, dict)],
                       **{k: rule[k] for k in ("matches", "filters", "timeouts")
                          if rule.get(k) and kind in ("HTTPRoute", "GRPCRoute")}} for rule in rules]}
        if route.get("hostnames") and kind not in ("TCPRoute", "UDPRoute"):  # as classes/_route.tpl
            spec["hostnames"] = [str(h) for h in route["hostnames"]]
        # the newest version the cluster serves (classes/_route.tpl asks .Capabilities): v1 for HTTP and gRPC
        version = "v1" if kind in ("HTTPRoute", "GRPCRoute") else "v1alpha2"
        objects.append({"apiVersion": f"gateway.networking.k8s.io/{version}", "kind": kind,
                        "metadata": {"name": name, "namespace": namespace,
                                     "labels": {**labels, **(route.get("labels") or {})},
                                     **({"annotations": dict(route["annotations"])} if route.get("annotations")
                                        else {})},
                        "spec": spec})
    return objects


def _velero(release: str, namespace: str, values: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """What vmware-tanzu/helm-charts charts/velero/templates make of the values besides the server: a
    BackupStorageLocation per ``configuration.backupStorageLocation`` entry (a list; named ``default`` unless named;
    the chart's default is one without provider or bucket) when ``backupsEnabled`` (default true), a Schedule
    ``<fullname>-<key>`` per ``schedules`` entry not ``disabled``, and the ``node-agent`` DaemonSet (pods labelled
    ``name: node-agent``, ``role: node-agent``) when ``deployNodeAgent``. All in the release's namespace."""
    config = values.get("configuration") or {}
    objects: list[dict[str, Any]] = []
    # values.yaml's own default: one location with neither provider nor bucket (the server finds it Unavailable)
    locations = config.get("backupStorageLocation", [{"provider": "", "bucket": ""}])
    if values.get("backupsEnabled", True) and isinstance(locations, list):  # backupstoragelocation.yaml
        for entry in (e for e in locations if isinstance(e, dict)):
            storage = {"bucket": str(entry.get("bucket", "")),
                       **({"prefix": str(entry["prefix"])} if entry.get("prefix") else {})}
            spec = {"provider": entry.get("provider"), "accessMode": entry.get("accessMode") or "ReadWrite",
                    **({"default": True} if entry.get("default") else {}), "objectStorage": storage,
                    **({"config": {k: str(v) for k, v in entry["config"].items()}}
                       if isinstance(entry.get("config"), dict) and entry["config"] else {})}
            objects.append({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
                            "metadata": {"name": str(entry.get("name") or "default"), "namespace": namespace,
                                         "labels": dict(labels)}, "spec": spec})
    # _helpers.tpl velero.fullname: fullnameOverride, else the release's name when it contains the chart's name
    name = values.get("nameOverride") or "velero"
    fullname = str(values.get("fullnameOverride") or (release if name in release else f"{release}-{name}"))[:63]
    for key, schedule in (values.get("schedules") or {}).items():  # schedule.yaml
        if isinstance(schedule, dict) and not schedule.get("disabled"):
            spec = {"schedule": str(schedule.get("schedule", "")),
                    **{k: schedule[k] for k in ("paused", "useOwnerReferencesInBackup", "skipImmediately", "template")
                       if schedule.get(k)}}
            objects.append({"apiVersion": "velero.io/v1", "kind": "Schedule",
                            "metadata": {"name": f"{fullname}-{key}", "namespace": namespace, "labels": dict(labels)},
                            "spec": spec})
    if values.get("deployNodeAgent"):  # node-agent-daemonset.yaml
        image = values.get("image") or {}
        pod = {"metadata": {"labels": {"name": "node-agent", "role": "node-agent", **labels}},
               "spec": {"containers": [{"name": "node-agent", "image": f"{image.get('repository', 'velero/velero')}:"
                                                                     f"{image.get('tag', 'latest')}"}]}}
        objects.append({"apiVersion": "apps/v1", "kind": "DaemonSet",
                        "metadata": {"name": "node-agent", "namespace": namespace, "labels": dict(labels)},
                        "spec": {"selector": {"matchLabels": {"name": "node-agent"}}, "template": pod}})
    return objects


def _workload(kind: str, name: str, namespace: str, labels: dict[str, str], pod_spec: dict[str, Any],
              replicas: int, schedule: str = "@daily") -> dict[str, Any]:
    template = {"metadata": {"labels": dict(labels)}, "spec": pod_spec}
    meta = {"name": name, "namespace": namespace, "labels": dict(labels)}
    if kind == "CronJob":
        job_template = {"metadata": {"labels": dict(labels)},
                        "spec": {**pod_spec, "restartPolicy": "Never"}}
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid",
                         "jobTemplate": {"spec": {"template": job_template}}}}
    group = "apps/v1"
    return {"apiVersion": group, "kind": kind, "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": template}}


class RenderError(Exception):
    """A value the chart renders where the Kubernetes schema wants another type: Helm refuses the manifest."""


def _integer(value: Any, field: str, schema: str) -> int:
    """An integer field of a rendered object. Another value (a placeholder where the owner's cluster has a port
    number) fails the release as Helm's schema validation does (helm pkg/kube client.go Build, with kubectl's
    OpenAPI validation): 'unable to build kubernetes objects from release manifest: error validating "": error
    validating data: ValidationError(Service.spec.ports[0].port): invalid type for
    io.k8s.api.core.v1.ServicePort.port: got "string", expected "integer"'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        got = "string" if isinstance(value, str) else type(value).__name__
        raise RenderError(f'unable to build kubernetes objects from release manifest: error validating "": error '
                          f'validating data: ValidationError({field}): invalid type for {schema}: got "{got}", '
                          'expected "integer"') from None
