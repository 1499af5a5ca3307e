"""A Lease per runbook target, so two operators never run the same procedure on the same app at once."""

from __future__ import annotations

import getpass
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.errors import MediaopsError, UsageError
from mediaops.kube import Conflict, Kube, NotFound

LEASE_SECONDS = 60
NAMESPACE_DEFAULT = "default"


class LockHeld(UsageError):
    """Someone else holds the lock (exit 2: nothing was changed)."""


def holder_id() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def describe(lease: dict[str, Any]) -> tuple[str, str, float, bool]:
    """(holder, run id, age in seconds, expired)."""
    spec = lease.get("spec") or {}
    renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime")) or datetime.now(UTC)
    acquired = _parse(spec.get("acquireTime")) or renewed
    duration = int(spec.get("leaseDurationSeconds") or LEASE_SECONDS)
    now = datetime.now(UTC)
    run = ((lease.get("metadata") or {}).get("annotations") or {}).get("mediaops.io/run-id", "")
    return (str(spec.get("holderIdentity", "?")), run, (now - acquired).total_seconds(),
            now > renewed + timedelta(seconds=duration))


class Lock:
    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace

    def _body(self, name: str, run_id: str, *, acquire: bool) -> dict[str, Any]:
        now = _stamp(datetime.now(UTC))
        spec: dict[str, Any] = {"holderIdentity": holder_id(), "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now}
        if acquire:
            spec["acquireTime"] = now
        return {"metadata": {"name": name, "namespace": self.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "mediaops"},
                             "annotations": {"mediaops.io/run-id": run_id}}, "spec": spec}

    def acquire(self, name: str, run_id: str) -> None:
        existing = self.kube.find("Lease", name, self.namespace)
        if existing is not None:
            holder, other_run, age, expired = describe(existing)
            if not expired and other_run != run_id:
                minutes = int(age // 60)
                raise LockHeld(f"lock {name} is held by {holder} (run {other_run or '?'}, for {minutes} min)",
                               hint=f"wait for that run, or `mediaops unlock {name}` if it is abandoned")
            version = existing["metadata"]["resourceVersion"]
            body = self._body(name, run_id, acquire=True)
            body["metadata"]["resourceVersion"] = version
            try:
                self.kube.replace("Lease", {**body, "apiVersion": "coordination.k8s.io/v1", "kind": "Lease"})
            except Conflict:
                raise LockHeld(f"lock {name} was taken by someone else just now", hint="try again") from None
            return
        try:
            self.kube.create("Lease", self._body(name, run_id, acquire=True), self.namespace)
        except Conflict:
            raise LockHeld(f"lock {name} was taken by someone else just now", hint="try again") from None

    def renew(self, name: str, run_id: str) -> None:
        self.kube.patch("Lease", name, {"spec": {"renewTime": _stamp(datetime.now(UTC))}}, self.namespace)

    def release(self, name: str, run_id: str) -> None:
        lease = self.kube.find("Lease", name, self.namespace)
        if lease is not None and describe(lease)[1] == run_id:
            self.kube.delete("Lease", name, self.namespace)

    @contextmanager
    def held(self, name: str, run_id: str) -> Iterator[None]:
        """Hold the Lease for the duration, renewed in the background, released on any exit."""
        self.acquire(name, run_id)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_SECONDS / 3):
                try:
                    self.renew(name, run_id)
                except MediaopsError:
                    continue

        thread = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            try:
                self.release(name, run_id)
            except (MediaopsError, NotFound):
                pass

    def leases(self) -> list[dict[str, Any]]:
        items, _ = self.kube.list("Lease", self.namespace, labels="app.kubernetes.io/managed-by=mediaops")
        return items
