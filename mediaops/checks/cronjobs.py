"""Did the app's CronJobs run, and did their last run succeed?

For each CronJob the app applied: its most recent finished Job (the Jobs it owns, as the CronJob controller
records them: k8s.io/kubernetes pkg/controller/cronjob, `status.lastScheduleTime`, `lastSuccessfulTime`) failed
fails; succeeded is ok, with when; a suspended CronJob warns; one that has not run yet is unknown (a daily
sync just after activation has not).

By hand: `kubectl get cronjob NAME -n NS` and `kubectl get jobs -n NS` (the seed's check after activating
plex-trakt-sync).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mediaops.checks import FAIL, OK, UNKNOWN, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def _finished(job: dict[str, Any]) -> str:
    """"Complete", "Failed" or "" from a Job's conditions (batch/v1 JobConditionType)."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("status") == "True" and cond.get("type") in ("Complete", "Failed"):
            return str(cond["type"])
    status = job.get("status") or {}
    return "Complete" if status.get("succeeded") else ""


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    jobs = probe.all_of("Job")
    for cronjob in probe.applied("CronJob", app):
        name, namespace = cronjob["metadata"]["name"], cronjob["metadata"]["namespace"]
        uid = cronjob["metadata"].get("uid")
        command = f"kubectl get cronjob {name} -n {namespace} && kubectl get jobs -n {namespace}"
        if (cronjob.get("spec") or {}).get("suspend"):
            yield Result("cronjobs", where, WARN, f"CronJob {name} is suspended: it does not run", command)
            continue
        owned = [j for j in jobs if j["metadata"].get("namespace") == namespace
                 and any(o.get("kind") == "CronJob" and (o.get("uid") == uid or o.get("name") == name)
                         for o in j["metadata"].get("ownerReferences") or [])]
        done = sorted((j for j in owned if _finished(j)), key=lambda j: j["metadata"].get("creationTimestamp", ""))
        schedule = (cronjob.get("spec") or {}).get("schedule", "?")
        if not done:
            running = [j["metadata"]["name"] for j in owned]
            yield Result("cronjobs", where, UNKNOWN, f"CronJob {name} ({schedule}) has no finished run yet"
                         + (f"; running: {', '.join(running)}" if running else ""), command)
            continue
        last = done[-1]
        outcome = _finished(last)
        when = (cronjob.get("status") or {}).get("lastSuccessfulTime") or last["metadata"].get("creationTimestamp")
        if outcome == "Failed":
            yield Result("cronjobs", where, FAIL, f"CronJob {name}: its last run, Job {last['metadata']['name']}, "
                         f"failed (kubectl logs job/{last['metadata']['name']} -n {namespace})", command)
        else:
            yield Result("cronjobs", where, OK, f"CronJob {name} ({schedule}): last run "
                         f"{last['metadata']['name']} succeeded; last success {when}", command)


CHECK = Check("cronjobs", "The app's CronJobs ran and their last run succeeded",
              applies=lambda app: app.state == ACTIVE and bool(app.cronjobs), run=run)
