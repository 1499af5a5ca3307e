"""The layouts of real home-ops repositories (tests/fixtures/layouts) through the CLI: inventory, checks, previews and
the rehearsal's status (the rehearsal built from them in-process: tests/unit/test_layouts.py)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Mediaops


def _app(ops: Mediaops, name: str) -> dict[str, Any]:
    result = ops.run("app", name, "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_every_layout_is_read(lay: Mediaops) -> None:
    result = lay.run("apps", "--json")
    assert result.returncode == 0, result.stderr
    states = {a["name"]: a for a in json.loads(result.stdout)}
    assert {n: a["state"] for n, a in states.items()} == {
        "bazarr": "disabled", "radarr": "active", "scripts": "active", "sonarr": "disabled",
        "echo": "active", "gateway": "active", "alerts": "active", "flux-webhook": "active"}  # notes/ is not an app
    assert "taken as disabled" in states["sonarr"]["notes"][0]
    # the namespace kustomization's namespace: replaces the objects' own; network keeps flux-system
    assert [(k["namespace"], k["name"]) for k in states["radarr"]["kustomizations"]] == [
        ("media", "radarr"), ("media", "radarr-config")]
    assert states["echo"]["kustomizations"][0]["namespace"] == "flux-system"


def test_what_an_app_deploys_is_read_as_flux_and_helm_render_it(lay: Mediaops) -> None:
    radarr = _app(lay, "radarr")
    release = radarr["helmreleases"][0]
    assert (release["chart"], release["version"], release["chart_ref"]) == (
        "app-template", "4.1.0", "OCIRepository/media/radarr")
    assert release["source_file"] == "kubernetes/apps/media/radarr/app/ocirepository.yaml"
    image = radarr["controllers"][0]["containers"][0]
    assert (image["image"], image["tag"]) == ("ghcr.io/home-operations/radarr", "6.0.4.10291")
    assert image["digest"].startswith("sha256:4f1d8888")
    # the PVC comes from a Flux component, named by postBuild.substitute, sized by its override
    assert [(v["name"], v["size"]) for v in radarr["volumes"]] == [("radarr", "5Gi")]
    assert radarr["claims"] == ["radarr"]  # existingClaim "{{ .Release.Name }}"
    assert radarr["secrets"] == ["radarr-secret"]  # "{{ .Release.Name }}-secret", rendered
    assert [(n["name"], n["mount_paths"]) for n in radarr["nfs"]] == [("media", ["/media/movies"])]  # advancedMounts
    route = radarr["ingresses"][0]
    assert (route["kind"], route["hosts"], route["class_name"], route["path"]) == (
        "HTTPRoute", ["radarr.${SECRET_DOMAIN}"], "envoy-internal", "/ping")
    assert radarr["unsubstituted"] == ["QUALITY_PROFILE"]  # radarr-config is labelled out of substitution

    echo = _app(lay, "echo")
    assert (echo["helmreleases"][0]["chart"], echo["helmreleases"][0]["version"]) == ("http-https-echo", "1.2.0")
    assert echo["service_monitors"] == ["echo"]  # serviceMonitor.enabled of another chart, not a monitor "enabled"
    assert sorted((i["name"], tuple(i["hosts"]), i["path"]) for i in echo["ingresses"]) == [
        ("echo", ("echo.internal.test",), "/"), ("echo-external", ("echo.example.test",), "/healthz")]
    assert echo["controllers"][0]["containers"][0]["image"] == "docker.io/mendhak/http-https-echo"
    assert echo["variables"] == [] and echo["unsubstituted"] == ["GREETING"]

    sonarr = _app(lay, "sonarr")
    assert sonarr["helmreleases"][0]["chart_ref"] == "OCIRepository/flux-system/app-template"
    assert sonarr["helmreleases"][0]["version"] == "4.1.0" and sonarr["controllers"][0]["type"] == "statefulset"
    bazarr = _app(lay, "bazarr")
    assert bazarr["ingresses"][0]["hosts"] == ["bazarr.${SECRET_DOMAIN}"]
    scripts = _app(lay, "scripts")
    assert "API_KEY" not in scripts["variables"] and "TIMEZONE" in scripts["variables"]  # $${API_KEY}: escaped


def test_check_finds_nothing_false_in_a_correct_repository(lay: Mediaops) -> None:
    result = lay.run("apps", "--check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "no problems found"
    graph = lay.run("graph")
    assert graph.returncode == 0 and "media/radarr-config" in graph.stdout


def test_runbooks_preview_on_the_layouts(lay: Mediaops) -> None:
    preview = lay.run("run", "activate", "sonarr", "--dry-run", "--no-push")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "+  - ./sonarr/ks.yaml" in preview.stdout  # listed again, after the sorted entries
    upgrade = lay.run("run", "backup-before-upgrade", "radarr", "--chart-version", "4.2.0", "--dry-run")
    assert upgrade.returncode == 0, upgrade.stdout
    assert "ocirepository.yaml" in upgrade.stdout and "+    tag: 4.2.0" in upgrade.stdout
    # radarr's release is in helm-release.yaml (tyriis/home-ops's name for it): its inline values hold the tag
    image = lay.run("run", "backup-before-upgrade", "radarr", "--image-tag", "6.0.5", "--dry-run")
    assert image.returncode == 0, image.stdout
    assert "+++ b/kubernetes/apps/media/radarr/app/helm-release.yaml" in image.stdout
    assert "+              tag: 6.0.5" in image.stdout


def test_sim_status_on_the_layouts(lay: Mediaops) -> None:
    result = lay.run("--sim", "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["app"]: r for r in json.loads(result.stdout)}
    assert {n for n, r in rows.items() if r["kustomization"] == "Ready"} == {
        "radarr", "scripts", "echo", "gateway", "alerts", "flux-webhook"}
    assert "warning" not in result.stderr


def test_sim_routes_httproutes_as_a_gateway_would(lay: Mediaops) -> None:
    """Through the rehearsal's ingress, as through a Gateway: flux-webhook's route to Flux's webhook-receiver
    Service (404 without a Receiver's digest, as its Gatus conditions expect); echo's plain HTTPRoute, to the
    Service of echo's chart, asked at its rule's path; radarr's app-template ``route`` (rendered by its
    HelmRelease, to its one Service, asked at the path its Gatus annotation names): 503, no healthy upstream,
    as its pod waits for radarr-secret (a vault item the rehearsal does not hold)."""
    result = lay.run("--sim", "check", "--only", "ingress-hosts", "--json")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    found = {(r["app"], r["message"]): r["status"] for r in json.loads(result.stdout)["results"]}
    assert found == {("network/echo", "echo.example.test/healthz: 200 OK"): "ok",
                     ("media/radarr", "radarr.example.test/ping: HTTP 503 (not as its Gatus conditions expect: "
                                      "[STATUS] == 200)"): "fail",
                     # Flux's receiver answers 404 without a Receiver's digest, which its Gatus conditions expect
                     ("flux-system/flux-webhook", "flux-webhook.example.test/hook/: HTTP 404 (as its Gatus "
                      "conditions expect: [STATUS] == 404)"): "ok"}, found


def test_mediabox_ingress_looks_at_an_app_served_by_httproutes_alone(lay: Mediaops) -> None:
    """flux-webhook has no Ingress, only an HTTPRoute to Flux's webhook-receiver: its host, gateway and backend
    are found, and its answer (404) is what its Gatus conditions expect, so nothing is flagged."""
    result = lay.run("--sim", "run", "mediabox-ingress", "--app", "flux-webhook", "--yes", "--json")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    checks = {e["title"]: e.get("detail", "") for e in events if e["event"] == "check"}
    assert checks["The app's Ingresses or HTTPRoutes name the host"] == "flux-webhook.example.test"
    summaries = {e["title"]: e.get("summary", "") for e in events if e["event"] == "step_end"}
    assert summaries["The Ingresses and HTTPRoutes: hosts, classes or gateways, and backends"] == \
        "flux-webhook.example.test (gateway envoy-external: webhook-receiver)"
    assert summaries["Ask each host through the ingress"] == \
        "flux-webhook.example.test: HTTP 404 (as its Gatus conditions expect: [STATUS] == 404)"
    assert not [e for e in events if e["event"] == "warning"]
