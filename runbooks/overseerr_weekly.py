"""The weekly Overseerr check: does it answer, what waits for an answer, do its notifications arrive, and is its
data backed up. Read-only except the test notifications, which the operator sees arrive.

For the ops log: `mediaops runs show last --markdown` after the run.
"""

from __future__ import annotations

from mediaops.engine import CheckFailed, Live, Param, Runbook
from mediaops.engine.context import Context
from mediaops.overseerr import AGENTS, Overseerr, age_days, test_curl
from mediaops.steps import app as appsteps
from mediaops.steps import cluster as clustersteps
from mediaops.steps.app import app_of

runbook = Runbook(
    name="overseerr-weekly",
    summary="The weekly Overseerr check: status, pending requests, test notifications, the latest backup",
    params=[Param("app", "the Overseerr app", required=False, default="overseerr", complete="app", kind="name"),
            appsteps.NAMESPACE,
            Param("stale_days", "a request pending longer than this many days warns", required=False, default="7",
                  kind="days")],
)


def _api(ctx: Context) -> Overseerr:
    return Overseerr(str(ctx.config.get("overseerr_url") or ""), _key(ctx))


def _key(ctx: Context) -> str:
    import os

    return os.environ.get("MEDIAOPS_OVERSEERR_API_KEY") or str(ctx.config.values.get("_overseerr_api_key") or "")


@runbook.check("overseerr_url is set and its API key at hand")
def configured(ctx: Context) -> str:
    url = str(ctx.config.get("overseerr_url") or "")
    if not url:
        raise CheckFailed("set overseerr_url (e.g. in mediaops.yaml, or MEDIAOPS_OVERSEERR_URL) to Overseerr's address")
    key = _key(ctx)
    if not key:
        raise CheckFailed("no API key: export MEDIAOPS_OVERSEERR_API_KEY (Overseerr: Settings > General > API Key)")
    ctx.secret("overseerr_api_key", key)  # masked wherever it could appear
    return url


@runbook.step(
    "Overseerr answers on its status endpoint",
    why="Its liveness endpoint: the version, and whether an update is waiting.",
    command=Live(lambda ctx: _api(ctx).curl("/api/v1/status"), doc="curl -s 'OVERSEERR_URL/api/v1/status'"),
    mutates=False,
)
def status(ctx: Context) -> str:
    answer = _api(ctx).status()
    return f"version {answer.get('version', '?')}" + (", an update is available" if answer.get("updateAvailable")
                                                       else "") + (", restart required" if answer.get(
                                                           "restartRequired") else "")


@runbook.step(
    "Pending requests",
    why="Requests wait for an admin's approval; one waiting for weeks is a user who gave up.",
    command=Live(lambda ctx: _api(ctx).curl("/api/v1/request?take=100&skip=0&filter=pending&sort=added"),
                 doc='curl -s -H "X-Api-Key: $OVERSEERR_API_KEY" '
                     "'OVERSEERR_URL/api/v1/request?take=100&skip=0&filter=pending&sort=added'"),
    mutates=False,
)
def pending(ctx: Context) -> str:
    requests = _api(ctx).pending()
    if not requests:
        return "no request is pending"
    oldest = requests[0]
    days = age_days(str(oldest.get("createdAt", "")))
    who = (oldest.get("requestedBy") or {}).get("displayName", "?")
    line = (f"{len(requests)} pending; the oldest, request {oldest.get('id')} "
            f"({(oldest.get('media') or {}).get('mediaType', '?')}) by {who}, {days:.0f} day(s) old")
    if days > float(ctx.params.get("stale_days") or 7):
        ctx.warn(f"request {oldest.get('id')} has waited {days:.0f} days for an answer")
    return line


@runbook.step(
    "Which notification agents are enabled",
    why="Notifications are how requesters hear of approvals and availability; none enabled means silence.",
    command=Live(lambda ctx: "\n".join(_api(ctx).curl(f"/api/v1/settings/notifications/{a}") for a in AGENTS),
                 doc='curl -s -H "X-Api-Key: $OVERSEERR_API_KEY" OVERSEERR_URL/api/v1/settings/notifications/AGENT'),
    mutates=False,
)
def agents(ctx: Context) -> str:
    api = _api(ctx)
    enabled = [a for a in AGENTS if api.agent(a).get("enabled")]
    ctx.facts["agents"] = enabled
    if not enabled:
        ctx.warn("no notification agent is enabled: requesters hear of nothing")
    return f"enabled: {', '.join(enabled)}" if enabled else "none enabled"


@runbook.step(
    "Send a test notification through each enabled agent",
    why="Enabled is not working: a test message shows the webhook, token or SMTP server still answers. Look for "
        "them where they should arrive.",
    command=Live(lambda ctx: "\n".join(test_curl(_api(ctx).url, a) for a in ctx.facts.get("agents") or [])
                 or "# no agent is enabled",
                 doc='curl -s -X POST -H "X-Api-Key: $OVERSEERR_API_KEY" '
                     "OVERSEERR_URL/api/v1/settings/notifications/AGENT/test  # each enabled agent, with its settings"),
    nothing_to_undo="a test message was sent; there is nothing to take back",
)
def test_notifications(ctx: Context) -> str:
    api = _api(ctx)
    failed, sent = [], []
    for agent in ctx.facts.get("agents") or []:
        try:
            api.test(agent, api.agent(agent))
            sent.append(agent)
        except Exception as exc:  # every agent is tried; the step fails after, naming each that failed
            failed.append(f"{agent}: {exc}")
    if failed:
        raise CheckFailed("test notification failed: " + "; ".join(failed))
    return f"sent through {', '.join(sent)}"


@test_notifications.skip_when
def nothing_to_test(ctx: Context) -> str | None:
    return None if ctx.facts.get("agents") else "no notification agent is enabled"


@runbook.step(
    "The latest backup of its data",
    why="Its configuration and request history live in its PVC; the seed's RPO is 24 h.",
    command="velero backup get",
    mutates=False, needs_cluster=True,
)
def latest_backup(ctx: Context) -> str:
    from mediaops.checks import FAIL, OK, backups
    from mediaops.checks.probe import Probe

    results = list(backups.run(Probe(ctx.config, ctx.repo, clustersteps.kube(ctx)), app_of(ctx)))
    if not results:
        return "the app keeps no data in a claim"
    worst = next((r for r in results if r.status == FAIL), results[0])
    if worst.status != OK:
        ctx.warn(f"backup: {worst.message}")
    return worst.message
