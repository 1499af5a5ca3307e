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


def test_with_two_services_a_route_names_its_backend() -> None:
    services = {"app": {"ports": {"http": {"port": 80}}}, "hub": {"ports": {"http": {"port": 81}}}}
    (route,) = _route({"service": services, "route": {"app": {"hostnames": ["x.test"],
                                                              "rules": [{"backendRefs": [{"identifier": "hub"}]}]}}})
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "plex-hub"
    (unruled,) = _route({"service": services, "route": {"app": {"hostnames": ["y.test"]}}})
    assert unruled["spec"]["rules"] == []  # no Service to pick: no rule made up


def test_hostnames_and_paths_match_as_the_gateway_api_says() -> None:
    assert routes.host_matches("*.example.com", "foo.test.example.com")
    assert not routes.host_matches("*.example.com", "example.com")
    assert routes.host_matches("plex.example.com", "plex.example.com")
    rules = [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "name": "api"},
             {"matches": [{"path": {"type": "Exact", "value": "/ping"}}], "name": "ping"}]
    assert routes.rule_for(rules, "/api/v1")["name"] == "api"  # type: ignore[index]
    assert routes.rule_for(rules, "/apix") is None and routes.rule_for(rules, "/ping/x") is None
    assert routes.rule_for([], "/anything") == {}  # no rules: the default PathPrefix /


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
