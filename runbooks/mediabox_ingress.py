"""Mediabox ingress problems: the reference procedure, read-only, with what each look found in the journal.

Mediabox is only Ingresses in front of ExternalName Services pointing at a Docker host outside the cluster, so
when one of its hosts fails, the cluster looks healthy. The procedure (docs/runbooks.md of the reference
repository, "Mediabox Ingress Probleme"): the Ingresses' hosts, the host asked through the ingress, the ingress
controller's log lines for it, DNS for it and for the ExternalName targets, the certificate that covers it,
and HTTPRoutes where Gateway API is used: an app served by HTTPRoutes alone (the cluster template's layout) is
looked at through their hostnames and backends the same way. Nothing is changed; each step says what it found.
"""

from __future__ import annotations

from typing import Any

from mediaops.engine import CheckFailed, Concern, Live, Param, Runbook
from mediaops.engine.context import Context
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

runbook = Runbook(
    name="mediabox-ingress",
    summary="Find why a Mediabox host fails: hosts, ingress answer, controller logs, DNS, certificate, routes",
    params=[Param("app", "the app whose Ingresses to look at", required=False, default="mediabox",
                  complete="app", kind="name"),
            appsteps.NAMESPACE,
            Param("host", "only this host (default: every host of the app's Ingresses and HTTPRoutes)",
                  required=False)],
)
runbook.check("The app exists and is active")(appsteps.active)


def _probe(ctx: Context) -> Any:
    from mediaops.checks.probe import Probe

    return Probe(ctx.config, ctx.repo, clustersteps.kube(ctx))


def _hosts(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    """(host, path, Ingress or HTTPRoute) of the app's Ingresses and HTTPRoutes in the cluster, at the path Gatus
    asks (ingress_hosts: an Ingress's ``gatus.io/path``, a route's Gatus endpoint path or first rule's), only
    --host when given."""
    from mediaops.repo.apptemplate import route_path

    probe = _probe(ctx)
    wanted = ctx.params.get("host")
    found = []
    for ingress in probe.applied("Ingress", app_of(ctx)):
        path = str((ingress["metadata"].get("annotations") or {}).get("gatus.io/path") or "/")
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            if rule.get("host") and wanted in (None, "", rule["host"]):
                found.append((str(rule["host"]), path, ingress))
    for route in probe.applied("HTTPRoute", app_of(ctx)):
        spec = route.get("spec") or {}
        path = route_path({"annotations": route["metadata"].get("annotations") or {}, "rules": spec.get("rules")})
        found += [(str(h), path, route) for h in spec.get("hostnames") or [] if wanted in (None, "", h)]
    return found


@runbook.check("The app's Ingresses or HTTPRoutes name the host", needs_cluster=True)
def hosts_known(ctx: Context) -> str:
    hosts = _hosts(ctx)
    if not hosts:
        wanted = ctx.params.get("host")
        raise CheckFailed(f"no Ingress nor HTTPRoute of {ctx.facts['app']} names {wanted}" if wanted else
                          f"{ctx.facts['app']} has no Ingress nor HTTPRoute in the cluster")
    ctx.facts["hosts"] = sorted({h for h, _, _ in hosts})
    return ", ".join(ctx.facts["hosts"])


def _backends(obj: dict[str, Any], host: str) -> list[tuple[str, str]]:
    """(namespace, Service) each backend of the Ingress's rules for ``host``, or of the HTTPRoute's rules."""
    namespace, spec = obj["metadata"]["namespace"], obj.get("spec") or {}
    if obj.get("kind") == "HTTPRoute":
        return [(str(ref.get("namespace") or namespace), str(ref.get("name")))
                for rule in spec.get("rules") or [] if isinstance(rule, dict) for ref in rule.get("backendRefs") or []
                if isinstance(ref, dict) and (ref.get("kind") or "Service") == "Service" and ref.get("name")]
    return [(namespace, str(name)) for r in spec.get("rules") or [] if r.get("host") == host
            for p in (r.get("http") or {}).get("paths") or []
            if (name := ((p.get("backend") or {}).get("service") or {}).get("name"))]


@runbook.step(
    "The Ingresses and HTTPRoutes: hosts, classes or gateways, and backends",
    why="A host with a typo, an unsubstituted ${VAR}, or a backend Service that does not exist routes nowhere.",
    command="kubectl -n {ns} get ingress -o wide\n"
            "kubectl -n {ns} get httproute -o wide  # where Gateway API is installed",
    mutates=False, needs_cluster=True,
)
def ingresses(ctx: Context) -> str:
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in _probe(ctx).all_of("Service")}
    lines = []
    for host, _, obj in _hosts(ctx):
        label = f"{obj.get('kind', 'Ingress')} {obj['metadata']['name']}"
        if "${" in host:
            ctx.warn(f"{label}: host {host} still holds an unsubstituted variable")
        shown = []
        for namespace, backend in _backends(obj, host):
            service = services.get((namespace, backend))
            if service is None:
                ctx.warn(f"{label}: backend Service {backend} does not exist")
            elif (service.get("spec") or {}).get("type") == "ExternalName":
                backend = f"{backend} -> {service['spec'].get('externalName')}"
            shown.append(backend)
        spec = obj.get("spec") or {}
        where = (", ".join(f"gateway {p.get('name')}" for p in spec.get("parentRefs") or [] if isinstance(p, dict))
                 if obj.get("kind") == "HTTPRoute" else spec.get("ingressClassName") or "default class")
        lines.append(f"{host} ({where or 'no gateway'}: {', '.join(shown) or 'no backend'})")
    return "; ".join(lines)


@runbook.step(
    "Ask each host through the ingress",
    why="200 is up, 401 is up behind Authelia (or what a Gatus endpoint's conditions on the status say); a 502/503 "
        "with everything Ready points past the cluster.",
    command=Live(lambda ctx: "\n".join(_curl(ctx, host, path) for host, path, _ in _hosts(ctx)),
                 doc="curl -s -o /dev/null -w '%{{http_code}}' -H 'Host: HOST' https://HOST/  # each host"),
    mutates=False, needs_cluster=True,
)
def ask_hosts(ctx: Context) -> str:
    from mediaops import net
    from mediaops.repo.apptemplate import GATUS

    results = []
    for host, path, obj in _hosts(ctx):
        endpoint = str((obj["metadata"].get("annotations") or {}).get(GATUS) or "")
        answer = net.http_check(host, path, ctx.config.get("ingress_base_url"), expect=net.expected_status(endpoint))
        results.append(f"{host}: {answer.note}")
        if not answer.ok:
            ctx.warn(f"{host}{path} answered {answer.note}")
    return "; ".join(results)


def _curl(ctx: Context, host: str, path: str) -> str:
    from mediaops import net

    return net.http_check_command(host, path, ctx.config.get("ingress_base_url"))


def _controllers(ctx: Context) -> list[dict[str, Any]]:
    """The ingress controllers' Deployments (ingress-nginx, as the cluster template deploys it per class)."""
    probe = _probe(ctx)
    return [d for d in probe.all_of("Deployment")
            if "ingress-nginx" in d["metadata"]["name"]
            or (d["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "ingress-nginx"]


@runbook.step(
    "The ingress controller's log lines for the host",
    why="The controller logs every request with its status and upstream: an upstream timeout or 502 is the "
        "Mediabox side; no line at all means the request never reached the cluster (DNS, tunnel, firewall).",
    command=Live(lambda ctx: "\n".join(f"kubectl -n {d['metadata']['namespace']} logs deploy/{d['metadata']['name']} "
                                       f"--tail=500 | grep -e {' -e '.join(ctx.facts.get('hosts') or ['HOST'])}"
                                       for d in _controllers(ctx)) or "# no ingress-nginx controller found",
                 doc="kubectl -n network logs deploy/external-ingress-nginx --tail=500 | grep HOST"),
    mutates=False, needs_cluster=True,
)
def controller_logs(ctx: Context) -> str:
    from mediaops.cluster.workloads import logs

    controllers = _controllers(ctx)
    if not controllers:
        return Concern("no ingress-nginx controller Deployment in the cluster: look at your ingress controller's "
                       "logs by hand")
    found = []
    pods = _probe(ctx).all_of("Pod")
    for deployment in controllers:
        namespace = deployment["metadata"]["namespace"]
        selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        for pod in pods:
            labels = pod["metadata"].get("labels") or {}
            if pod["metadata"].get("namespace") != namespace or any(labels.get(k) != v for k, v in selector.items()):
                continue
            text = logs(clustersteps.kube(ctx), namespace, pod["metadata"]["name"], tail=500)
            for host in ctx.facts.get("hosts") or []:
                lines = [line for line in text.splitlines() if host in line]
                errors = [line for line in lines if any(f" {code} " in line for code in ("502", "503", "504"))]
                found.append(f"{host}: {len(lines)} line(s) in {pod['metadata']['name']}"
                             + (f", {len(errors)} with 502/503/504" if errors else ""))
                if errors:
                    ctx.warn(f"{host}: {errors[-1][:160]}")
    return "; ".join(found) or "no controller pod running"


@runbook.step(
    "DNS for the host and the ExternalName targets",
    why="The host must resolve for clients; each ExternalName target must resolve inside the cluster, else "
        "the ingress has nowhere to send the request.",
    command=Live(lambda ctx: "\n".join(_dig(ctx, name) for name in _names(ctx)),
                 doc="dig +short HOST\ndig +short TARGET  # each ExternalName target"),
    mutates=False, needs_cluster=True,
)
def dns(ctx: Context) -> str:
    from mediaops.checks.external_names import resolve

    results = []
    for name in _names(ctx):
        found, detail = resolve(name, str(ctx.config.get("dns_server") or ""))
        results.append(f"{name}: {detail}")
        if not found:
            ctx.warn(f"{name} does not resolve: {detail}")
    return "; ".join(results)


def _names(ctx: Context) -> list[str]:
    """The app's ExternalName targets, then the hosts (a host may well not resolve from where mediaops runs)."""
    targets = [str((s.get("spec") or {}).get("externalName")) for s in _probe(ctx).applied("Service", app_of(ctx))
               if (s.get("spec") or {}).get("type") == "ExternalName"]
    return list(dict.fromkeys(targets + list(ctx.facts.get("hosts") or [])))


def _dig(ctx: Context, name: str) -> str:
    from mediaops.checks.external_names import dig_command

    return dig_command(name, str(ctx.config.get("dns_server") or ""))


@runbook.step(
    "The certificate that covers the host",
    why="An expired or not Ready certificate makes browsers refuse the host while the ingress itself is fine.",
    command="kubectl get certificates -A -o wide",
    mutates=False, needs_cluster=True,
)
def certificates(ctx: Context) -> str:
    from fnmatch import fnmatch

    results = []
    for host in ctx.facts.get("hosts") or []:
        covering = [c for c in _probe(ctx).all_of("Certificate")
                    if any(fnmatch(host, name) and host.count(".") == name.count(".")
                           for name in (c.get("spec") or {}).get("dnsNames") or [])]
        if not covering:
            results.append(f"{host}: no Certificate in the cluster names it")
            continue
        for cert in covering:
            ready: dict[str, Any] = next(
                (c for c in (cert.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {})
            after = (cert.get("status") or {}).get("notAfter", "?")
            label = f"{cert['metadata']['namespace']}/{cert['metadata']['name']}"
            results.append(f"{host}: {label} Ready={ready.get('status', 'Unknown')}, until {after}")
            if ready.get("status") != "True":
                ctx.warn(f"certificate {label} for {host} is not Ready: {ready.get('message', 'no status')}")
    return "; ".join(results)


@runbook.step(
    "HTTPRoutes, where Gateway API is used",
    why="A route the Gateway did not accept, or whose backend it could not resolve, serves nothing.",
    command="kubectl -n {ns} get httproute",
    mutates=False, needs_cluster=True,
)
def routes(ctx: Context) -> str:
    found = []
    for route in _probe(ctx).applied("HTTPRoute", app_of(ctx)):
        for parent in (route.get("status") or {}).get("parents") or []:
            for cond in parent.get("conditions") or []:
                if cond.get("type") in ("Accepted", "ResolvedRefs") and cond.get("status") != "True":
                    ctx.warn(f"HTTPRoute {route['metadata']['name']}: {cond.get('type')}={cond.get('status')} "
                             f"({cond.get('reason')}: {cond.get('message')})")
        found.append(str(route["metadata"]["name"]))
    return f"HTTPRoutes: {', '.join(found)}" if found else "the app uses no HTTPRoute"
