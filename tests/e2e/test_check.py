"""`mediaops check` end to end: each check passes on a healthy rehearsal and fails on a state that should fail it.

Prometheus and Overseerr are stand-ins on 127.0.0.1 answering their real API shapes; the ingress, the NAS,
the resolver and the kubelet's stats are the rehearsal's own.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Mediaops, json_api, kubectl, read


def _check(ops: Mediaops, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = ops.run("check", *args, "--json")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)["results"]


def _status(results: list[dict[str, Any]], check: str, app: str) -> set[str]:
    return {r["status"] for r in results if r["check"] == check and r["app"] == app}


def test_a_healthy_stack_passes_and_a_broken_one_fails(sim: Mediaops) -> None:
    code, results = _check(sim)
    assert _status(results, "flux-ready", "media/tautulli") == {"ok"}
    assert _status(results, "ingress-hosts", "media/tautulli") == {"ok"}
    assert _status(results, "nfs-share", "media/calibre-web") == {"ok"}
    assert _status(results, "restarts", "media/tautulli") == {"ok"}
    # No backup has been made in the rehearsal: the RPO check fails, and so does the command.
    assert _status(results, "backups", "media/tautulli") == {"fail"} and code == 1
    ingress = next(r for r in results if r["check"] == "ingress-hosts" and r["app"] == "media/tautulli")
    assert ingress["command"].startswith("curl ") and "Host: tautulli." in ingress["command"]

    assert sim.run("sim", "fault", "nas-down").returncode == 0
    kubectl(sim, "scale", "deployment/tautulli", "-n", "media", "--replicas=0")
    kubectl(sim, "wait", "--for=delete", "pod", "-l", "app.kubernetes.io/name=tautulli", "-n", "media",
            "--timeout=30s")
    code, results = _check(sim, "--only", "nfs-share", "--only", "ingress-hosts")
    assert code == 1
    assert _status(results, "nfs-share", "media/calibre-web") == {"fail"}
    failed = [r for r in results if r["check"] == "ingress-hosts" and r["app"] == "media/tautulli"]
    assert {r["status"] for r in failed} == {"fail"} and "503" in failed[0]["message"]


def test_flux_ready_warns_on_suspended_and_fails_on_a_failed_release(sim: Mediaops) -> None:
    kubectl(sim, "patch", "kustomization", "tautulli", "-n", "media", "--type=merge", "-p",
            '{"spec":{"suspend":true}}')
    _, results = _check(sim, "tautulli", "--only", "flux-ready")
    assert "warn" in _status(results, "flux-ready", "media/tautulli")
    assert any("suspended" in r["message"] for r in results)
    kubectl(sim, "patch", "kustomization", "tautulli", "-n", "media", "--type=merge", "-p",
            '{"spec":{"suspend":false}}')
    assert sim.run("sim", "fault", "reconcile-fail", "Kustomization/media/calibre-web=apply failed: boom")\
        .returncode == 0
    assert sim.run("run", "reconcile", "calibre-web", "--yes", "--force").returncode == 1
    code, results = _check(sim, "calibre-web", "--only", "flux-ready", "--failed")
    assert code == 1 and [r["status"] for r in results] == ["fail"] and "boom" in results[0]["message"]


def test_backups_pass_once_a_backup_holds_the_data(sim: Mediaops) -> None:
    run = sim.run("run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    assert run.returncode == 0, run.stdout[-2000:]
    code, results = _check(sim, "tautulli", "--only", "backups")
    (result,) = results
    assert result["status"] == "ok" and "data of tautulli" in result["message"] and code == 0, result
    rpo = sim.run("check", "tautulli", "--only", "backups", "--json", input=None)
    assert rpo.returncode == 0
    sim.env["MEDIAOPS_BACKUP_RPO_HOURS"] = "1"
    assert _check(sim, "tautulli", "--only", "backups")[1][0]["status"] == "ok"  # minutes old, within an hour


def test_prometheus_and_overseerr_through_their_apis(sim: Mediaops) -> None:
    code, results = _check(sim, "--only", "prometheus-scrape")
    assert results == [] and code == 0  # no active app has a ServiceMonitor yet
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    _, results = _check(sim, "plex-exporter", "--only", "prometheus-scrape")
    assert [r["status"] for r in results] == ["unknown"] and "prometheus_url" in results[0]["message"]
    up = {"1": "1"}

    def query(params: dict[str, list[str]]) -> dict[str, Any]:
        assert params["query"] == ['up{namespace="media", service="plex-exporter"}']
        return {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"instance": "10.42.0.9:9000", "service": "plex-exporter"}, "value": [0, up["1"]]}]}}

    with json_api({"/api/v1/query": query}) as prometheus:
        sim.env["MEDIAOPS_PROMETHEUS_URL"] = prometheus
        code, results = _check(sim, "plex-exporter", "--only", "prometheus-scrape")
        assert [r["status"] for r in results] == ["ok"] and code == 0
        up["1"] = "0"
        code, results = _check(sim, "plex-exporter", "--only", "prometheus-scrape")
        assert [r["status"] for r in results] == ["fail"] and "10.42.0.9:9000" in results[0]["message"]
        assert code == 1
    assert sim.run("run", "activate", "overseerr", "--yes").returncode == 0
    with json_api({"/api/v1/status": {"version": "1.34.0", "commitTag": "v1.34.0", "updateAvailable": False}}) as api:
        sim.env["MEDIAOPS_OVERSEERR_URL"] = api
        _, results = _check(sim, "overseerr", "--only", "overseerr-status")
        assert [(r["status"], r["message"]) for r in results] == [("ok", "version 1.34.0")]
    _, results = _check(sim, "overseerr", "--only", "overseerr-status")  # the stand-in is gone
    assert [r["status"] for r in results] == ["fail"]


def test_bad_input_is_one_line_and_the_table_fits_a_pipe(sim: Mediaops) -> None:
    wrong = sim.run("check", "--only", "pvc-full")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "no check 'pvc-full'" in wrong.stderr
    disabled = sim.run("check", "overseerr")
    assert disabled.returncode == 2 and "is disabled" in disabled.stderr
    sim.env["COLUMNS"] = "80"
    table = sim.run("check", "tautulli")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["APP", "CHECK", "STATUS", "MESSAGE"] and all(len(line) <= 80 for line in lines)
    assert "\x1b[" not in table.stdout


def test_external_names_resolve_through_the_configured_resolver(sim: Mediaops) -> None:
    # The background rehearsal's resolver (its state file names it) answers Mediabox's targets.
    code, results = _check(sim, "mediabox", "--only", "external-names")
    assert {r["status"] for r in results} == {"ok"} and len(results) == 3 and code == 0
    assert all(r["command"].startswith("dig +short @127.0.0.1 -p ") for r in results)
    assert sim.run("sim", "fault", "dns-nxdomain", "radarr.mediabox.example.test").returncode == 0
    code, results = _check(sim, "mediabox", "--only", "external-names", "--failed")
    assert code == 1 and [(r["status"], "radarr" in r["message"], "NXDOMAIN" in r["message"]) for r in results] \
        == [("fail", True, True)]


def test_pvc_usage_reads_the_kubelets_stats_through_the_node_proxy(sim: Mediaops) -> None:
    code, results = _check(sim, "tautulli", "--only", "pvc-usage")
    (result,) = results
    assert result["status"] == "ok" and "% used" in result["message"] and code == 0
    node = result["command"].split("/nodes/")[1].split("/")[0]
    claim = result["message"].split(":")[0]
    raw = kubectl(sim, "get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary")  # the command it shows
    assert raw.returncode == 0 and f'"name": "{claim}"' in raw.stdout.replace('":"', '": "')
    assert sim.run("sim", "fault", "pvc-usage", f"media/{claim}=85").returncode == 0
    assert _check(sim, "tautulli", "--only", "pvc-usage")[1][0]["status"] == "warn"
    assert sim.run("sim", "fault", "pvc-usage", f"media/{claim}=97").returncode == 0
    code, results = _check(sim, "tautulli", "--only", "pvc-usage")
    assert (code, results[0]["status"], results[0]["message"].split(":")[1].split("(")[0].strip()) == \
        (1, "fail", "97 % used")


def test_restarts_and_git_sync_fail_on_a_crashing_sidecar_and_pass_without(sim: Mediaops) -> None:
    code, results = _check(sim, "tautulli", "--only", "git-sync", "--only", "restarts")
    assert _status(results, "git-sync", "media/tautulli") == {"ok"} and code == 0
    assert _status(results, "restarts", "media/tautulli") == {"ok"}
    assert sim.run("sim", "fault", "git-sync-fail", "media/tautulli").returncode == 0
    code, results = _check(sim, "tautulli", "--only", "git-sync")
    (failed,) = results
    assert code == 1 and failed["status"] == "fail" and "error line(s)" in failed["message"], failed
    assert failed["command"].startswith("kubectl logs ") and "-c jbops" in failed["command"]  # the sidecar's name
    assert sim.run("sim", "fault", "crashloop", "media/calibre-web").returncode == 0
    code, results = _check(sim, "calibre-web", "--only", "restarts")
    assert code == 1 and _status(results, "restarts", "media/calibre-web") == {"fail"}
    assert "CrashLoopBackOff" in results[0]["message"]


def test_cronjobs_pass_on_a_successful_run_and_fail_on_a_failed_one(sim: Mediaops) -> None:
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    _, results = _check(sim, "plex-trakt-sync", "--only", "cronjobs")
    assert [r["status"] for r in results] == ["unknown"] and "no finished run yet" in results[0]["message"]
    cronjob = read(sim, "get", "cronjobs", "-n", "media", "-o", "json")["items"][0]
    name = cronjob["metadata"]["name"]
    assert kubectl(sim, "create", "job", "--from", f"cronjob/{name}", "first-run", "-n", "media").returncode == 0
    assert kubectl(sim, "wait", "--for=condition=Complete", "job/first-run", "-n", "media",
                   "--timeout=60s").returncode == 0
    code, results = _check(sim, "plex-trakt-sync", "--only", "cronjobs")
    assert code == 0 and [r["status"] for r in results] == ["ok"] and "first-run succeeded" in results[0]["message"]
    assert sim.run("sim", "fault", "job-fail", f"media/{name}").returncode == 0
    assert kubectl(sim, "create", "job", "--from", f"cronjob/{name}", "second-run", "-n", "media").returncode == 0
    assert kubectl(sim, "wait", "--for=condition=Failed", "job/second-run", "-n", "media",
                   "--timeout=60s").returncode == 0
    code, results = _check(sim, "plex-trakt-sync", "--only", "cronjobs")
    assert code == 1 and results[0]["status"] == "fail" and "second-run, failed" in results[0]["message"]
