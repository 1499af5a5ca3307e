"""Is there a recent backup of the app's data, whichever way the cluster makes them?

The newest backup that covers the app's namespace must be younger than the RPO (`backup_rpo_hours`, 24 by
default, the seed's). Looked for, where their CRDs are installed:

- Velero `Backup`s (velero.io/v1, pkg/apis/velero/v1/backup_types.go) whose namespaces include the app's,
  Completed (PartiallyFailed warns), by `status.completionTimestamp`; a Velero backup holds a claim's data only
  through a PodVolumeBackup (file-system backup) of it, so the result says which claims it holds;
- K8up `Backup`s in the namespace (k8up.io/v1; `status.conditions` Completed, reason Succeeded) and its
  `Schedule`s;
- VolSync `ReplicationSource`s of the app's claims (volsync.backube/v1alpha1, `status.lastSyncTime`).

Older than the RPO, or none, fails; no backup system installed at all is unknown.

By hand: `velero backup get`, `kubectl get backups.k8up.io,schedules.k8up.io -n NS`,
`kubectl get replicationsources -n NS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from mediaops.checks import FAIL, OK, UNKNOWN, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def _when(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def _covers(spec: dict[str, Any], namespace: str) -> bool:
    included = spec.get("includedNamespaces") or ["*"]
    return (namespace in included or "*" in included) and namespace not in (spec.get("excludedNamespaces") or [])


def _candidates(probe: Probe, app: App) -> tuple[list[tuple[datetime, str, str]], bool]:
    """(finished at, what, its phase) of every backup covering the app, and whether any system is installed."""
    found: list[tuple[datetime, str, str]] = []
    installed = False
    if probe.serves("velero.io/v1"):
        installed = True
        for backup in probe.all_of("Backup"):
            status = backup.get("status") or {}
            when = _when(status.get("completionTimestamp"))
            if when and _covers(backup.get("spec") or {}, app.namespace) and status.get("phase") in (
                    "Completed", "PartiallyFailed"):
                found.append((when, f"velero backup {backup['metadata']['name']}", str(status["phase"])))
    if probe.serves("k8up.io/v1"):
        installed = True
        for backup in probe.custom("k8up.io/v1", "backups", app.namespace):
            done = next((c for c in (backup.get("status") or {}).get("conditions") or []
                         if c.get("type") == "Completed" and c.get("status") == "True"), None)
            when = _when((done or {}).get("lastTransitionTime"))
            if done and when:
                phase = "Completed" if done.get("reason") == "Succeeded" else "PartiallyFailed"
                found.append((when, f"k8up backup {backup['metadata']['name']}", phase))
    if probe.serves("volsync.backube/v1alpha1"):
        installed = True
        claims = {v.name for v in app.volumes} | set(app.claims)
        for source in probe.custom("volsync.backube/v1alpha1", "replicationsources", app.namespace):
            when = _when((source.get("status") or {}).get("lastSyncTime"))
            if when and (source.get("spec") or {}).get("sourcePVC") in claims:
                found.append((when, f"volsync replicationsource {source['metadata']['name']}", "Completed"))
    return sorted(found), installed


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    rpo = float(probe.setting("backup_rpo_hours") or 24)
    command = "velero backup get"
    found, installed = _candidates(probe, app)
    if not installed:
        yield Result("backups", where, UNKNOWN, "no backup system's CRDs in the cluster (Velero, K8up, VolSync)",
                     "kubectl get crds | grep -e velero -e k8up -e volsync")
        return
    if not found:
        yield Result("backups", where, FAIL, f"no finished backup covers namespace {app.namespace}", command)
        return
    when, what, phase = found[-1]
    age = (datetime.now(UTC) - when).total_seconds() / 3600
    held = ""
    if what.startswith("velero backup "):
        from mediaops.cluster import velero

        claims = sorted(velero.volume_backups(probe.cluster(), what.split()[-1]))
        held = f", data of {', '.join(claims)}" if claims else ", no volume data (objects only)"
    line = f"newest: {what}, {age:.1f} h old ({phase}{held}); RPO {rpo:.0f} h"
    if age > rpo:
        yield Result("backups", where, FAIL, line, command)
    elif phase != "Completed" or held.startswith(", no volume"):
        yield Result("backups", where, WARN, line, command)
    else:
        yield Result("backups", where, OK, line, command)


CHECK = Check("backups", "A backup of the app's data younger than the RPO (24 h)",
              applies=lambda app: app.state == ACTIVE and bool(app.volumes or app.claims), run=run)
