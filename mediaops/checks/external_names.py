"""Does every ExternalName target of the app resolve?

A Service of type ExternalName is a DNS CNAME (kubernetes.io: "Service type ExternalName"): when its
`spec.externalName` does not resolve, whatever the Ingress in front of it routes there fails with a 502 or
503, while everything in the cluster looks healthy. Mediabox is made of them. Each target is looked up (A and
AAAA) with the resolver of the `dns_server` setting (HOST[:PORT]), else the system's: an address is ok,
NXDOMAIN or no answer fails.

By hand: `dig +short TARGET` (the line each result shows, with `@SERVER -p PORT` when a resolver is set).
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def resolve(name: str, server: str) -> tuple[bool, str]:
    """(resolved, what was found or why not) for one host name, with dnspython."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=not server)
    if server:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "53")
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.lifetime = 3.0
    try:
        answer = resolver.resolve(name, "A", search=False)
        return True, ", ".join(sorted(r.to_text() for r in answer))
    except dns.resolver.NXDOMAIN:
        return False, "NXDOMAIN (no such name)"
    except dns.resolver.NoAnswer:
        try:
            answer = resolver.resolve(name, "AAAA", search=False)
            return True, ", ".join(sorted(r.to_text() for r in answer))
        except dns.exception.DNSException as exc:
            return False, f"no address ({type(exc).__name__})"
    except dns.exception.Timeout:
        return False, f"no answer from the resolver{' ' + server if server else ''}"
    except dns.exception.DNSException as exc:
        return False, f"{type(exc).__name__}: {exc}"


def dig_command(name: str, server: str) -> str:
    if not server:
        return f"dig +short {name}"
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    return f"dig +short @{host} {'-p ' + port + ' ' if port else ''}{name}"


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    server = probe.setting("dns_server")
    for service in probe.applied("Service", app):
        spec = service.get("spec") or {}
        if spec.get("type") != "ExternalName" or not spec.get("externalName"):
            continue
        target = str(spec["externalName"])
        found, detail = resolve(target, server)
        yield Result("external-names", where, OK if found else FAIL,
                     f"Service {service['metadata']['name']} -> {target}: {detail}", dig_command(target, server))


CHECK = Check("external-names", "Every ExternalName Service's target resolves",
              applies=lambda app: app.state == ACTIVE and bool(app.external_names), run=run)
