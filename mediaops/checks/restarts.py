"""Are the app's containers running without restarting?

A container in CrashLoopBackOff (the kubelet's waiting reason) fails; one that restarted 3 times or more
warns (the seed's "Pod restart" alert), with its last termination reason; otherwise ok. Pods are the app's by
the label `app.kubernetes.io/name`.

By hand: `kubectl get pods -n NS -l app.kubernetes.io/name=APP` and `kubectl describe pod POD -n NS`.
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App

MANY = 3


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    command = f"kubectl get pods -n {app.namespace} -l app.kubernetes.io/name={app.name}"
    pods = probe.pods(app)
    bad = False
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            name = f"{pod['metadata']['name']}/{status.get('name')}"
            waiting = ((status.get("state") or {}).get("waiting") or {}).get("reason")
            restarts = int(status.get("restartCount") or 0)
            last = ((status.get("lastState") or {}).get("terminated") or {}).get("reason", "")
            if waiting == "CrashLoopBackOff":
                bad = True
                yield Result("restarts", where, FAIL, f"{name} is in CrashLoopBackOff ({restarts} restarts"
                             + (f", last: {last}" if last else "") + ")", command)
            elif restarts >= MANY:
                bad = True
                yield Result("restarts", where, WARN, f"{name} restarted {restarts} times"
                             + (f" (last: {last})" if last else ""), command)
    if pods and not bad:
        yield Result("restarts", where, OK, f"{len(pods)} pod(s), no container restarting", command)


CHECK = Check("restarts", f"No container of the app is crash-looping or restarted {MANY} times or more",
              applies=lambda app: app.state == ACTIVE and bool(app.controllers), run=run)
