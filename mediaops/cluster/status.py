"""Live status of every app: the inventory joined with the cluster, one LIST per resource type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from mediaops.cluster.client import Kube
from mediaops.cluster.marks import APP_LABEL, PREVIOUS_REPLICAS, FluxStatus, suspension
from mediaops.repo import ARCHIVED, App, Repository

KINDS = ("Kustomization", "HelmRelease", "Deployment", "StatefulSet", "Pod")


class AppStatus(msgspec.Struct):
    """One row of ``mediaops status``: an app as the repository has it and as the cluster runs it."""

    app: str
    namespace: str
    state: str  # in the repository
    kustomization: str = "-"  # Ready state, or "absent"
    revision: str = ""
    reconciled: str = ""  # age of the last reconcile
    helmrelease: str = "-"
    chart: str = ""
    replicas: str = "-"
    restarts: int = 0
    message: str = ""
    suspended: list[str] = msgspec.field(default_factory=list)
    scaled_down: list[str] = msgspec.field(default_factory=list)
    behind: bool = False  # the applied revision is not the branch's head (drift: a push not applied yet)

    @property
    def alarming(self) -> bool:
        return bool(self.suspended or self.scaled_down)

    @property
    def failing(self) -> bool:
        """What `status --failed` shows: not Ready, suspended, scaled down by mediaops, or behind the branch."""
        live = [s for s in (self.kustomization, self.helmrelease) if s not in ("-", "")]
        return self.state == "active" and (any(s != "Ready" for s in live) or self.alarming or self.behind)


def _age(stamp: str) -> str:
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _ready(state: FluxStatus) -> str:
    return {"True": "Ready", "False": "Failed", "Unknown": "Progressing"}.get(state.ready, "Unknown")


SEVERITY = ["Failed", "absent", "Progressing", "Unknown", "Ready"]


def _worst(current: str, new: str) -> str:
    """Of two states of an app's objects, the one an operator must see (Failed over absent over Progressing)."""
    if current in ("", "-") or current not in SEVERITY:
        return new
    if new not in SEVERITY:
        return current
    return current if SEVERITY.index(current) <= SEVERITY.index(new) else new


def gather(kube: Kube, repo: Repository, namespace: str | None = None,
           head: Callable[[], str] = str) -> list[AppStatus]:
    """Every app joined with its live state; ``head`` (finds the tracked branch's commit) marks the apps whose
    Kustomization applied another revision as behind.

    The lists are asked for at once, each on a connection of its own, and the repository is read and the branch's
    head found while the API server answers: the command waits for the slowest of them, not for their sum."""
    listed = {kind_name: _meanwhile(kube.list, kind_name,
                                    namespace if kind_name in ("Deployment", "StatefulSet", "Pod") else None)
              for kind_name in KINDS}
    branch = _meanwhile(head)
    apps = repo.apps()
    lists = {kind_name: result()[0] for kind_name, result in listed.items()}
    return _join(apps, lists, namespace, branch())


def _meanwhile(work: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """``work(*args)`` in a thread of its own; the function returned waits for its result (or raises its error). A
    daemon thread: a command stopped by Ctrl-C or an error ends at once, where a ThreadPoolExecutor's threads are
    joined at exit, after their requests' retries against a server that does not answer."""
    import threading

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(*args)
        except BaseException as exc:  # handed to the caller, which raises it
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="status", daemon=True)
    thread.start()

    def result() -> Any:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return result


def _join(apps: list[App], lists: dict[str, list[dict[str, Any]]], namespace: str | None,
          head: str) -> list[AppStatus]:
    by_name = {(k["metadata"]["namespace"], k["metadata"]["name"]): k for k in lists["Kustomization"]}
    releases = {(h["metadata"]["namespace"], h["metadata"]["name"]): h for h in lists["HelmRelease"]}
    rows = []
    for app in apps:
        if app.state == ARCHIVED or (namespace and app.namespace != namespace):
            continue
        row = AppStatus(app.name, app.namespace, app.state)
        for ks in app.kustomizations:  # several: the row shows the worst of them
            live = by_name.get((ks.namespace, ks.name))
            if live is None:
                row.kustomization = _worst(row.kustomization, "absent")
                continue
            state = FluxStatus.of(live)
            row.kustomization = _worst(row.kustomization, _ready(state))
            applied = state.revision.rpartition(":")[2]
            row.revision = row.revision or applied[:10]
            if head and applied and applied != head and state.ready == "True":
                row.behind = True
            status = live.get("status") or {}
            conditions = status.get("conditions") or [{}]
            row.reconciled = _age(status.get("lastHandledReconcileAt") or conditions[0].get("lastTransitionTime", ""))
            if state.ready != "True":
                row.message = state.message
            if state.suspended:
                note = suspension(live)
                row.suspended.append(f"Kustomization {ks.namespace}/{ks.name}" + (f" ({note})" if note else ""))
        for hr in app.helmreleases:
            live = releases.get((hr.namespace, hr.name))
            if live is None:
                continue
            state = FluxStatus.of(live)
            row.helmrelease, row.chart = _worst(row.helmrelease, _ready(state)), row.chart or state.revision
            if state.ready != "True" and not row.message:
                row.message = state.message
            if state.suspended:
                note = suspension(live)
                row.suspended.append(f"HelmRelease {live['metadata']['namespace']}/{hr.name}"
                                     + (f" ({note})" if note else ""))
        workloads = [w for kind_name in ("Deployment", "StatefulSet") for w in lists[kind_name]
                     if (w["metadata"].get("labels") or {}).get(APP_LABEL) == app.name
                     and w["metadata"]["namespace"] == app.namespace]
        if workloads:
            ready = sum(int((w.get("status") or {}).get("readyReplicas", 0)) for w in workloads)
            want = sum(int((w.get("spec") or {}).get("replicas", 1)) for w in workloads)
            row.replicas = f"{ready}/{want}"
            for w in workloads:
                previous = ((w["metadata"].get("annotations") or {}).get(PREVIOUS_REPLICAS))
                if previous is not None:
                    row.scaled_down.append(f"{w['kind']} {w['metadata']['name']} (was {previous})")
        row.restarts = sum(int(c.get("restartCount", 0)) for p in lists["Pod"]
                           if (p["metadata"].get("labels") or {}).get(APP_LABEL) == app.name
                           and p["metadata"]["namespace"] == app.namespace
                           for c in (p.get("status") or {}).get("containerStatuses") or [])
        rows.append(row)
    return rows

