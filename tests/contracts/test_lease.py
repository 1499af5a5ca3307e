"""The Lease lock as client-go's leader election keeps one (k8s.io/client-go tools/leaderelection)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from mediaops.cluster import lock as lock_module
from mediaops.cluster.lock import Lock, LockHeld, LockLost
from tests.conftest import Cluster

NAME = "mediaops-restart-tautulli"


def _foreign_lease(cluster: Cluster, *, duration: int, renewed: datetime) -> None:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cluster.kube.create("Lease", {"metadata": {"name": NAME, "namespace": "media",
                                               "annotations": {"mediaops.io/run-id": "run-of-bob"}},
                                  "spec": {"holderIdentity": "bob@other-laptop", "leaseDurationSeconds": duration,
                                           "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 3}},
                        "media")


def test_expiry_is_judged_by_our_clock_not_the_holders(cluster: Cluster) -> None:
    """bob's laptop clock runs an hour ahead: his renewTime is in our future. client-go ignores it and takes
    the Lease over once its record has stayed unchanged for leaseDurationSeconds, as observed here."""
    _foreign_lease(cluster, duration=1, renewed=datetime.now(UTC) + timedelta(hours=1))
    started = time.monotonic()
    Lock(cluster.kube, "media").acquire(NAME, "run-mine")
    assert 1 <= time.monotonic() - started < 5
    lease = cluster.kube.get("Lease", NAME, "media")
    assert lease["metadata"]["annotations"]["mediaops.io/run-id"] == "run-mine"
    assert lease["spec"]["leaseTransitions"] == 4  # a takeover counts


def test_a_renewed_lease_is_not_taken(cluster: Cluster) -> None:
    """bob's clock is an hour behind: by the old rule his Lease looked long expired. It is renewed while
    we watch, so it is his."""
    _foreign_lease(cluster, duration=2, renewed=datetime.now(UTC) - timedelta(hours=1))

    def bob_renews() -> None:
        time.sleep(0.5)
        cluster.kube.patch("Lease", NAME, {"spec": {"renewTime": datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")}}, "media")

    threading.Thread(target=bob_renews, daemon=True).start()
    with pytest.raises(LockHeld, match="held by bob@other-laptop"):
        Lock(cluster.kube, "media").acquire(NAME, "run-mine")


def test_two_runs_never_both_hold_it(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Renewals are updates at the resourceVersion last read: once another run took the Lease over, the
    first run's renewal conflicts, and it learns it lost the lock instead of writing over the other's."""
    monkeypatch.setattr(lock_module, "LEASE_SECONDS", 1)
    first = Lock(cluster.kube, "media")
    first.acquire(NAME, "run-a")
    time.sleep(1.2)  # run-a stops renewing (a laptop asleep); its Lease runs out as run-b observes it
    Lock(cluster.kube, "media").acquire(NAME, "run-b")
    with pytest.raises(LockLost, match=r"now held by .*run-b"):
        first.renew(NAME, "run-a")
    assert cluster.kube.get("Lease", NAME, "media")["metadata"]["annotations"]["mediaops.io/run-id"] == "run-b"


def test_losing_the_lock_stops_the_run_at_the_next_step(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock_module, "LEASE_SECONDS", 0.3)
    lock = Lock(cluster.kube, "media")
    with lock.held(NAME, "run-a") as holding:
        holding.check()  # still ours
        cluster.kube.delete("Lease", NAME, "media")  # someone ran `mediaops unlock`, then took it
        Lock(cluster.kube, "media").acquire(NAME, "run-b")
        assert holding.lost.wait(5)
        with pytest.raises(LockLost, match="the lock was lost"):
            holding.check()
