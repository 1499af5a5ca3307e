"""External Secrets: force a sync and wait until the target Secret really changed.

Secret data is never read into output: only the Secret's metadata (its resourceVersion) is compared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, condition
from mediaops.cluster.waits import Verdict, WaitFailed
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

FORCE_SYNC = "force-sync"


def target_of(es: dict[str, Any]) -> str:
    return str(((es.get("spec") or {}).get("target") or {}).get("name") or es["metadata"]["name"])


def exists(kube: Kube, name: str, namespace: str) -> bool:
    """Whether the ExternalSecret is deployed."""
    return kube.find("ExternalSecret", name, namespace) is not None


def secret_version(kube: Kube, name: str, namespace: str) -> str | None:
    secret = kube.find("Secret", name, namespace)
    return str(secret["metadata"]["resourceVersion"]) if secret else None


def force_sync(kube: Kube, name: str, namespace: str, *, timeout: float = 120, waiting: Any = None,
               stamp: str = "") -> str:
    """Annotate, then wait until the controller synced it again and its target Secret changed.

    Synced again is read from the controller's own status, never from clocks: external-secrets sets
    ``status.syncedResourceVersion`` to "<generation>-<hash of labels and annotations>" on every successful
    sync (externalsecret_controller.go getResourceVersion), so it moves past its value at the request once
    our annotation has been synced; ``refreshTime`` is the controller's clock and is not compared with ours.
    Whether the Secret's data changed is not a verdict: a periodic refresh may have brought it already.
    An ExternalSecret with ``refreshPolicy: CreatedOnce`` never syncs again: it is refused up front.
    """
    es = kube.get("ExternalSecret", name, namespace)
    target = target_of(es)
    policy = (es.get("spec") or {}).get("refreshPolicy") or "Periodic"
    if policy == "CreatedOnce":
        raise MediaopsError(f"ExternalSecret {namespace}/{name} has refreshPolicy CreatedOnce: it never syncs "
                            f"again while Secret {target} exists",
                            hint=f"delete the Secret to have it made again: kubectl delete secret {target} "
                                 f"-n {namespace}")
    # The controller syncs only from a Ready store (external-secrets externalsecret_controller.go: a store that is
    # not Ready fails the sync with SecretSyncedError and is retried): a refresh requested while the store is
    # down cannot succeed, and an ExternalSecret already failing on it shows no new attempt to wait for.
    ref = (es.get("spec") or {}).get("secretStoreRef") or {}
    store_kind = str(ref.get("kind") or "SecretStore")
    store = kube.find(store_kind, str(ref.get("name", "")), None if store_kind == "ClusterSecretStore" else namespace)
    store_ready = condition(store) or {}
    if store is not None and store_ready.get("status") == "False":
        raise WaitFailed(f"ExternalSecret {namespace}/{name}: {store_kind} {ref.get('name')} is not ready: "
                         f"{store_ready.get('reason', '')}: {store_ready.get('message', '')}".rstrip(": "))
    before = secret_version(kube, target, namespace)
    stamp = stamp or now_stamp()
    patched = kube.patch("ExternalSecret", name, {"metadata": {"annotations": {FORCE_SYNC: stamp}}}, namespace)
    synced_before = ((patched or es).get("status") or {}).get("syncedResourceVersion")
    # A failure is judged against the condition read before the store was checked, not the one the patch
    # returns: the store may go down between the two, and the controller's failed attempt on it may already be in
    # the patch's answer; compared with that, the attempt would never look new.
    ready_before = condition(es) or {}

    def synced(obj: dict[str, Any] | None) -> Verdict:
        ready = condition(obj) or {}
        version = ((obj or {}).get("status") or {}).get("syncedResourceVersion")
        text = f"Ready={ready.get('status', '?')} {ready.get('reason', '')}: {ready.get('message', '')}"
        if ready.get("status") == "True" and version and version != synced_before:
            return Verdict(done=True, status=text)
        changed = (ready.get("status"), ready.get("message")) != (ready_before.get("status"),
                                                                   ready_before.get("message"))
        if ready.get("status") == "False" and changed:  # a failure since our request
            return Verdict(failed=f"ExternalSecret {namespace}/{name}: {ready.get('reason')}: {ready.get('message')}")
        return Verdict(status=f"waiting for the controller to sync it again ({text})")

    waits.until(kube, "ExternalSecret", name, namespace, synced, timeout=timeout, waiting=waiting)
    if waiting is not None and secret_version(kube, target, namespace) == before:
        # Synced, and the Secret is as it was: its periodic refresh had already brought the store's value
        # (or the store holds the old one; the steps that check the consumers tell which).
        waiting.update(f"synced; Secret {target} already held what the store holds")
    return target


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ForceSync(msgspec.Struct, frozen=True):
    """``kubectl annotate externalsecret force-sync=STAMP``: the controller syncs it now, not at its refresh
    interval; then the wait until it synced again (``force_sync``: status.syncedResourceVersion moves)."""

    kube: Kube
    name: str
    namespace: str
    stamp: str

    def render(self) -> str:
        return (f"kubectl annotate externalsecret {self.name} -n {self.namespace} {FORCE_SYNC}={self.stamp} "
                "--overwrite  # then it syncs again: its status.syncedResourceVersion moves on "
                f"(kubectl get externalsecret {self.name} -n {self.namespace} -o yaml)")

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"ExternalSecret {self.name} synced") as waiting:
            target = force_sync(self.kube, self.name, self.namespace, waiting=waiting, stamp=self.stamp)
        return f"Secret {target} updated (its data is not shown)"


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
