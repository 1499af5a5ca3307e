"""Controller plumbing for the rehearsal: one worker per controller, a de-duplicating queue, timers.

A controller names the kinds it watches and how an event maps to keys it reconciles; ``reconcile``
returns seconds until it wants to look again (or None). Errors are kept (``Manager.errors``) and
retried with backoff, as controller-runtime does.
"""

from __future__ import annotations

import heapq
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from mediaops.cluster.kinds import BY_NAME, Resource, kind
from mediaops.sim.store import Store, WatchEvent, now

Key = tuple[str, str]  # namespace, name
# What ``reconcile`` returns when it waits for something of its own (a build): no timer, and the key is enqueued again
# when that is done; the controller's failures for the key are not reset.
DEFERRED = float("inf")


@dataclass
class Timing:
    """Every delay of the rehearsal, in seconds; tests use near-zero values."""

    pod_start: float = 1.5  # created -> ready
    job_run: float = 2.0
    backup_tick: float = 0.4  # each step of a backup's progress
    backup_steps: int = 8
    retry: float = 3.0  # Flux retryInterval, scaled
    poll: float = 0.5  # re-checking health while progressing
    interval_scale: float = 1 / 60  # Flux intervals: 1h becomes 1 minute
    # The least a health check waits: the object's own timeout, scaled as the intervals are (health_wait), when that
    # is longer. A busy machine must not fail a healthy rollout because its scaled timeout is a fraction of a second.
    health_timeout: float = 10.0
    timeout_scale: float | None = None  # how objects' timeouts scale; None: as the intervals (0 while settling)

    @classmethod
    def fast(cls) -> Timing:
        return cls(pod_start=0.02, job_run=0.02, backup_tick=0.01, backup_steps=4, retry=0.05, poll=0.02,
                   interval_scale=1 / 600, health_timeout=6.0)

    def health_wait(self, seconds: float) -> float:
        """How long the rehearsal's controllers wait for health when the object gives ``seconds``."""
        scale = self.interval_scale if self.timeout_scale is None else self.timeout_scale
        return max(seconds * scale, self.health_timeout)


class Waited:
    """How long a health check has waited, counted only while the other controllers were not behind
    (``Manager.behind``): the rehearsal scales Flux's and Helm's timeouts down to seconds, and on a busy machine
    (79 releases installed at once on two cores) pods would miss them because the rehearsal's own controllers
    had not got to them yet, where on a cluster the minutes of the real timeout cover that. Each check counts the
    time since the one before when the others are up to date then. Whatever they do, a wait ends once ten times
    its time has passed on the clock (``expired``)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.seconds = 0.0

    def check(self, manager: Manager, *, besides: str = "") -> float:
        now_ = time.monotonic()
        if not manager.behind(besides=besides):
            self.seconds += now_ - self.last
        self.last = now_
        return self.seconds

    def expired(self, manager: Manager, wait: float, *, besides: str = "") -> bool:
        """Whether ``wait`` seconds have been waited (``check``), or ten times that on the clock."""
        return self.check(manager, besides=besides) > wait or self.last - self.started > 10 * wait


def watched(entry: str, resource: Resource) -> bool:
    """Whether a controller's ``watches`` entry names a resource: "group/Kind" (``k8up.io/Backup``) that kind of that
    group; a bare name the kind the registry knows by that name (``Backup`` is Velero's, not K8up's)."""
    group, _, name = entry.rpartition("/")
    if name != resource.kind:
        return False
    if "/" in entry:
        return group == resource.group
    known = BY_NAME.get(name)
    return known is None or known.group == resource.group


class Controller:
    watches: tuple[str, ...] = ()  # kind names, or "group/Kind" where another group has a kind of that name
    name = "controller"

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.store: Store = sim.store
        self.timing: Timing = sim.timing

    def keys_for(self, event: WatchEvent) -> list[Key]:
        meta = event.obj.get("metadata") or {}
        return [(meta.get("namespace", ""), meta.get("name", ""))]

    def reconcile(self, namespace: str, name: str) -> float | None:
        raise NotImplementedError

    def stop(self) -> None:
        """The rehearsal stops: let go of work of the controller's own (its threads' queues)."""

    # helpers for every controller
    def res(self, kind_name: str) -> Resource:
        return kind(kind_name)

    def event(self, obj: dict[str, Any], reason: str, message: str, type_: str = "Normal") -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        body = {"metadata": {"name": f"{meta.get('name')}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
                "involvedObject": {"kind": obj.get("kind"), "name": meta.get("name"), "namespace": namespace,
                                   "uid": meta.get("uid"), "apiVersion": obj.get("apiVersion")},
                "reason": reason, "message": message, "type": type_, "count": 1,
                "firstTimestamp": now(), "lastTimestamp": now(), "source": {"component": self.name}}
        self.store._create(self.res("Event"), body, owned=True)  # made here, of new parts only


class Operator(Controller):
    """A controller of custom kinds (K8up, VolSync): it works where its CRDs are installed, and when they come it
    takes up every object of its kinds that was waiting for it. Keys are "Kind/name" in the object's namespace."""

    group = ""
    kinds: tuple[str, ...] = ()

    def installed(self, resource: Resource) -> bool:
        return self.store.find(self.res("CustomResourceDefinition"), "", f"{resource.plural}.{self.group}") is not None

    def own_keys(self, event: WatchEvent) -> list[Key] | None:
        """The keys of an event about one of its objects or its CRDs; None for any other event."""
        meta = event.obj.get("metadata") or {}
        if event.resource.group == self.group:
            return [(meta.get("namespace", ""), f"{event.resource.kind}/{meta.get('name', '')}")]
        if ((event.obj.get("spec") or {}).get("group")) == self.group:  # the CRDs came: the operator starts working
            return [(obj["metadata"]["namespace"], f"{kind_name}/{obj['metadata']['name']}")
                    for kind_name in self.kinds for obj in self.store.all_of(self.res(f"{self.group}/{kind_name}"))]
        return None


@dataclass(order=True)
class _Timer:
    """A key queued for a controller at a time to come (a requeue after, a periodic reconcile)."""

    due: float
    seq: int
    controller: str = field(compare=False)
    key: Key = field(compare=False)


class Manager:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.controllers: dict[str, Controller] = {}
        self.queues: dict[str, list[Key]] = {}
        self.pending: dict[str, set[Key]] = {}
        # One lock; each worker and the timer thread wait on a condition of their own, so a key queued for one
        # controller wakes that controller's worker alone (a condition all waited on woke thirteen threads per
        # write, to find nothing, and their contention for the lock and the GIL cost more than the reconciles).
        self.lock = threading.Lock()
        self.wake: dict[str, threading.Condition] = {}
        self.timer_wake = threading.Condition(self.lock)
        self.timers: list[_Timer] = []
        self.seq = 0
        self.stopping = threading.Event()
        self.errors: list[str] = []
        self.failures: dict[tuple[str, Key], int] = {}
        self.threads: list[threading.Thread] = []
        self.busy = 0
        self._watchers: dict[tuple[str, str, int, int], list[Controller]] = {}
        store.subscribers.append(self._on_event)

    def add(self, controller: Controller) -> None:
        self.controllers[controller.name] = controller
        self.queues[controller.name] = []
        self.pending[controller.name] = set()
        self.wake[controller.name] = threading.Condition(self.lock)

    def _on_event(self, event: WatchEvent) -> None:
        for controller in self._watching(event.resource):
            for key in controller.keys_for(event):
                self.enqueue(controller.name, key)

    def _watching(self, resource: Resource) -> list[Controller]:
        """The controllers that watch a resource. Which do depends on the kind registry's names, which only grow
        (kinds.BY_NAME): the answer is kept until the registry or the controllers change."""
        key = (resource.group, resource.kind, len(BY_NAME), len(self.controllers))
        found = self._watchers.get(key)
        if found is None:
            found = [c for c in self.controllers.values() if any(watched(entry, resource) for entry in c.watches)]
            self._watchers[key] = found
        return found

    def enqueue(self, controller: str, key: Key, after: float = 0.0) -> None:
        with self.lock:
            if after > 0:
                self.seq += 1
                timer = _Timer(time.monotonic() + after, self.seq, controller, key)
                heapq.heappush(self.timers, timer)
                if self.timers[0] is timer:  # sooner than the timer thread is waiting for
                    self.timer_wake.notify()
            else:
                self._queue(controller, key)

    def _queue(self, controller: str, key: Key) -> None:
        """Queue ``key`` for ``controller`` (the lock held) and wake its worker."""
        if key not in self.pending[controller]:
            self.pending[controller].add(key)
            self.queues[controller].append(key)
            self.wake[controller].notify()

    def start(self) -> None:
        for name in self.controllers:
            thread = threading.Thread(target=self._work, args=(name,), name=f"sim-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        timer = threading.Thread(target=self._tick, name="sim-timers", daemon=True)
        timer.start()
        self.threads.append(timer)

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            self.timer_wake.notify_all()
            for wake in self.wake.values():
                wake.notify_all()
        for controller in self.controllers.values():
            controller.stop()

    def _tick(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                now_ = time.monotonic()
                while self.timers and self.timers[0].due <= now_:
                    timer = heapq.heappop(self.timers)
                    self._queue(timer.controller, timer.key)
                if self.stopping.is_set():  # checked under the lock: the stop's wake-up may have come already
                    return
                # until the first timer is due (a sooner one, or the stop, wakes it before), and at least every
                # half second: a wake-up missed for any reason costs a moment, never the rest of the run
                wait = (self.timers[0].due - now_) if self.timers else 0.5
                self.timer_wake.wait(max(0.001, min(wait, 0.5)))

    def _work(self, name: str) -> None:
        controller = self.controllers[name]
        while not self.stopping.is_set():
            with self.lock:
                while not self.queues[name] and not self.stopping.is_set():
                    self.wake[name].wait(0.5)  # a key queued for it, or the stop, wakes it (else it looks again)
                if self.stopping.is_set():
                    return
                key = self.queues[name].pop(0)
                self.pending[name].discard(key)
                self.busy += 1
            try:
                again = controller.reconcile(*key)
                if again != DEFERRED:
                    self.failures.pop((name, key), None)
            except Exception:  # a controller bug must not stop the rehearsal: keep it and retry
                count = self.failures.get((name, key), 0) + 1
                self.failures[(name, key)] = count
                self.errors.append(f"{name} {key}: {traceback.format_exc(limit=3)}")
                again = min(0.05 * 2 ** count, 5.0)
            finally:
                with self.lock:
                    self.busy -= 1
            if again is not None and again != DEFERRED:
                self.enqueue(name, key, after=again)

    def behind(self, *, besides: str = "") -> bool:
        """Whether the controllers (all but ``besides``) have work they have not started: keys queued, or timers
        already due. A rehearsal on a busy machine is behind, not its apps slow: a health check's clock stops
        meanwhile (``Waited``). The waiting controller's own queue does not count: its polls keep it full."""
        now_ = time.monotonic()
        with self.lock:
            return any(queue for name, queue in self.queues.items() if name != besides) or \
                any(t.due <= now_ and t.controller != besides for t in self.timers)

    def idle(self) -> bool:
        with self.lock:
            return self.busy == 0 and not any(self.queues.values())

