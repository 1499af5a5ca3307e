"""mediabox-ingress end to end: read-only, each look's findings in the journal and the report."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import KUBECTL, Mediaops


def _events(ops: Mediaops, *args: str) -> tuple[int, list[dict]]:
    result = ops.run("run", "mediabox-ingress", *args, "--yes", "--json")
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_it_looks_at_every_host_and_changes_nothing(sim: Mediaops) -> None:
    image = "registry.k8s.io/ingress-nginx/controller"
    controller = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "external-ingress-nginx", "namespace": "network",
                               "labels": {"app.kubernetes.io/name": "ingress-nginx"}},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                           "template": {"metadata": {"labels": {"app.kubernetes.io/name": "ingress-nginx"}},
                                        "spec": {"containers": [{"name": "controller", "image": image}]}}}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(controller), env=sim.env, text=True,
                          capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert subprocess.run([KUBECTL, "rollout", "status", "deployment/external-ingress-nginx", "-n", "network",
                           "--timeout=60s"], env=sim.env, capture_output=True, timeout=90).returncode == 0
    assert sim.run("sim", "fault", "dns-nxdomain", "radarr.mediabox.example.test").returncode == 0
    code, events = _events(sim)
    assert code == 0
    ends = {e["title"]: e for e in events if e["event"] == "step_end"}
    assert all(e["outcome"] == "done" for e in ends.values()) and len(ends) == 6
    assert "radarr.example.test: 401 behind auth (up)" in ends["Ask each host through the ingress"]["summary"]
    assert "line(s) in external-ingress-nginx-" in ends["The ingress controller's log lines for the host"]["summary"]
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert any(w.startswith("radarr.mediabox.example.test does not resolve: NXDOMAIN") for w in warnings)
    assert not any(w.startswith("sonarr.mediabox.example.test does not resolve") for w in warnings)
    plans = {e["title"]: e["command"] for e in events if e["event"] == "step_plan"}
    assert "logs deploy/external-ingress-nginx --tail=500 | grep -e bazarr.example.test" in \
        plans["The ingress controller's log lines for the host"]
    report = sim.run("runs", "show", "last", "--markdown").stdout
    assert "NXDOMAIN" in report and "mediabox-ingress" in report
    one = _events(sim, "--host", "sonarr.example.test")[1]
    assert [e["summary"] for e in one if e["event"] == "step_end" and e["title"].startswith("Ask")] == \
        ["sonarr.example.test: 401 behind auth (up)"]
    unknown = sim.run("run", "mediabox-ingress", "--host", "nope.example.test", "--yes")
    assert unknown.returncode == 3 and "no Ingress nor HTTPRoute of mediabox names nope.example.test" in unknown.stdout
