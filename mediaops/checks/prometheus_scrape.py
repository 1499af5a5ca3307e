"""Does Prometheus scrape the app?

An app with a ServiceMonitor must show up as a target that is up: `up{namespace="NS", service="APP"}` is 1.
Missing or 0 fails: no metrics and no alerts (the manual step after activating plex-exporter, automated). It
asks Prometheus's HTTP API (`/api/v1/query`, prometheus/prometheus web/api/v1) at the `prometheus_url`
setting; without it the check is unknown.

By hand: the `curl` line each result shows, or Status > Targets in Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from mediaops.checks import FAIL, OK, UNKNOWN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    base = probe.setting("prometheus_url").rstrip("/")
    query = f'up{{namespace="{app.namespace}", service="{app.name}"}}'
    if not base:
        yield Result("prometheus-scrape", where, UNKNOWN, "set prometheus_url to check that Prometheus scrapes it",
                     f"kubectl -n observability port-forward svc/prometheus-operated 9090 # then query {query}")
        return
    url = f"{base}/api/v1/query?{urlencode({'query': query})}"
    command = f"curl -s '{url}'"
    answer = probe.http_json(url)
    if answer.get("status") != "success":
        yield Result("prometheus-scrape", where, UNKNOWN, f"Prometheus answered {answer.get('error', answer)}",
                     command)
        return
    series = (answer.get("data") or {}).get("result") or []
    if not series:
        yield Result("prometheus-scrape", where, FAIL, f"no target: {query} has no series (is the ServiceMonitor "
                     "selected by Prometheus?)", command)
        return
    down = [s["metric"].get("instance", "?") for s in series if str((s.get("value") or [0, "0"])[1]) != "1"]
    if down:
        yield Result("prometheus-scrape", where, FAIL, f"{len(down)} of {len(series)} target(s) down: "
                     f"{', '.join(down)}", command)
    else:
        yield Result("prometheus-scrape", where, OK, f"{len(series)} target(s) up", command)


CHECK = Check("prometheus-scrape", "Prometheus scrapes the app's ServiceMonitor targets and they are up",
              applies=lambda app: app.state == ACTIVE and bool(app.service_monitors), run=run, needs_cluster=False)
