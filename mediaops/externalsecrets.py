"""External Secrets: force a sync and wait until the target Secret really changed.

Secret data is never read into output: only the Secret's metadata (its resourceVersion) is compared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mediaops.kube import Kube, Verdict, condition

FORCE_SYNC = "force-sync"


def force_sync_command(name: str, namespace: str) -> str:
    return (f"kubectl annotate externalsecret {name} -n {namespace} "
            f"{FORCE_SYNC}=$(date +%s) --overwrite")


def target_of(es: dict[str, Any]) -> str:
    return str(((es.get("spec") or {}).get("target") or {}).get("name") or es["metadata"]["name"])


def secret_version(kube: Kube, name: str, namespace: str) -> str | None:
    secret = kube.find("Secret", name, namespace)
    return str(secret["metadata"]["resourceVersion"]) if secret else None


def force_sync(kube: Kube, name: str, namespace: str, *, timeout: float = 120, waiting: Any = None) -> str:
    """Annotate, then wait for Ready and for the target Secret's resourceVersion to move."""
    es = kube.get("ExternalSecret", name, namespace)
    target = target_of(es)
    before = secret_version(kube, target, namespace)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kube.patch("ExternalSecret", name, {"metadata": {"annotations": {FORCE_SYNC: stamp}}}, namespace)

    def synced(obj: dict[str, Any] | None) -> Verdict:
        ready = condition(obj) or {}
        refreshed = str((obj or {}).get("status", {}).get("refreshTime", ""))
        text = f"Ready={ready.get('status', '?')} {ready.get('reason', '')}: {ready.get('message', '')}"
        if ready.get("status") == "False" and refreshed >= stamp[:19]:
            return Verdict(failed=f"ExternalSecret {namespace}/{name}: {ready.get('reason')}: {ready.get('message')}")
        if ready.get("status") == "True" and refreshed >= stamp[:19]:
            return Verdict(done=True, status=text)
        return Verdict(status=text)

    kube.wait("ExternalSecret", name, namespace, synced, timeout=timeout, waiting=waiting)

    def moved(obj: dict[str, Any] | None) -> Verdict:
        version = obj["metadata"]["resourceVersion"] if obj else None
        if version and version != before:
            return Verdict(done=True, status="target Secret updated")
        return Verdict(status=f"target Secret {target} unchanged (resourceVersion {before})")

    kube.wait("Secret", target, namespace, moved, timeout=timeout, waiting=waiting)
    return target


def ready() -> Any:
    """A wait condition: the ExternalSecret synced (Ready=True), failing on SecretSyncedError."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        state = condition(obj) or {}
        text = f"Ready={state.get('status', '?')} {state.get('reason', '')}: {state.get('message', '')}"
        if state.get("status") == "True":
            return Verdict(done=True, status=text)
        if state.get("status") == "False" and state.get("reason") == "SecretSyncedError":
            name = (obj or {}).get("metadata", {}).get("name")
            return Verdict(failed=f"ExternalSecret {name}: {state.get('message')}")
        return Verdict(status=text)

    return judge
