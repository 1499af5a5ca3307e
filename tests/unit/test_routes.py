"""The rehearsal's Gateway (mediaops/sim/routes.py) and app-template's ``route`` (charts._routes), against the rules
of gateway-api's httproute_types.go and bjw-s's common library."""

from __future__ import annotations

from typing import Any

from mediaops.cluster.kinds import kind
from mediaops.sim import charts, routes
from mediaops.sim.store import Store

APP = {"controllers": {"main": {"containers": {"app": {"image": {"repository": "r", "tag": "1"}}}}}}


def _route(values: dict[str, Any], release: str = "plex") -> list[dict[str, Any]]:
    return [o for o in charts.render(release, "media", "app-template", {**APP, **values}) if o["kind"] == "HTTPRoute"]


def test_a_route_without_rules_goes_to_the_one_service_at_its_primary_port() -> None:
    (route,) = _route({"service": {"app": {"ports": {"http": {"port": 32400}, "dlna": {"port": 1900}}}},
                       "route": {"app": {"hostnames": ["{{ .Release.Name }}.example.test"],
                                         "parentRefs": [{"name": "internal", "namespace": "network"}]}}})
    assert route["metadata"]["name"] == "plex" and route["spec"]["hostnames"] == ["plex.example.test"]
    (rule,) = route["spec"]["rules"]
    # no port marked primary: the first by name (dlna before http), as lib/service/_primary_port.tpl sorts
    assert rule["backendRefs"] == [{"group": "", "kind": "Service", "name": "plex", "namespace": "media",
                                    "port": 1900, "weight": 1}]


def test_several_routes_are_named_by_identifier_and_a_port_name_is_resolved() -> None:
    found = _route({"service": {"app": {"ports": {"http": {"port": 8080}, "api": {"port": 9090, "primary": True}}}},
                    "route": {"app": {"hostnames": ["a.test"]},
                              "api": {"hostnames": ["b.test"], "rules": [{"backendRefs": [{"port": "http"}]}]},
                              "off": {"enabled": False, "hostnames": ["c.test"]}}})
    # two enabled routes: each named <release>-<identifier> (lib/common/_determineResourceNameFromValues.tpl)
    assert {r["metadata"]["name"]: r["spec"]["rules"][0]["backendRefs"][0]["port"] for r in found} == {
        "plex-app": 9090, "plex-api": 8080}


def test_a_tcp_route_is_v1alpha2_without_hostnames_or_matches() -> None:
    (route,) = [o for o in charts.render("syslog", "media", "app-template", {**APP, "service": {"app": {"ports": {
        "syslog": {"port": 514}}}}, "route": {"app": {"kind": "TCPRoute", "hostnames": ["x.test"], "rules": [
            {"backendRefs": [{}], "matches": [{"path": {"value": "/"}}]}]}}}) if o["kind"] == "TCPRoute"]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1alpha2" and "hostnames" not in route["spec"]
    assert route["spec"]["rules"] == [{"backendRefs": [{"group": "", "kind": "Service", "name": "syslog",
                                                        "namespace": "media", "port": 514, "weight": 1}]}]


def test_with_two_services_a_route_names_its_backend() -> None:
    services = {"app": {"ports": {"http": {"port": 80}}}, "hub": {"ports": {"http": {"port": 81}}}}
    (route,) = _route({"service": services, "route": {"app": {"hostnames": ["x.test"],
                                                              "rules": [{"backendRefs": [{"identifier": "hub"}]}]}}})
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "plex-hub"
    (unruled,) = _route({"service": services, "route": {"app": {"hostnames": ["y.test"]}}})
    assert unruled["spec"]["rules"] == []  # no Service to pick: no rule made up


def _http_route(name: str, hostnames: list[str], rules: list[dict[str, Any]], created: str = "2026-01-01T00:00:00Z",
                namespace: str = "media") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "creationTimestamp": created},
            "spec": {"hostnames": hostnames, "rules": rules}}


def _rule(name: str, kind_name: str, value: str) -> dict[str, Any]:
    return {"name": name, "matches": [{"path": {"type": kind_name, "value": value}}]}


def test_hostnames_and_paths_match_as_the_gateway_api_says() -> None:
    assert routes.host_matches("*.example.com", "foo.test.example.com")
    assert not routes.host_matches("*.example.com", "example.com")
    assert routes.host_matches("plex.example.com", "plex.example.com")
    rules = [_rule("root", "PathPrefix", "/"), _rule("api", "PathPrefix", "/api"), _rule("ping", "Exact", "/ping"),
             _rule("pingish", "PathPrefix", "/ping"), _rule("re", "RegularExpression", "/v1(?i)/health")]
    route = _http_route("app", ["app.test"], rules)

    def taken(path: str) -> str | None:
        found = routes.select([route], "app.test", path)
        return found[1]["name"] if found else None

    # the longest prefix, not the first rule; Exact over a prefix of the same path; element-wise prefixes
    assert (taken("/api/v1"), taken("/apix"), taken("/ping"), taken("/ping/x")) == ("api", "root", "ping", "pingish")
    assert taken("/v1/health") == "root"  # RE2's inline flag mid-pattern: Python cannot compile it, no match
    assert routes.select([_http_route("bare", ["app.test"], [])], "app.test", "/x") is not None  # default /
    assert routes.select([route], "other.test", "/") is None


def test_across_routes_the_most_specific_hostname_then_path_then_age_wins() -> None:
    wildcard = _http_route("wild", ["*.example.test"], [_rule("w", "PathPrefix", "/healthz")], namespace="a")
    exact = _http_route("echo", ["echo.example.test"], [_rule("e", "PathPrefix", "/")], namespace="z")
    # the exact hostname wins though the wildcard's path is longer and its namespace sorts first
    assert routes.select([wildcard, exact], "echo.example.test", "/healthz")[1]["name"] == "e"  # type: ignore[index]
    docs = _http_route("echo-a-docs", ["echo.example.test"], [_rule("d", "PathPrefix", "/docs")])
    health = _http_route("echo-b", ["echo.example.test"], [_rule("h", "PathPrefix", "/healthz")])
    # a second route for the host: its rules do not hide the first one's
    assert routes.select([docs, health], "echo.example.test", "/healthz")[1]["name"] == "h"  # type: ignore[index]
    older = _http_route("zzz", ["echo.example.test"], [_rule("old", "PathPrefix", "/")], created="2025-01-01T00:00:00Z")
    newer = _http_route("aaa", ["echo.example.test"], [_rule("new", "PathPrefix", "/")])
    assert routes.select([newer, older], "echo.example.test", "/")[1]["name"] == "old"  # type: ignore[index]


def test_backends_answer_200_503_or_500() -> None:
    store = Store()
    store.create(kind("Namespace"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "media"}})
    labels = {"app.kubernetes.io/name": "plex"}
    store.create(kind("Service"), {"apiVersion": "v1", "kind": "Service",
                                   "metadata": {"name": "plex", "namespace": "media"},
                                   "spec": {"selector": labels, "ports": [{"port": 80}]}})
    rule = {"backendRefs": [{"name": "plex", "port": 80}]}
    assert routes.answer(store, "media", rule)[0] == 503  # no pod: no healthy upstream
    store.create(kind("Pod"), {"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "plex-0", "namespace": "media", "labels": labels},
                               "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert routes.answer(store, "media", rule)[0] == 200
    assert routes.answer(store, "media", {"backendRefs": [{"name": "gone", "port": 80}]})[0] == 500
    assert routes.answer(store, "media", {"backendRefs": []})[0] == 500
