"""Is the app's git-sync sidecar syncing?

Tautulli's JBOPS scripts come from a git-sync sidecar (registry.k8s.io/git-sync). When it cannot reach or
read its repository it logs errors and, with `--max-failures`, exits, so the container restarts; the app
itself stays up. For each pod of the app with a git-sync container: error lines in its last 200 log lines
fail (git-sync v4 logs JSON with an `"error"` key; klog lines start with `E`), restarts without errors in the
current log warn, neither is ok.

By hand: `kubectl logs POD -c git-sync -n NS --tail=200`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mediaops.checks import FAIL, OK, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def is_git_sync(container: dict[str, Any]) -> bool:
    return container.get("name") == "git-sync" or "git-sync" in str(container.get("image", ""))


def error_lines(text: str) -> list[str]:
    """The lines of a git-sync log that report an error."""
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                entry = json.loads(stripped)
            except ValueError:
                entry = {}
            if isinstance(entry, dict) and (entry.get("error") or str(entry.get("level", "")).lower() == "error"):
                found.append(str(entry.get("msg") or "") + (f": {entry['error']}" if entry.get("error") else ""))
                continue
        if (stripped[:1] == "E" and stripped[1:5].isdigit()) or " ERROR " in f" {stripped} ":
            found.append(stripped)
    return found


def run(probe: Probe, app: App) -> Iterator[Result]:
    from mediaops.cluster.client import logs

    where = f"{app.namespace}/{app.name}"
    for pod in probe.all_of("Pod"):
        meta = pod["metadata"]
        if meta.get("namespace") != app.namespace or (meta.get("labels") or {}).get(
                "app.kubernetes.io/name") != app.name:
            continue
        spec = pod.get("spec") or {}
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            if not is_git_sync(container):
                continue
            name = container["name"]
            command = f"kubectl logs {meta['name']} -c {name} -n {app.namespace} --tail=200"
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
            restarts = sum(int(s.get("restartCount") or 0) for s in statuses if s.get("name") == name)
            errors = error_lines(logs(probe.cluster(), app.namespace, meta["name"], container=name, tail=200))
            if errors:
                yield Result("git-sync", where, FAIL, f"{meta['name']}/{name}: {len(errors)} error line(s), last: "
                             f"{errors[-1][:120]}", command)
            elif restarts:
                yield Result("git-sync", where, WARN, f"{meta['name']}/{name} restarted {restarts} time(s); no "
                             "error in its current log", command)
            else:
                yield Result("git-sync", where, OK, f"{meta['name']}/{name} syncing, no errors, no restarts",
                             command)


CHECK = Check("git-sync", "The app's git-sync sidecars log no errors and do not restart",
              applies=lambda app: app.state == ACTIVE and any(
                  "git-sync" in c.image or c.name == "git-sync" for ctl in app.controllers for c in ctl.containers),
              run=run)
