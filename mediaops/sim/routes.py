"""The rehearsal's Gateway, for HTTPRoutes: which rule of which route a request takes, and what its backends answer.

As kubernetes-sigs/gateway-api apis/v1/httproute_types.go defines it: a hostname ``*.example.com`` matches by
suffix (``test.example.com``, ``foo.test.example.com``, never ``example.com``); a rule without ``matches`` has
the default ``PathPrefix /``; a PathPrefix matches element by element (``/api`` matches ``/api`` and ``/api/x``,
never ``/apix``). Across every route whose hostnames match, precedence goes to the route with the most
characters in a matching non-wildcard hostname, then in a matching hostname (HTTPRouteSpec.Hostnames); then, across
their rules, to an Exact path match, then the longest PathPrefix (a RegularExpression after both: its precedence is
implementation-specific), then the oldest route, then ``namespace/name`` in alphabetical order, then the first
rule in list order (HTTPRouteRule). A request no rule matches is a 404; a rule whose backendRefs are all invalid
(none, another kind, a Service that does not exist) answers 500. A valid backend with no ready endpoint answers
503, as Envoy Gateway's "no healthy upstream". A regular expression Python cannot compile matches nothing.
"""

from __future__ import annotations

import re
from typing import Any

from mediaops.cluster.kinds import kind

DEFAULT_MATCH = {"path": {"type": "PathPrefix", "value": "/"}}


def host_matches(hostname: str, host: str) -> bool:
    if hostname.startswith("*."):
        return host.endswith(hostname[1:]) and len(host) > len(hostname) - 1
    return hostname == host


def _path_rank(match: Any, path: str) -> tuple[int, int] | None:
    """How a match takes ``path`` (Exact 2, PathPrefix 1 with its length, RegularExpression 0), or None."""
    wanted = (match.get("path") if isinstance(match, dict) else None) or DEFAULT_MATCH["path"]
    value, kind_name = str(wanted.get("value") or "/"), str(wanted.get("type") or "PathPrefix")
    if kind_name == "Exact":
        return (2, len(value)) if path == value else None
    if kind_name == "RegularExpression":
        try:
            return (0, 0) if re.fullmatch(value, path) is not None else None
        except re.error:  # RE2 syntax Python's re does not take
            return None
    prefix = value.rstrip("/")
    return (1, len(prefix)) if not prefix or path == prefix or path.startswith(prefix + "/") else None


def select(routes: list[dict[str, Any]], host: str, path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The route and rule a request for ``host`` and ``path`` takes, or None (a 404)."""
    ranked = []
    for route in routes:
        spec, meta = route.get("spec") or {}, route.get("metadata") or {}
        matching = [str(h) for h in spec.get("hostnames") or [] if host_matches(str(h), host)]
        if not matching:
            continue
        exact = max((len(h) for h in matching if not h.startswith("*.")), default=0)
        longest = max(len(h) for h in matching)
        for index, rule in enumerate([r for r in spec.get("rules") or [] if isinstance(r, dict)] or [{}]):
            taken = [rank for m in rule.get("matches") or [DEFAULT_MATCH] if (rank := _path_rank(m, path))]
            if taken:
                kind_rank, length = max(taken)
                ranked.append(((-exact, -longest, -kind_rank, -length, str(meta.get("creationTimestamp") or ""),
                                f"{meta.get('namespace')}/{meta.get('name')}", index), route, rule))
    if not ranked:
        return None
    _, route, rule = min(ranked, key=lambda item: item[0])
    return route, rule


def _app_answer(service: dict[str, Any], path: str) -> tuple[int, str]:
    """What the app behind a ready backend answers: 200, but Flux's notification-controller on its
    webhook-receiver Service answers 404 to a path no Receiver's ``status.webhookPath`` is (fluxcd/
    notification-controller internal/server/receiver_handlers.go handlePayload), and the rehearsal runs no
    Receiver that has one."""
    meta = service["metadata"]
    if (meta.get("namespace"), meta.get("name")) == ("flux-system", "webhook-receiver"):
        return 404, ""
    return 200, "OK\n"


def answer(store: Any, namespace: str, rule: dict[str, Any], path: str = "/") -> tuple[int, str]:
    """The status and body the gateway answers for a request for ``path`` the rule takes."""
    ready: dict[str, Any] | None = None
    valid = False
    for ref in rule.get("backendRefs") or []:
        if not isinstance(ref, dict) or (ref.get("kind") or "Service") != "Service" or ref.get("group"):
            continue  # another kind of backend: not one the rehearsal has
        service = store.peek(kind("Service"), str(ref.get("namespace") or namespace), str(ref.get("name", "")))
        if service is None:
            continue
        valid = True
        selector = ((service.get("spec") or {}).get("selector")) or {}
        if not selector:
            continue
        labels = ",".join(f"{k}={v}" for k, v in selector.items())
        pods, _ = store.select(kind("Pod"), service["metadata"]["namespace"], labels)
        if ready is None and any(c.get("type") == "Ready" and c.get("status") == "True"
                                 for p in pods if not p["metadata"].get("deletionTimestamp")
                                 for c in (p.get("status") or {}).get("conditions") or []):
            ready = service
    if not valid:
        return 500, "500 Internal Server Error\n"
    return _app_answer(ready, path) if ready is not None else (503, "no healthy upstream")
