"""Does Overseerr answer on its status endpoint?

`GET /api/v1/status` is Overseerr's liveness endpoint (its probes use it; sct/overseerr server/routes/index.ts):
it answers the version without an API key. It is asked at the `overseerr_url` setting; without it the check is
unknown. The weekly check of pending requests and notifications is the `overseerr-weekly` runbook's.

By hand: `curl -s OVERSEERR_URL/api/v1/status`.
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, UNKNOWN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    base = probe.setting("overseerr_url").rstrip("/")
    if not base:
        yield Result("overseerr-status", where, UNKNOWN, "set overseerr_url to ask its status endpoint",
                     f"kubectl -n {app.namespace} port-forward svc/{app.name} 5055 # then curl localhost:5055"
                     "/api/v1/status")
        return
    url = f"{base}/api/v1/status"
    try:
        answer = probe.http_json(url)
    except (OSError, ValueError) as exc:
        yield Result("overseerr-status", where, FAIL, str(exc), f"curl -s {url}")
        return
    update = " (an update is available)" if answer.get("updateAvailable") else ""
    yield Result("overseerr-status", where, OK, f"version {answer.get('version', '?')}{update}", f"curl -s {url}")


CHECK = Check("overseerr-status", "Overseerr answers on /api/v1/status",
              applies=lambda app: app.state == ACTIVE and app.name == "overseerr", run=run, needs_cluster=False)
