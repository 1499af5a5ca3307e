"""What mediaops and Flux leave on cluster objects, as ``status`` reads it back without the modules that act on the
cluster (flux.py and workloads.py re-export these): the label that names an app's objects, mediaops's notes on
what it scaled down or suspended and why, and a Flux object's Ready condition and suspension."""

from __future__ import annotations

from typing import Any

import msgspec

from mediaops.cluster.client import condition

APP_LABEL = "app.kubernetes.io/name"
PREVIOUS_REPLICAS = "mediaops.io/previous-replicas"
SCALED_BY = "mediaops.io/scaled-by"
SUSPENDED_BY = "mediaops.io/suspended-by"
SUSPENDED_BY_USER = "mediaops.io/suspended-by-user"
SUSPEND_REASON = "mediaops.io/suspend-reason"


class FluxStatus(msgspec.Struct):
    """A Flux object's Ready condition, revision and suspension, as ``flux get`` shows them."""

    ready: str  # "True", "False", "Unknown" or "" when never reconciled
    reason: str
    message: str
    revision: str
    suspended: bool

    @classmethod
    def of(cls, obj: dict[str, Any]) -> FluxStatus:
        ready = condition(obj) or {}
        status = obj.get("status") or {}
        revision = (status.get("lastAppliedRevision") or (status.get("artifact") or {}).get("revision")
                    or status.get("lastAttemptedRevision") or "")
        history = status.get("history") or []
        if obj.get("kind") == "HelmRelease" and history:
            revision = str(history[0].get("chartVersion", revision))
        return cls(str(ready.get("status", "")), str(ready.get("reason", "")), str(ready.get("message", "")),
                   str(revision), bool((obj.get("spec") or {}).get("suspend")))


def suspended_by(obj: dict[str, Any]) -> str:
    """The run that suspended the object (mediaops.io/suspended-by), or ""."""
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(SUSPENDED_BY) or "")


def suspension(obj: dict[str, Any]) -> str:
    """Who suspended the object, in which run and why, as mediaops noted it ("" when it did not)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    run = annotations.get(SUSPENDED_BY)
    if not run:
        return ""
    who = annotations.get(SUSPENDED_BY_USER)
    why = annotations.get(SUSPEND_REASON)
    return f"by {who + ', ' if who else ''}run {run}" + (f": {why}" if why else "")
