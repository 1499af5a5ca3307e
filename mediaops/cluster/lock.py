"""A Lease per runbook target, so two operators never run the same procedure on the same app at once."""

from __future__ import annotations

import getpass
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.cluster.client import Conflict, Kube, NotFound
from mediaops.errors import MediaopsError, PreconditionFailed

LEASE_SECONDS = 60


class LockHeld(PreconditionFailed):
    """Someone else holds the lock (exit 3, an unmet precondition: nothing was changed)."""


def holder_id() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:  # a MicroTime (RFC 3339, microseconds, Z) or a Time; fromisoformat, not strptime: no _strptime import
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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


class LockLost(MediaopsError):
    """The Lease was taken over or could not be renewed: the run stops at the next step boundary."""


class Holding:
    """What ``Lock.held`` yields: whether the Lease is still ours (the run checks it between steps)."""

    def __init__(self) -> None:
        self.lost = threading.Event()
        self.reason = ""

    def check(self) -> None:
        if self.lost.is_set():
            raise LockLost(f"the lock was lost: {self.reason}",
                           hint="another run may act on the same app now; see `mediaops runs`")


class Lock:
    """A Lease taken and kept as client-go's leader election keeps one (k8s.io/client-go
    tools/leaderelection/leaderelection.go tryAcquireOrRenew):

    - expiry is judged by this process's own clock: a Lease held by someone else is free only when its
      record has not changed for ``leaseDurationSeconds`` *as observed here*, never by comparing the
      holder's ``renewTime`` with our clock (clocks differ between laptops and clusters);
    - a takeover writes ``acquireTime`` and ``leaseTransitions + 1``; every renewal is an update with the
      resourceVersion last read, so two writers can never both believe they hold it (a conflict loses);
    - losing it (a conflict, someone else's name in it, renewals failing past the lease duration) is
      reported to the run, which stops before its next step.
    """

    def __init__(self, kube: Kube, namespace: str, *, patience: float | None = None) -> None:
        self.kube, self.namespace = kube, namespace
        # How long to watch someone else's Lease for renewals before taking it over; longer leases are
        # refused at once (`mediaops unlock` frees one that is abandoned).
        self.patience = LEASE_SECONDS * 1.5 if patience is None else patience
        self._record: dict[str, Any] = {}

    def _spec(self, run_id: str, previous: dict[str, Any] | None) -> dict[str, Any]:
        now = _stamp(datetime.now(UTC))
        old = (previous or {}).get("spec") or {}
        ours = previous is not None and _run_of(previous) == run_id
        return {"holderIdentity": holder_id(), "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now,
                "acquireTime": old.get("acquireTime") if ours and old.get("acquireTime") else now,
                "leaseTransitions": int(old.get("leaseTransitions") or 0) + (0 if ours or previous is None else 1)}

    def _write(self, name: str, run_id: str, previous: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": self.namespace,
                             "resourceVersion": previous["metadata"]["resourceVersion"],
                             "labels": {"app.kubernetes.io/managed-by": "mediaops"},
                             "annotations": {"mediaops.io/run-id": run_id}},
                "spec": self._spec(run_id, previous)}
        return self.kube.replace("Lease", body)

    def acquire(self, name: str, run_id: str, waiting: Any = None) -> None:
        existing = self.kube.find("Lease", name, self.namespace)
        if existing is None:
            body = {"metadata": {"name": name, "namespace": self.namespace,
                                 "labels": {"app.kubernetes.io/managed-by": "mediaops"},
                                 "annotations": {"mediaops.io/run-id": run_id}},
                    "spec": self._spec(run_id, None)}
            try:
                self._record = self.kube.create("Lease", body, self.namespace)
                return
            except Conflict:  # created by someone else between our read and our write
                existing = self.kube.get("Lease", name, self.namespace)
        if _run_of(existing) != run_id:
            existing = self._wait_for_expiry(name, existing, waiting)
        try:
            self._record = self._write(name, run_id, existing)
        except Conflict:
            holder = self.kube.find("Lease", name, self.namespace)
            raise LockHeld(f"lock {name} was taken by {describe(holder)[0] if holder else 'someone'} just now",
                           hint="wait for that run") from None

    def _wait_for_expiry(self, name: str, lease: dict[str, Any], waiting: Any) -> dict[str, Any]:
        """Watch someone else's Lease: refused as soon as it is renewed; taken over when its record has not
        changed for its duration, by this process's clock."""
        import time

        holder, other_run, age, _ = describe(lease)
        duration = float((lease.get("spec") or {}).get("leaseDurationSeconds") or LEASE_SECONDS)
        held = LockHeld(f"lock {name} is held by {holder} (run {other_run or '?'}, for {int(age // 60)} min)",
                        hint=f"wait for that run, or `mediaops unlock {name}` if it is abandoned")
        if duration > self.patience:
            raise held
        seen, deadline = lease["metadata"]["resourceVersion"], time.monotonic() + duration
        current: dict[str, Any] = lease
        if waiting is not None:
            waiting.update(f"lock {name} held by {holder}: taken over if it is not renewed within {duration:.0f}s")
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
            found = self.kube.find("Lease", name, self.namespace)
            if found is None:
                raise LockHeld(f"lock {name} was released just now", hint="run again")
            current = found
            if current["metadata"]["resourceVersion"] != seen:
                raise held  # renewed: its holder is alive
        return current

    def renew(self, name: str, run_id: str) -> None:
        """A conflict-checked renewal of the record we last wrote; LockLost when it is no longer ours."""
        try:
            self._record = self._write(name, run_id, self._record)
        except Conflict:
            lease = self.kube.find("Lease", name, self.namespace)
            if lease is None or _run_of(lease) != run_id:
                who = describe(lease)[0] + f" (run {_run_of(lease)})" if lease else "nobody (it was deleted)"
                raise LockLost(f"lock {name} is now held by {who}") from None
            self._record = lease
            self._record = self._write(name, run_id, lease)

    def release(self, name: str, run_id: str) -> None:
        lease = self.kube.find("Lease", name, self.namespace)
        if lease is not None and _run_of(lease) == run_id:
            self.kube.delete("Lease", name, self.namespace)

    @contextmanager
    def held(self, name: str, run_id: str, waiting: Any = None) -> Iterator[Holding]:
        """Hold the Lease for the duration, renewed in the background, released on any exit."""
        import time

        self.acquire(name, run_id, waiting)
        holding = Holding()
        stop = threading.Event()

        def renew() -> None:
            last_ok = time.monotonic()
            while not stop.wait(LEASE_SECONDS / 3):
                try:
                    self.renew(name, run_id)
                    last_ok = time.monotonic()
                except LockLost as exc:
                    holding.reason = exc.message
                    holding.lost.set()
                    return
                except MediaopsError as exc:  # the API is away: ours until the lease runs out unrenewed
                    if time.monotonic() - last_ok > LEASE_SECONDS:
                        holding.reason = f"lock {name} could not be renewed for {LEASE_SECONDS}s ({exc.message})"
                        holding.lost.set()
                        return

        thread = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
        thread.start()
        try:
            yield holding
        finally:
            stop.set()
            try:
                self.release(name, run_id)
            except (MediaopsError, NotFound):
                pass


def _run_of(lease: dict[str, Any] | None) -> str:
    return str((((lease or {}).get("metadata") or {}).get("annotations") or {}).get("mediaops.io/run-id", ""))
