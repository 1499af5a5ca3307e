"""The wait machinery: read an object, watch it from that version, judge each state it passes through.

A wait returns as soon as its condition says done and raises as soon as it says failed (kstatus's rule: a
terminal failure is not waited out); per-kind conditions live beside their kinds (``flux.ready``,
``workloads.rolled_out``, ``velero`` phases, ``externalsecrets.ready``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from mediaops.cluster.client import Kube, KubeError, _what
from mediaops.cluster.kinds import kind

TIMEOUT = 300.0  # how long a step waits on the cluster, in seconds (kubectl and flux take 5m as well)


def timeout_flag(seconds: float = TIMEOUT) -> str:
    """The ``--timeout`` value kubectl and flux take for a wait of ``seconds`` (5m, 90s)."""
    return f"{int(seconds // 60)}m" if seconds % 60 == 0 else f"{int(seconds)}s"


class WaitFailed(KubeError):
    """The awaited object reported failure (or the wait timed out)."""


class Verdict(msgspec.Struct, frozen=True):
    """What a wait condition says of the object as it is now."""

    done: bool = False
    failed: str | None = None
    status: str = ""
    completed: int | None = None
    total: int | None = None


def until(kube: Kube, kind_name: str, name: str, namespace: str | None,
      condition: Callable[[dict[str, Any] | None], Verdict], *, timeout: float, waiting: Any = None,
      label: str = "") -> dict[str, Any]:
    """Watch one object until ``condition`` says done (returned) or failed (raised), or time runs out."""
    res = kind(kind_name)
    what = label or _what(res, name, namespace)
    last = Verdict(status="not seen yet")
    started = time.monotonic()
    items, rv = kube.list(kind_name, namespace, fields=f"metadata.name={name}")
    current = items[0] if items else None
    last = _judge(condition, current, waiting, last)
    if last.done and current is not None:
        return current
    for event, obj in kube.watch(kind_name, namespace, name=name, since=rv, timeout=timeout):
        current = None if event == "DELETED" else obj
        last = _judge(condition, current, waiting, last)
        if last.done and current is not None:
            return current
        if time.monotonic() - started > timeout:
            break
    raise WaitFailed(f"timed out after {timeout:.0f}s waiting for {what}: {last.status or 'no status'}")

def gone(kube: Kube, kind_name: str, name: str, namespace: str | None, *, timeout: float,
     waiting: Any = None) -> None:
    """Watch until the object is gone."""
    items, rv = kube.list(kind_name, namespace, fields=f"metadata.name={name}")
    if not items:
        return
    if waiting is not None:
        waiting.update("still there")
    for event, _ in kube.watch(kind_name, namespace, name=name, since=rv, timeout=timeout):
        if event == "DELETED":
            return
    if kube.find(kind_name, name, namespace) is not None:
        raise WaitFailed(f"timed out after {timeout:.0f}s waiting for {kind_name} {namespace}/{name} to go away")

def _judge(condition: Callable[[dict[str, Any] | None], Verdict], obj: dict[str, Any] | None, waiting: Any,
       last: Verdict) -> Verdict:
    verdict = condition(obj)
    if verdict.failed:
        raise WaitFailed(verdict.failed)
    changed = (verdict.status, verdict.completed) != (last.status, last.completed)
    if waiting is not None and verdict.status and changed:
        waiting.update(verdict.status, completed=verdict.completed, total=verdict.total)
    return verdict
