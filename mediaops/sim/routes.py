"""The rehearsal's Gateway, for HTTPRoutes: which rule of a route a request takes, and what its backends answer.

As kubernetes-sigs/gateway-api apis/v1/httproute_types.go defines it: a hostname ``*.example.com`` matches by
suffix (``test.example.com``, ``foo.test.example.com``, never ``example.com``); a rule without ``matches`` has
the default ``PathPrefix /``; a PathPrefix matches element by element (``/api`` matches ``/api`` and ``/api/x``,
never ``/apix``); a request no rule matches is a 404; a rule whose backendRefs are all invalid (none, another kind,
a Service that does not exist) answers 500. A valid backend with no ready endpoint answers 503, as Envoy Gateway's
"no healthy upstream".
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


def _path_matches(match: dict[str, Any], path: str) -> bool:
    wanted = (match.get("path") if isinstance(match, dict) else None) or DEFAULT_MATCH["path"]
    value, kind_name = str(wanted.get("value") or "/"), str(wanted.get("type") or "PathPrefix")
    if kind_name == "Exact":
        return path == value
    if kind_name == "RegularExpression":
        return re.fullmatch(value, path) is not None
    prefix = value.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def rule_for(rules: list[Any], path: str) -> dict[str, Any] | None:
    """The rule a request for ``path`` takes (the first whose matches take it: a simplification of the spec's
    precedence, enough for a route's own rules), or None."""
    for rule in [r for r in rules if isinstance(r, dict)] or [{}]:
        if any(_path_matches(m, path) for m in rule.get("matches") or [DEFAULT_MATCH]):
            return rule
    return None


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
