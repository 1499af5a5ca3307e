"""Does every host of the app answer, as a Gatus or blackbox check would ask it?

Each host of the app's Ingresses and HTTPRoutes in the cluster (those its Kustomizations and HelmReleases
applied) is asked over HTTP(S) at the path Gatus checks (an Ingress's `gatus.io/path` annotation; a route's
`gatus.home-operations.com/endpoint` path, else its first rule's path match; else `/`): 200 is
ok, 401 is ok behind auth (Authelia answers 401 to an anonymous request), anything else or no answer fails;
where the Gatus endpoint annotation has conditions on `[STATUS]` (Flux's webhook route: `[STATUS] == 404`,
what its receiver answers a request without a known hook), those decide, as Gatus decides.

The request goes to `ingress_base_url` with the host in the Host header when that setting is set (the ingress
controller's address, a port-forward), else to `https://HOST/`. By hand: the `curl` line each result shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mediaops.checks import FAIL, OK, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def hosts(probe: Probe, app: App) -> list[tuple[str, str, str]]:
    """(host, path, the Gatus endpoint annotation) of each host the app's Ingresses and HTTPRoutes serve."""
    from mediaops.repo.apptemplate import GATUS, route_path

    found: list[tuple[str, str, str]] = []
    for ingress in probe.applied("Ingress", app):
        annotations = ingress["metadata"].get("annotations") or {}
        path = str(annotations.get("gatus.io/path") or "/")
        found += [(str(r["host"]), path, str(annotations.get(GATUS) or ""))
                  for r in (ingress.get("spec") or {}).get("rules") or [] if r.get("host")]
    route: dict[str, Any]
    for route in probe.applied("HTTPRoute", app):
        spec, annotations = route.get("spec") or {}, route["metadata"].get("annotations") or {}
        path = route_path({"annotations": annotations, "rules": spec.get("rules")})
        found += [(str(h), path, str(annotations.get(GATUS) or "")) for h in spec.get("hostnames") or []]
    return list(dict.fromkeys(found))


def run(probe: Probe, app: App) -> Iterator[Result]:
    from mediaops import net

    where = f"{app.namespace}/{app.name}"
    base = probe.setting("ingress_base_url") or None
    for host, path, endpoint in hosts(probe, app):
        answer = net.http_check(host, path, base, expect=net.expected_status(endpoint))
        yield Result("ingress-hosts", where, OK if answer.ok else FAIL, f"{host}{path}: {answer.note}",
                     net.http_check_command(host, path, base))


CHECK = Check("ingress-hosts", "Every Ingress and HTTPRoute host of the app answers (200, or 401 behind auth)",
              applies=lambda app: app.state == ACTIVE and bool(app.ingresses), run=run)
