"""Flux's controllers as the runbooks meet them: source, kustomize and helm.

- source-controller: a GitRepository follows a branch of a git repository on disk; a new commit becomes
  a new artifact revision (``main@sha1:…``) on reconcile or on its (scaled) interval.
- kustomize-controller: builds the path at that revision with real kustomize (``kubectl kustomize``),
  decrypts SOPS Secrets, applies post-build substitution from ``substituteFrom``, honours ``dependsOn``,
  ``suspend``, ``prune``, ``wait`` and ``targetNamespace``, and applies the objects. ``cluster-apps``
  therefore creates exactly the app Kustomizations the namespace ``kustomization.yaml`` files list.
- helm-controller: a HelmRelease yields its chart's objects (``charts.render``) and is Ready when its
  workloads are; an unknown chart version fails with Flux's message.

Both honour ``reconcile.fluxcd.io/requestedAt`` (and ``forceAt``) and report
``lastHandledReconcileAt`` the way ``flux reconcile`` waits for it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import Any

import yaml

from mediaops import selectors
from mediaops.cluster import kinds
from mediaops.cluster.kinds import BY_KIND, Resource
from mediaops.repo.yamlfiles import expand, parse, parse_all
from mediaops.sim import charts
from mediaops.sim.manager import DEFERRED, Controller, Key, Waited
from mediaops.sim.store import ApiError, WatchEvent, clone, now
from mediaops.sim.volsync import go_duration as _go_duration

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
RESET_AT = "reconcile.fluxcd.io/resetAt"
KS_NAME, KS_NAMESPACE = "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"
HR_NAME, HR_NAMESPACE = "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"
WATCH_LABEL = "reconcile.fluxcd.io/watch"  # a ConfigMap or Secret whose changes Flux's controllers watch
SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"
APPLY_ORDER = ["CustomResourceDefinition",
               "Namespace", "ClusterSecretStore", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service",
               "ServiceAccount"]
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# PyYAML's C emitter and parser where it has them (the same documents as the Python ones, several times faster)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
VARIABLE = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*)|/([^/}]*)/([^}]*))?\}")


def interval(value: Any, default: float = 3600) -> float:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(value or ""))
    if not match or not any(match.groups()):
        return default
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def kustomization_timeout(spec: dict[str, Any]) -> float:
    """How long kustomize-controller waits for health, in seconds (api/v1/kustomization_types.go GetTimeout):
    spec.timeout, else the interval less 30 s; at least 30 s."""
    duration = interval(spec.get("interval"), 3600) - 30
    if spec.get("timeout"):
        duration = interval(spec["timeout"], duration)
    return max(duration, 30)


def release_timeout(spec: dict[str, Any], action: str) -> float:
    """How long helm-controller gives a Helm action, in seconds (api/v2/helmrelease_types.go: Install, Upgrade,
    Test, Rollback and Uninstall GetTimeout take the release's GetTimeout, 5m when it sets none)."""
    section = spec.get(action)
    given = section.get("timeout") if isinstance(section, dict) else None
    return interval(given, interval(spec.get("timeout"), 300))


def set_path(values: dict[str, Any], path: str, value: str, *, literal: bool = False) -> None:
    """A HelmRelease valuesFrom ``targetPath``: ``value`` put at ``path`` in ``values`` as fluxcd/pkg
    chartutil/values.go ReplacePathValue does through Helm's strvals (``a.b[1].c``, ``\\.`` a dot in a key, lists
    padded with nulls): typed (true, false, null, a number without a leading zero) unless quoted, which is kept as
    the string inside the quotes; ``literal`` (ReplacePathLiteralValue) keeps the value verbatim. A value with a
    comma, which --set would split into more assignments, is kept whole here."""
    keys: list[str | int] = []
    current, index = "", 0
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path):
            current, index = current + path[index + 1], index + 2
            continue
        if char == "[":
            end = path.find("]", index)
            if end < 0 or not path[index + 1:end].isdigit():
                raise ValueError(f"{path}: a list index is a number in brackets")
            if current:
                keys.append(current)
            keys.append(int(path[index + 1:end]))
            current, index = "", end + 1
            continue
        if char == ".":
            if current:
                keys.append(current)
            current, index = "", index + 1
            continue
        current, index = current + char, index + 1
    if current:
        keys.append(current)
    if not keys or not isinstance(keys[0], str):
        raise ValueError(f"{path}: no key")
    typed: Any = value
    if literal:
        typed = value
    elif len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        typed = value.strip("'\"")
    elif value.lower() in ("true", "false"):
        typed = value.lower() == "true"
    elif value.lower() == "null":
        typed = None
    elif value == "0" or (value[:1] != "0" and re.fullmatch(r"[-+]?[0-9]+", value)
                          and -2 ** 63 <= int(value) < 2 ** 63):  # strconv.ParseInt(val, 10, 64)
        typed = int(value)
    node: Any = values
    for position, key in enumerate(keys):
        last = position == len(keys) - 1
        following: Any = {} if last or isinstance(keys[position + 1], str) else []
        if isinstance(key, int):
            if not isinstance(node, list):
                raise ValueError(f"{path}: not a list at [{key}]")
            node.extend([None] * (key + 1 - len(node)))
            if last:
                node[key] = typed
            elif not isinstance(node[key], type(following)):
                node[key] = following
            node = node[key]
            continue
        if last:
            node[key] = typed
        else:
            if not isinstance(node.get(key), type(following)):
                node[key] = following
            node = node[key]


def ready_condition(status: str, reason: str, message: str) -> list[dict[str, Any]]:
    """Flux's conditions for a verdict: Ready, and Reconciling=True while it is in progress (the kstatus
    convention every Flux controller follows, fluxcd/pkg runtime/conditions)."""
    conditions = [{"type": "Ready", "status": status, "reason": reason, "message": message,
                   "lastTransitionTime": now()}]
    if status == "Unknown":
        conditions.append({"type": "Reconciling", "status": "True", "reason": "Progressing", "message": message,
                           "lastTransitionTime": now()})
    return conditions


def set_condition(status: dict[str, Any], generation: int, type_: str, state: str, reason: str,
                  message: str) -> None:
    """fluxcd/pkg runtime/conditions/setter.go Set: the condition carries the object's generation
    (observedGeneration); lastTransitionTime moves only when status, reason or message change."""
    conditions = status.setdefault("conditions", [])
    new = {"type": type_, "status": state, "reason": reason, "message": message, "observedGeneration": generation,
           "lastTransitionTime": now()}
    for i, old in enumerate(conditions):
        if old.get("type") == type_:
            if (old.get("status"), old.get("reason"), old.get("message")) == (state, reason, message):
                new["lastTransitionTime"] = old.get("lastTransitionTime", new["lastTransitionTime"])
            conditions[i] = new
            return
    conditions.append(new)


def delete_condition(status: dict[str, Any], type_: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]


def get_condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), None)


def mark_reconciling(status: dict[str, Any], generation: int, reason: str, message: str) -> None:
    """fluxcd/pkg runtime/conditions/setter.go MarkReconciling: Reconciling=True and no Stalled."""
    delete_condition(status, "Stalled")
    set_condition(status, generation, "Reconciling", "True", reason, message)


def mark_stalled(status: dict[str, Any], generation: int, reason: str, message: str) -> None:
    """fluxcd/pkg runtime/conditions/setter.go MarkStalled: Stalled=True and no Reconciling."""
    delete_condition(status, "Reconciling")
    set_condition(status, generation, "Stalled", "True", reason, message)


def get_ready(obj: dict[str, Any] | None) -> tuple[str, str]:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status")), str(condition.get("message", ""))
    return "Unknown", "not reconciled yet"


def substitute(text: str, values: dict[str, str]) -> str:
    """Flux post-build substitution (mediaops.yamlfiles.expand): an undefined variable without a default
    renders empty, as kustomize-controller does without strict substitution."""
    return expand(text, values, missing="")


def reference(obj: dict[str, Any]) -> dict[str, Any]:
    """What ``object_ready`` and ``stalled_object`` read of an object: its kind and name, and its namespace when it
    has one (a cluster-wide object has none)."""
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
            "metadata": {k: v for k, v in (obj.get("metadata") or {}).items() if k in ("namespace", "name")}}


def object_ready(sim: Any, obj: dict[str, Any]) -> tuple[bool, str]:
    """Whether an applied object is healthy, as Flux's health checks judge kinds it knows."""
    kind, meta = obj.get("kind"), obj.get("metadata") or {}
    res = BY_KIND.get((obj.get("apiVersion", "").rpartition("/")[0] if "/" in obj.get("apiVersion", "") else "",
                       str(kind)))
    if res is None:
        return True, ""
    live = sim.store.peek(res, meta.get("namespace", ""), meta.get("name", ""))  # read, never changed
    label = f"{kind}/{meta.get('namespace')}/{meta.get('name')}" if res.namespaced else f"{kind}/{meta.get('name')}"
    if live is None:
        return False, f"{label} (not found)"
    status = live.get("status") or {}
    if kind in ("Deployment", "StatefulSet"):
        want = int((live.get("spec") or {}).get("replicas", 1))
        have = int(status.get("readyReplicas", 0))
        current = status.get("observedGeneration", 0) >= live["metadata"].get("generation", 1)
        return (have >= want and current), f"{label} ({have}/{want} ready)"
    if kind in ("HelmRelease", "Kustomization", "ExternalSecret"):
        state, message = get_ready(live)
        current = status.get("observedGeneration") == live["metadata"].get("generation") or kind == "ExternalSecret"
        return (state == "True" and current), f"{label} (Ready={state}: {message})"
    if kind == "PersistentVolumeClaim":
        return status.get("phase") == "Bound", f"{label} ({status.get('phase', 'Pending')})"
    return True, ""


def stalled_object(sim: Any, obj: dict[str, Any]) -> str | None:
    """A Flux object kstatus calls Failed: Stalled=True for the generation it observed (fluxcd/cli-utils
    pkg/kstatus/status/generic.go checkGenericProperties). A retryable Ready=False is InProgress to kstatus:
    the health check waits for it until its timeout (fluxcd/pkg ssa ResourceManager.WaitForSet)."""
    if obj.get("kind") not in ("HelmRelease", "Kustomization"):
        return None
    res = _resource(obj)
    meta = obj.get("metadata") or {}
    live = sim.store.peek(res, meta.get("namespace", ""), meta.get("name", "")) if res else None  # read only
    if live is None:
        return None
    status = live.get("status") or {}
    if status.get("observedGeneration") != live["metadata"].get("generation"):
        return None
    stalled = get_condition(status, "Stalled")
    if stalled and stalled.get("status") == "True":
        message = get_ready(live)[1] or stalled.get("message", "")
        return f"{live['kind']}/{meta.get('namespace')}/{meta.get('name')} status: 'Failed' ({message})"
    return None


class Sources(Controller):
    name = "source-controller"
    watches = ("GitRepository", "HelmRepository", "OCIRepository", "HelmChart")

    def reconcile(self, namespace: str, name: str) -> float | None:
        for kind_name in self.watches:
            obj = self.store.find(self.res(kind_name), namespace, name)
            if obj is not None:
                return self._source(kind_name, obj)
        return None

    def _source(self, kind_name: str, obj: dict[str, Any]) -> float | None:
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        if spec.get("suspend"):
            return None
        annotations = meta.get("annotations") or {}
        requested = annotations.get(REQUESTED_AT)
        if requested and requested != (obj.get("status") or {}).get("lastHandledReconcileAt") and \
                self.sim.receiver_fires(requested):
            # The notification-controller's webhook Receiver asks too (a push fires it): it writes its own
            # requestedAt before this one is handled, and the newer request is the one handled.
            from datetime import UTC, datetime

            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
            self.sim.receiver_stamps.add(stamp)
            self.store.update(self.res(kind_name), meta.get("namespace", ""), meta["name"],
                              lambda o: o["metadata"].setdefault("annotations", {}).update({REQUESTED_AT: stamp}))
            return 0.0  # the update enqueues it again
        status = dict(obj.get("status") or {})
        status["observedGeneration"] = meta.get("generation", 1)
        if requested:
            status["lastHandledReconcileAt"] = requested
        failing = self.sim.failing(kind_name, meta.get("namespace", ""), meta["name"])
        if kind_name == "GitRepository":
            branch = (spec.get("ref") or {}).get("branch", "main")
            url = str(spec.get("url", ""))
            sha = ""
            if not self.sim.is_this_repository(meta.get("namespace", ""), meta["name"], url):
                # Another project's repository (joryirving/home-ops's fenrir CRDs): the rehearsal reaches no network,
                # so its clone fails as source-controller's does offline (internal/controller/
                # gitrepository_controller.go reconcileSource, with fluxcd/pkg git/gogit/clone.go's error).
                failing = failing or (f"failed to checkout and determine revision: unable to clone '{url}': the "
                                      "rehearsal reaches no other repository")
            else:
                try:
                    sha = self.sim.resolve(url, branch)
                except RuntimeError as exc:
                    failing = failing or str(exc)
            if failing:
                status["conditions"] = ready_condition("False", "GitOperationFailed", failing)
            else:
                revision = f"{branch}@sha1:{sha}"
                self.sim.checkout(str(spec.get("url", "")), sha)
                status["artifact"] = {"revision": revision, "lastUpdateTime": now(), "path": f"gitrepository/{sha}"}
                status["conditions"] = ready_condition("True", "Succeeded",
                                                       f"stored artifact for revision '{revision}'")
        elif kind_name == "HelmChart":
            # The chart a HelmRelease's chart.spec names, pulled from its HelmRepository: an unknown version
            # fails here, as source-controller's chart pull does.
            chart, version = str(spec.get("chart", "")), str(spec.get("version", ""))
            if not failing and not charts.known(chart, version):
                failing = (f"chart pull error: failed to get chart version for remote reference: no '{chart}' "
                           f"chart with version matching '{version}' found")
            if failing:
                # A chart pull error is retryable (source-controller internal/controller/helmchart_controller.go:
                # ErrChartPull is a Generic error, not Stalling, for an OCI repository): Ready=False,
                # Reconciling=True ProgressingWithRetry, and observedGeneration stays where it was
                # (internal/reconcile/reconcile.go ComputeReconcileResult).
                generation = int(meta.get("generation", 1))
                status["observedGeneration"] = (obj.get("status") or {}).get("observedGeneration", 0)
                status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
                set_condition(status, generation, "Ready", "False", "ChartPullError", failing)
                set_condition(status, generation, "Reconciling", "True", "ProgressingWithRetry",
                              f"building artifact: {failing}")
            else:
                status["artifact"] = {"revision": version, "lastUpdateTime": now()}
                status["conditions"] = ready_condition("True", "ChartPullSucceeded",
                                                       f"pulled '{chart}' chart with version '{version}'")
        else:
            tag = (spec.get("ref") or {}).get("tag", "latest")
            status["artifact"] = {"revision": f"{tag}@sha256:rehearsal" if kind_name == "OCIRepository"
                                  else "sha256:rehearsal-index", "lastUpdateTime": now()}
            status["conditions"] = (ready_condition("False", "FetchFailed", failing) if failing else
                                    ready_condition("True", "Succeeded", "stored artifact"))
        self._write(kind_name, obj, status)
        return interval(spec.get("interval"), 3600) * self.timing.interval_scale

    def _write(self, kind_name: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        old = {k: v for k, v in (obj.get("status") or {}).items()}
        if _same(old, status):
            return
        self.store.set_status(self.res(kind_name), obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                              status)


def _same(old: Any, new: Any) -> bool:
    """Status equality ignoring timestamps, so an unchanged reconcile writes nothing. JSON's values are compared by
    type as well (true is not 1 there, nor 1.0 the integer 1), as the API sees them."""
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        keys = old.keys() - _STAMPS
        return keys == new.keys() - _STAMPS and all(_same(old[k], new[k]) for k in keys)
    if isinstance(old, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


_STAMPS = frozenset(("lastTransitionTime", "lastUpdateTime"))


class BuildPool:
    """The threads `kubectl kustomize` runs in, beside the controllers: builds in the order asked for, except that a
    build a reconcile is waiting for goes before those only started ahead of need (``hurry``). Daemon threads: a
    process that ends does not wait for builds nobody needs any more."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.cond = threading.Condition()
        self.queue: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self.workers: list[threading.Thread] = []

    def submit(self, work: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self.cond:
            if not self.workers:
                for index in range(self.threads):
                    worker = threading.Thread(target=self._work, name=f"sim-kustomize-{index}", daemon=True)
                    worker.start()
                    self.workers.append(worker)
            self.queue.append((future, work))
            self.cond.notify()
        return future

    def hurry(self, future: Future[Any]) -> None:
        with self.cond:
            for index, (queued, work) in enumerate(self.queue):
                if queued is future:
                    del self.queue[index]
                    self.queue.appendleft((queued, work))
                    return

    def _work(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                future, work = self.queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except Exception as exc:  # the reconcile that waits for it says what went wrong
                future.set_exception(exc)
            else:
                future.set_result(result)


class SharedBuilds:
    """`kubectl kustomize` results every rehearsal shares (of the process, and through the cache directory of the
    processes after it), and the threads the builds run in.

    A build depends on the artifact's content, the path and the components, nothing else (a build that must
    write a file writes into a private copy of the artifact: ``Kustomizations._kustomize``): results are kept by
    the files the build can read (``build_inputs``: the same files under another commit or beside other changes
    build the same), else by the artifact's git tree, with the path in it, the components and the kubectl that
    built them. A result that names a rehearsal's own directory is not shared."""

    threads = 4  # kubectl kustomize runs beside the controllers (2 cores: the Go builds and the parsing overlap)
    kept_on_disk = 4096  # results in the cache directory; the oldest half goes when there are more

    def __init__(self, size: int = 1024) -> None:
        self.lock = threading.Lock()
        self.size = size
        self.results: OrderedDict[tuple[str, ...], list[dict[str, Any]] | str] = OrderedDict()
        self.pool = BuildPool(self.threads)

    def get(self, key: tuple[str, ...]) -> list[dict[str, Any]] | str | None:
        with self.lock:
            found = self.results.get(key)
            if found is not None:
                self.results.move_to_end(key)
                return found
        found = self._read(key)
        if found is not None:
            self._remember(key, found)
        return found

    def put(self, key: tuple[str, ...], result: list[dict[str, Any]] | str) -> None:
        self._remember(key, result)
        if isinstance(result, list):  # a failed build (kubectl killed, say) is tried again by the next process
            self._write(key, result)

    def _remember(self, key: tuple[str, ...], result: list[dict[str, Any]] | str) -> None:
        with self.lock:
            self.results[key] = result
            self.results.move_to_end(key)
            while len(self.results) > self.size:
                self.results.popitem(last=False)

    # Kept on disk too, so the next rehearsal process (`mediaops --sim …`, `sim up`) builds only what changed. The
    # file's name is a digest of the key and of what else shapes a stored result: the kubectl binary, and the
    # mediaops modules that prepare the checkout and parse kubectl's output (each file's size and modification
    # time, so another mediaops never reads this one's results).
    @staticmethod
    def _file(key: tuple[str, ...]) -> Path | None:
        from mediaops.config import cache_dir, file_stamps

        try:
            made = file_stamps([key[0]]) + _makers()
        except OSError:
            return None
        name = hashlib.sha256(json.dumps([*key, made]).encode()).hexdigest()[:32]
        return cache_dir() / "kustomize" / f"{name}.json"

    def _read(self, key: tuple[str, ...]) -> list[dict[str, Any]] | None:
        path = self._file(key)
        if path is None:
            return None
        try:
            found = json.loads(path.read_bytes())
        except (OSError, ValueError):  # none yet, or damaged: built again
            return None
        return found if isinstance(found, list) else None

    def _write(self, key: tuple[str, ...], result: list[dict[str, Any]]) -> None:
        path = self._file(key)
        if path is None:
            return
        from mediaops.config import keep_in_cache

        try:
            text = json.dumps(result)
        except (TypeError, ValueError):  # a value JSON cannot hold (a YAML timestamp): kept in memory only
            return
        keep_in_cache(path, text.encode(), most=self.kept_on_disk, pattern="*.json")


@functools.cache
def _makers() -> str:
    """The mediaops modules that prepare a checkout and parse kubectl's output, as this process loaded them."""
    from mediaops.config import file_stamps
    from mediaops.repo import yamlfiles
    from mediaops.sim import cluster

    return "\n" + file_stamps([__file__, yamlfiles.__file__, cluster.__file__])


class Kept:
    """Results a controller works out again and again from the same input, kept for every rehearsal of the process
    (the newest ``most``), each handed out as a new copy: kept as its pickle, loaded for each caller to change."""

    def __init__(self, most: int = 4096) -> None:
        self.most = most
        self.table: OrderedDict[Any, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            found = self.table.get(key)
            if found is not None:
                self.table.move_to_end(key)
        if found is None:
            found = pickle.dumps(make(), pickle.HIGHEST_PROTOCOL)
            with self.lock:
                self.table[key] = found
                while len(self.table) > self.most:
                    self.table.popitem(last=False)
        return pickle.loads(found)


BUILDS = SharedBuilds()
# post-build substitution results by the object (its pickle) and the values (Kustomizations._substituted)
SUBSTITUTIONS = Kept()
# SOPS documents opened, by the document (its pickle) and the keys tried (Kustomizations._decrypt)
DECRYPTED = Kept()
Build = tuple[str, str, tuple[str, ...]]  # the commit, the path built (absolute, in that commit's checkout), components


class Requested:
    """controller-runtime's GenerationChangedPredicate or fluxcd/pkg ReconcileRequestedPredicate, as Flux's
    controllers filter the events of their own kind (kustomization_manager.go, helmrelease_manager.go): an object
    created or deleted, a new generation, or a new ``reconcile.fluxcd.io/requestedAt``; not a status write. Keeps
    what it saw of each object."""

    def __init__(self) -> None:
        self.seen: dict[Key, tuple[Any, Any]] = {}

    def __call__(self, event: WatchEvent, key: Key) -> bool:
        if event.type == "DELETED":
            self.seen.pop(key, None)
            return True
        meta = event.obj.get("metadata") or {}
        asked = (meta.get("generation"), (meta.get("annotations") or {}).get(REQUESTED_AT))
        if event.type == "ADDED" or self.seen.get(key) != asked:
            self.seen[key] = asked
            return True
        return False


class Kustomizations(Controller):
    name = "kustomize-controller"
    watches = ("Kustomization", "GitRepository", "HelmRelease", "Deployment", "StatefulSet", "ExternalSecret",
               "PersistentVolumeClaim")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        # each build once per commit, path and components: started in the build threads as soon as a Kustomization
        # and its source's artifact are known (before its dependencies are ready), awaited when it is reconciled
        self.builds: dict[Build, Future[list[dict[str, Any]] | str]] = {}
        self.builds_lock = threading.Lock()
        self.health_since: dict[Key, Waited] = {}
        # A health check under way, by Kustomization: what it applied (kind and name, read live), for which
        # generation, revision and reconcile request. kustomize-controller applies once per reconcile and then
        # polls the applied objects' health until they are ready or its timeout (fluxcd/pkg ssa
        # ResourceManager.WaitForSet, called by kustomization_controller.go checkHealth): the polls here read the
        # same objects again, without building or applying (an object changed meanwhile stays changed until the next
        # reconcile, as on a cluster).
        self.checking: dict[Key, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}
        self.depends: dict[Key, frozenset[tuple[Any, Any]]] = {}
        self.requested = Requested()
        self.revisions: dict[Key, str] = {}  # each source's artifact revision, as seen

    def keys_for(self, event: WatchEvent) -> list[Key]:
        """What kustomize-controller's watches enqueue (internal/controller/kustomization_manager.go): a
        Kustomization for a new generation or a reconcile request (GenerationChangedPredicate,
        ReconcileRequestedPredicate), not for its status; those following a source whose artifact's revision
        changed, but for those Ready or Reconciling that already attempted it (kustomization_indexers.go
        requestsForRevisionChangeOf). Two more stand for what the controller does without a watch: a Kustomization
        whose dependency changed is enqueued at once (kustomize-controller requeues it after --requeue-dependency),
        and an object a health check under way waits for enqueues that Kustomization (its poller reads it)."""
        kind_name = event.resource.kind
        meta = event.obj.get("metadata") or {}
        owner = self._owner(event.obj)
        checked = [owner] if owner in self.checking else []
        if kind_name == "Kustomization":
            mine = (meta.get("namespace", ""), meta.get("name", ""))
            # the dependencies of every Kustomization in the store, as its events leave them (keys_for sees each one,
            # in order, under the store's lock): those that depend on this one are enqueued with it
            requested = self.requested(event, mine)
            if event.type == "DELETED":
                self.depends.pop(mine, None)
                return [mine, *checked]
            self.depends[mine] = frozenset((d.get("namespace") or mine[0], d.get("name"))
                                           for d in (event.obj.get("spec") or {}).get("dependsOn") or [])
            dependents = [key for key in sorted(self.depends) if mine in self.depends[key]]
            if requested:
                self._prefetch(event.obj)
                return [mine, *dependents, *checked]
            return [*dependents, *checked]
        if kind_name == "GitRepository":
            source = (meta.get("namespace", ""), meta.get("name", ""))
            revision = (((event.obj.get("status") or {}).get("artifact")) or {}).get("revision")
            if event.type == "DELETED" or not revision or self.revisions.get(source) == revision:
                return []
            self.revisions[source] = revision
            following = []
            for ks in self.store.scan(self.res("Kustomization")):
                ref = (ks.get("spec") or {}).get("sourceRef") or {}
                if (ref.get("namespace") or ks["metadata"].get("namespace"), ref.get("name")) != source:
                    continue
                status = ks.get("status") or {}
                reconciling = (get_condition(status, "Reconciling") or {}).get("status") == "True"
                if (get_ready(ks)[0] == "True" or reconciling) and status.get("lastAttemptedRevision") == revision:
                    continue
                self._prefetch(ks)
                following.append((ks["metadata"]["namespace"], ks["metadata"]["name"]))
            return following
        return checked

    @staticmethod
    def _owner(obj: dict[str, Any]) -> Key | None:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if KS_NAME in labels:
            return labels.get(KS_NAMESPACE, ""), labels[KS_NAME]
        return None

    def _prefetch(self, ks: dict[str, Any]) -> None:
        """Start the build a Kustomization will need once its source has an artifact (it has no side effect: the
        reconcile decides what to do with it, and a Kustomization that never gets that far wasted a build)."""
        spec = ks.get("spec") or {}
        if spec.get("suspend"):
            return
        ref = spec.get("sourceRef") or {}
        source = self.store.peek(self.res("GitRepository"), ref.get("namespace") or ks["metadata"].get("namespace", ""),
                                 ref.get("name", ""))
        revision = (((source or {}).get("status") or {}).get("artifact") or {}).get("revision")
        if revision and get_ready(source)[0] == "True":
            self._started(self._build_of(spec, revision))

    def _build_of(self, spec: dict[str, Any], revision: str) -> Build:
        root = self.sim.source_dir(revision.rpartition(":")[2])
        return (revision.rpartition(":")[2], os.path.normpath(os.path.join(root, str(spec.get("path", "./")))),
                tuple(str(c) for c in spec.get("components") or []))

    def stop(self) -> None:
        """Builds not started yet are not needed any more (the build threads serve every rehearsal of the process)."""
        with self.builds_lock:
            for future in self.builds.values():
                future.cancel()

    def _started(self, build: Build) -> Future[list[dict[str, Any]] | str]:
        with self.builds_lock:
            future = self.builds.get(build)
            if future is None:
                future = BUILDS.pool.submit(functools.partial(self._built, *build))
                self.builds[build] = future
            return future

    def _built(self, sha: str, path: str, components: tuple[str, ...]) -> list[dict[str, Any]] | str:
        """A build's result: the one the process already has for the same content, path and components, or a new
        ``kubectl kustomize`` run (kept for the next rehearsal unless it names this one's directories)."""
        root = self.sim.source_dir(sha)
        relative = os.path.relpath(path, root)
        # Kept by the files the build can read where they are known (a push that changes one app builds that app
        # again, not every Kustomization of the commit), else by the artifact's whole tree.
        files = build_inputs(root, path, components)
        tree = self.sim.tree(sha)
        shared = ((self.sim.kubectl, "files " + files, relative, *components) if files else
                  (self.sim.kubectl, tree, relative, *components) if tree and not relative.startswith("..") else None)
        if shared is not None:
            found = BUILDS.get(shared)
            if found is not None:
                return found
        result, portable = self._kustomize(Path(path), root, components)
        if shared is not None and portable and isinstance(result, list):
            # a failure is tried again by the next commit's build, as before builds were kept by their files (a
            # kubectl killed or out of time fails the same files once)
            BUILDS.put(shared, result)
        return result

    def _status(self, obj: dict[str, Any], ready: str, reason: str, message: str, *, progressing: str | None = None,
                **extra: Any) -> None:
        """kustomize-controller's status (internal/controller/kustomization_controller.go): ``progressing``
        marks Reconciling=True (reconcile: "Building manifests…", "Running health checks…", deleting Stalled);
        Ready=Unknown is a reconcile still running, anything else ends it as finalizeStatus does:
        lastHandledReconcileAt from the request; on Ready=True Reconciling removed and observedGeneration
        set; on Ready=False Reconciling (if any) becomes ProgressingWithRetry and observedGeneration keeps the
        generation last reconciled successfully (a retryable failure is not an observation)."""
        meta = obj["metadata"]
        generation = int(meta.get("generation", 1))
        status = clone(obj.get("status") or {})
        status.update(extra)
        if progressing is not None:
            mark_reconciling(status, generation, "Progressing", progressing)
        set_condition(status, generation, "Ready", ready, reason, message)
        if ready != "Unknown":
            requested = (meta.get("annotations") or {}).get(REQUESTED_AT)
            if requested:
                status["lastHandledReconcileAt"] = requested
            if ready == "True":
                delete_condition(status, "Reconciling")
                status["observedGeneration"] = generation
            else:
                reconciling = get_condition(status, "Reconciling")
                if reconciling:
                    set_condition(status, generation, "Reconciling", "True", "ProgressingWithRetry",
                                  reconciling.get("message", ""))
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("Kustomization"), meta["namespace"], meta["name"], status)

    def reconcile(self, namespace: str, name: str) -> float | None:
        stored = self.store.peek(self.res("Kustomization"), namespace, name)
        # a health check under way goes on only from this reconcile to the next that gets as far: one that stops
        # before (suspended, no artifact, a dependency or a failure) ends it, and the next applies again
        check = self.checking.pop((namespace, name), None)
        if stored is None:
            self.health_since.pop((namespace, name), None)
            return None
        # Read only, but for its status, which this reconcile replaces as it goes (``_apply``): a copy of the top
        # level, not of the whole object with its patches (``_status`` copies the status it changes).
        obj = dict(stored)
        spec = obj.get("spec") or {}
        if spec.get("suspend"):
            return None
        retry = self.timing.retry
        every = interval(spec.get("interval"), 3600) * self.timing.interval_scale
        ref = spec.get("sourceRef") or {}
        source = self.store.peek(self.res("GitRepository"), ref.get("namespace") or namespace, ref.get("name", ""))
        revision = ((source or {}).get("status") or {}).get("artifact", {}).get("revision")
        if not revision or get_ready(source)[0] != "True":
            self._status(obj, "False", "ArtifactFailed",
                         f"Source artifact not found, retrying in {spec.get('retryInterval', '2m')}")
            return retry
        for dep in spec.get("dependsOn") or []:
            other = self.store.peek(self.res("Kustomization"), dep.get("namespace") or namespace, dep.get("name", ""))
            ok = other is not None and get_ready(other)[0] == "True" and (other.get("status") or {}).get(
                "observedGeneration") == other["metadata"].get("generation")
            if not ok:
                # kustomization_controller.go checkDependencies; the NotFound is the API server's, read through
                # APIReader since kustomize-controller v1.4.0
                named = f"{dep.get('namespace') or namespace}/{dep.get('name')}"
                self._status(obj, "False", "DependencyNotReady",
                             f"dependency '{named}' is not ready" if other is not None else
                             f"dependency '{named}' not found: kustomizations.kustomize.toolkit.fluxcd.io "
                             f"\"{dep.get('name')}\" not found")
                return retry
        # From here on the revision is attempted: lastAttemptedRevision moves, lastAppliedRevision only on
        # success (kustomize-controller internal/controller/kustomization_controller.go reconcile).
        timeout = _go_duration(kustomization_timeout(spec))  # obj.GetTimeout().String() (kustomization_controller.go)
        building = f"Building manifests for revision {revision} with a timeout of {timeout}"
        checking = f"Running health checks for revision {revision} with a timeout of {timeout}"
        failing = self.sim.failing("Kustomization", namespace, name)
        if failing:
            self._status(obj, "False", "ReconciliationFailed", failing, progressing=building,
                         lastAttemptedRevision=revision)
            self.event(obj, "ReconciliationFailed", failing, "Warning")
            return retry
        attempt = (obj["metadata"].get("generation"), revision,
                   (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT))
        if check is not None and check[0] == attempt:
            applied = check[1]  # the health check goes on
        else:
            self.health_since.pop((namespace, name), None)  # a new attempt waits its whole timeout again
            build = self._started(self._build_of(spec, revision))
            if not build.done():
                # Nothing is written before the build: the reconcile goes on when it is ready, as if the build had
                # taken that long, and meanwhile the controller reconciles others (kustomize-controller runs 4 at
                # once).
                BUILDS.pool.hurry(build)
                build.add_done_callback(lambda _: self.sim.manager.enqueue(self.name, (namespace, name)))
                return DEFERRED
            try:
                objects = self._build(obj, revision)
                applied = self._apply(obj, objects)
            except BuildError as exc:
                self._status(obj, "False", exc.reason, str(exc), progressing=building, lastAttemptedRevision=revision)
                self.event(obj, exc.reason, str(exc), "Warning")
                return retry
        if spec.get("wait"):
            stalled = [label for label in (stalled_object(self.sim, o) for o in applied) if label]
            if stalled:
                self.health_since.pop((namespace, name), None)
                self._status(obj, "False", "HealthCheckFailed", "health check failed: failed early due to stalled "
                             "resources: [" + ", ".join(stalled) + "]", progressing=checking,
                             lastAttemptedRevision=revision)
                return retry
            waiting = [label for ok, label in (object_ready(self.sim, o) for o in applied) if not ok]
            if waiting:
                waited = self.health_since.setdefault((namespace, name), Waited())
                if waited.expired(self.sim.manager, self.timing.health_wait(kustomization_timeout(spec)),
                                  besides=self.name):
                    self._status(obj, "False", "HealthCheckFailed", "timeout waiting for: " + ", ".join(waiting),
                                 progressing=checking, lastAttemptedRevision=revision)
                    self.health_since.pop((namespace, name), None)
                    return retry
                self._status(obj, "Unknown", "Progressing", "Reconciliation in progress",
                             progressing=f"{checking}: waiting for " + ", ".join(waiting[:4])
                             + (f" and {len(waiting) - 4} more" if len(waiting) > 4 else ""),
                             lastAttemptedRevision=revision)
                self.checking[(namespace, name)] = (attempt, [reference(o) for o in applied])
                return self.timing.poll
        self.health_since.pop((namespace, name), None)
        self._status(obj, "True", "ReconciliationSucceeded", f"Applied revision: {revision}",
                     lastAppliedRevision=revision, lastAttemptedRevision=revision)
        return every

    # -- build ----------------------------------------------------------------------------------------
    def _build(self, obj: dict[str, Any], revision: str) -> list[dict[str, Any]]:
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        build = self._build_of(spec, revision)
        future = self._started(build)
        try:
            built = future.result()
        except CancelledError:  # the rehearsal stopped before the build started (stop): built here, then
            built = self._built(*build)
        except Exception:  # kubectl did not answer in time, or could not run: tried again on the next reconcile
            with self.builds_lock:
                if self.builds.get(build) is future:
                    del self.builds[build]
            raise
        if isinstance(built, str):
            raise BuildError("BuildFailed", built)
        # The build is shared by every reconcile of the same inputs: read here, and each object copied before it
        # changes (substitution and decryption make their own copies).
        objects = built
        if (spec.get("decryption") or {}).get("provider") == "sops":
            objects = [self._decrypt(o, meta["namespace"], spec) for o in built]
        copied = {id(o) for o, b in zip(objects, built, strict=True) if o is not b}
        values = self._variables(obj)
        target = spec.get("targetNamespace")
        common = spec.get("commonMetadata") or {}
        for item in objects:  # CRDs first: the objects of the kinds they define may come before them
            if item.get("kind") == "CustomResourceDefinition":
                kinds.register_crd(item)
        result = []
        for item in objects:
            if _resource(item) is None and "/" in str(item.get("apiVersion", "")) and item.get("kind"):
                # A custom kind whose CRD a chart installs: the rehearsal stores and lists it; no controller acts.
                kinds.register(str(item["apiVersion"]), str(item["kind"]))
            item_meta = item.get("metadata") or {}
            disabled = "disabled" in ((item_meta.get("annotations") or {}).get(SUBSTITUTE),
                                      (item_meta.get("labels") or {}).get(SUBSTITUTE))
            if not disabled and values is not None:  # Flux substitutes the YAML text, then parses it again
                item = self._substituted(item, values)
            elif id(item) not in copied:
                item = clone(item)
            for patch in spec.get("patches") or []:
                if selectors.target_matches(patch.get("target"), item):
                    item = _deep_merge(item, _patch_body(patch.get("patch") or "{}"))
            res = _resource(item)
            item_meta = item.setdefault("metadata", {})
            if res is not None and res.namespaced:
                if target:
                    item_meta["namespace"] = target
                item_meta.setdefault("namespace", meta["namespace"])
            labels = item_meta.setdefault("labels", {})
            labels.update(common.get("labels") or {})
            labels.update({KS_NAME: meta["name"], KS_NAMESPACE: meta["namespace"]})
            if common.get("annotations"):
                item_meta.setdefault("annotations", {}).update(common["annotations"])
            result.append(item)
        return result

    @staticmethod
    def _substituted(item: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
        """Post-build substitution of one object: its YAML text substituted, then parsed again. A Kustomization is
        reconciled many times over the same build and values, and the next rehearsal of the process builds the same
        objects: each result is kept for the process (``SUBSTITUTIONS``), by the object exactly as it was (its
        pickle) and the values, and handed out as a new copy (kept as its pickle, loaded for each)."""
        key = (pickle.dumps(item, pickle.HIGHEST_PROTOCOL), tuple(sorted(values.items())))
        return SUBSTITUTIONS.get(key, lambda: parse(substitute(
            yaml.dump(item, Dumper=DUMPER, sort_keys=False, width=1 << 20), values)))

    def _kustomize(self, path: Path, root: str,
                   components: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]] | str, bool]:
        """``kubectl kustomize`` of ``path`` in the checkout ``root``, and whether the result may be shared (it names
        no directory of this rehearsal). A path without kustomization.yaml gets one generated and ``components`` join
        the kustomization's own, as kustomize-controller does (generator.go), in a private copy of the artifact:
        kustomize-controller builds in a temporary directory of its own, so no build sees what another wrote."""
        if not path.is_dir():
            return f"kustomization path not found: {os.path.relpath(path, root)}", True
        generate = not any((path / n).is_file() for n in KUSTOMIZATION_FILES)
        if not (generate or components):
            return self._kubectl_kustomize(path, root, root)
        if os.path.relpath(path, root).startswith(".."):  # a path outside the artifact: built where it is
            _prepare(path, generate, components)
            return self._kubectl_kustomize(path, root, root)
        private = Path(tempfile.mkdtemp(prefix="build-", dir=self.sim.workdir))
        try:
            copied = private / Path(root).name
            # hard links: nothing is copied, and what is written replaces a link instead of writing through it
            _link_tree(root, copied)
            target = copied / os.path.relpath(path, root)
            _prepare(target, generate, components)
            return self._kubectl_kustomize(target, str(copied), root)
        finally:
            _remove_tree(private)

    def _kubectl_kustomize(self, path: Path, root: str, shown: str) -> tuple[list[dict[str, Any]] | str, bool]:
        # kustomize-controller builds with LoadRestrictionsNone (fluxcd/pkg kustomize/kustomize_generator.go):
        # a kustomization may list files outside its own folder (``../vars/cluster-settings.yaml``). GOGC=400 (unless
        # set): kubectl's Go runtime collects garbage less often; a build is a short-lived process with a small heap,
        # and a third less of its time goes to starting up (about 40 ms of CPU instead of 55).
        result = subprocess.run([self.sim.kubectl, "kustomize", "--load-restrictor=LoadRestrictionsNone", str(path)],
                                capture_output=True, text=True, timeout=60, env={"GOGC": "400", **os.environ})
        if result.returncode != 0:  # kustomize's error spans lines; the last ones say where
            stderr = result.stderr.replace(root, shown)  # the checkout's paths, not the private copy's
            lines = [line.strip().removeprefix("error: ") for line in stderr.splitlines() if line.strip()]
            detail = "; ".join(lines[:1] + lines[-2:] if len(lines) > 3 else lines) or "unknown error"
            return f"kustomize build failed: {detail}", shown not in detail and root not in detail
        return ([d for d in parse_all(result.stdout) if isinstance(d, dict)],
                shown not in result.stdout and root not in result.stdout)

    def _decrypt(self, item: dict[str, Any], namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
        if "sops" not in item:
            return item
        from mediaops.sim import sops

        ref = (spec.get("decryption") or {}).get("secretRef") or {}
        if not ref.get("name"):
            # No secretRef: the controller-level key (kustomize-controller --sops-age-secret, in its own
            # namespace); the rehearsal's controller holds flux-system/sops-age.
            namespace = "flux-system"
        secret_name = ref.get("name") or "sops-age"
        key = self.store.peek(self.res("Secret"), namespace, secret_name)
        if key is None:
            raise BuildError("DecryptionFailed", f"failed to decrypt: secret '{namespace}/{secret_name}' not found")
        identities = [base64.b64decode(v).decode().strip() for v in (key.get("data") or {}).values()]
        identities = [line for i in identities for line in i.splitlines() if line.startswith("AGE-SECRET-KEY-")]

        def opened() -> dict[str, Any]:
            try:  # kustomize wrote the document with its keys sorted: the MAC's order is gone (sops.decrypt)
                return sops.decrypt(item, identities, check_mac=False)
            except sops.ForeignKey:  # encrypted for the repository owner's key: rehearse with placeholders
                return sops.placeholders(item)
            except sops.SopsError as exc:
                raise BuildError("DecryptionFailed",
                                 f"failed to decrypt {item['metadata'].get('name')}: {exc}") from None

        # the same document opens the same with the same keys: every reconcile of a build reads it again
        return DECRYPTED.get((pickle.dumps(item, pickle.HIGHEST_PROTOCOL), tuple(identities)), opened)

    def _variables(self, obj: dict[str, Any]) -> dict[str, str] | None:
        post = (obj.get("spec") or {}).get("postBuild")
        if not post:
            return None
        namespace = obj["metadata"]["namespace"]
        values: dict[str, str] = {}
        for ref in post.get("substituteFrom") or []:
            kind_name = ref.get("kind", "ConfigMap")
            source = self.store.peek(self.res(kind_name), namespace, ref.get("name", ""))
            if source is None:
                if ref.get("optional"):
                    continue
                raise BuildError("BuildFailed", f"substitute from '{kind_name}/{ref.get('name')}' error: "
                                 f"{kind_name.lower()}s \"{ref.get('name')}\" not found")
            data = dict(source.get("data") or {})
            if kind_name == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in data.items()}
                data.update(source.get("stringData") or {})
            values.update({str(k): str(v) for k, v in data.items()})
        values.update({str(k): str(v) for k, v in (post.get("substitute") or {}).items()})
        return values

    # -- apply ------------------------------------------------------------------------------------------
    def _apply(self, obj: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        meta = obj["metadata"]
        def order(o: dict[str, Any]) -> tuple[int, str, str]:
            kind_name = str(o.get("kind", ""))
            rank = APPLY_ORDER.index(kind_name) if kind_name in APPLY_ORDER else len(APPLY_ORDER)
            return rank, kind_name, str(o["metadata"].get("name") or "")  # a name may have rendered empty (None)

        ordered = sorted(objects, key=order)
        # Every object is dry-run before any is applied (fluxcd/pkg ssa/manager_apply.go ApplyAll): one that cannot
        # be fails the reconcile with nothing applied, in ResourceManager.validationError's words.
        for item in ordered:
            res = _resource(item)
            if res is None:
                raise BuildError("ReconciliationFailed", f"{item.get('kind')}/{item['metadata'].get('name')} dry-run "
                                 f"failed: no matches for kind \"{item.get('kind')}\" in version "
                                 f"\"{item.get('apiVersion')}\"")
            if not item["metadata"].get("name"):  # a variable that rendered empty, say: client-go sends no request
                # for an object without a name (k8s.io/client-go rest/request.go Name), so the error has no reason
                raise BuildError("ReconciliationFailed",
                                 f"{_described(item, res)} dry-run failed, error: resource name may not be empty")
        entries = []
        for item in ordered:
            res = _resource(item)
            assert res is not None
            namespace = item["metadata"].get("namespace", "") if res.namespaced else ""
            if item.get("kind") == "Secret" and "stringData" in item:
                data = item.setdefault("data", {})
                for k, v in item.pop("stringData").items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            try:
                self.sim.apply(res, item)
            except ApiError as exc:
                if item.get("kind") == "Secret":  # validationError hides what a Secret's values were
                    raise BuildError("ReconciliationFailed", f"{_described(item, res)} {exc.reason.lower()}, error: "
                                     + ("secret is immutable" if "immutable" in exc.message else
                                        "data values must be of type string")) from None
                raise BuildError("ReconciliationFailed", f"{_described(item, res)} dry-run failed, reason: "
                                 f"{exc.reason}, error: {exc.message}") from None
            entries.append({"id": f"{namespace}_{item['metadata']['name']}_{res.group}_{res.kind}",
                            "v": res.version})
        previous = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
        if (obj.get("spec") or {}).get("prune"):
            keep = {e["id"] for e in entries}
            for entry in previous:
                if entry["id"] not in keep:
                    self._prune(entry["id"])
        status = dict(obj.get("status") or {})
        status["inventory"] = {"entries": entries}
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("Kustomization"), meta["namespace"], meta["name"], status)
            obj["status"] = status
        return ordered

    def _prune(self, entry: str) -> None:
        namespace, rest = entry.split("_", 1)
        kind_name = rest.rpartition("_")[2]
        group_name = rest.rpartition("_")[0]
        name, _, group = group_name.rpartition("_")
        res = BY_KIND.get((group, kind_name))
        if res is None:
            return
        live = self.store.peek(res, namespace, name)
        if live is None or selectors.prune_disabled(live["metadata"]):
            return
        if kind_name == "Kustomization" and (live.get("spec") or {}).get("prune"):
            # Flux's finalizer: a deleted Kustomization garbage-collects what it applied first.
            for owned in ((live.get("status") or {}).get("inventory") or {}).get("entries") or []:
                self._prune(owned["id"])
        try:
            self.store.delete(res, namespace, name)
        except ApiError:
            pass
        if kind_name == "HelmRelease":
            self.sim.uninstall(namespace, name)


class BuildError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _described(item: dict[str, Any], res: Resource) -> str:
    """An object as Flux names it in messages: Kind/namespace/name, Kind/name for a cluster-scoped one (fluxcd/pkg
    ssa/utils FmtUnstructured)."""
    namespace = (item.get("metadata") or {}).get("namespace") if res.namespaced else ""
    return f"{item.get('kind')}/" + (f"{namespace}/" if namespace else "") + str(item["metadata"].get("name") or "")


def _resource(item: dict[str, Any]) -> Resource | None:
    api = str(item.get("apiVersion", ""))
    return BY_KIND.get((api.rpartition("/")[0] if "/" in api else "", str(item.get("kind", ""))))


@functools.lru_cache(maxsize=1024)
def _values_text(text: str) -> Any:
    """Chart values from a ConfigMap or Secret, parsed once for the process (every reconcile of the release reads
    them). Never changed: ``_deep_merge`` copies what it takes."""
    return parse(text)


@functools.lru_cache(maxsize=1024)
def _patch_body(text: str) -> dict[str, Any]:
    """A Kustomization's inline patch as merged into its objects (its metadata names the target only), parsed once
    for the process: every reconcile of every Kustomization a cluster Kustomization patches reads the same text.
    Never changed: ``_deep_merge`` copies what it takes."""
    body = yaml.load(text, Loader=LOADER) or {}
    body.pop("metadata", None)
    return body


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in (maps merged key by key, anything else replaced), neither changed: what a
    deep copy of ``base`` merged with a deep copy of each of ``extra``'s values gives, and so shared sub-objects (YAML
    anchors) as shared. Each part is copied once, not again at every level of the merge."""
    merged = {k for k, v in extra.items() if isinstance(v, dict) and isinstance(base.get(k), dict)}
    kept = clone({k: v for k, v in base.items() if k not in extra})
    out: dict[str, Any] = {}
    for key in base:
        if key in merged:
            out[key] = _deep_merge(base[key], extra[key])
        elif key in extra:
            out[key] = clone(extra[key])
        else:
            out[key] = kept[key]
    for key, value in extra.items():
        if key not in base:
            out[key] = clone(value)
    return out


def build_inputs(root: str, path: str, components: tuple[str, ...] = ()) -> str | None:
    """A digest of every file `kubectl kustomize` can read building ``path`` with ``components`` in the artifact
    ``root`` (their paths in it and their bytes), or None when that is not known for sure.

    kustomize reads the kustomization in the folder it builds and what it names, relative to the naming file's
    folder; a name can leave the folder only through ``..``. So: every file under ``path`` and under each component,
    and for every kustomization among them, every file or folder that any ``..`` in any of its strings names
    (``resources``, ``components``, a generator's ``key=../file``, a patch's ``path``...: all of its strings are
    looked at, not only the fields known today), followed in turn. Not known for sure (None, and the build is kept
    by the whole tree): a name that leaves the artifact or names nothing, a kustomization that cannot be parsed, a
    symbolic link. Absolute names are not followed (kustomize would read the machine's own file; a Flux build
    would fail on it)."""
    top = os.path.normpath(root)
    digest = hashlib.sha256()
    pending = [os.path.normpath(path), *(os.path.normpath(os.path.join(path, c)) for c in components)]
    done: set[str] = set()
    while pending:
        where = pending.pop()
        if where in done:
            continue
        done.add(where)
        inside = os.path.relpath(where, top)
        # a symbolic link anywhere on the way: kustomize would follow it, and `..` from there is not where the
        # text says
        if inside.startswith("..") or os.path.realpath(where) != os.path.realpath(top) + (
                "" if inside == "." else os.sep + inside):
            return None
        if os.path.isfile(where):
            files = [(os.path.dirname(where), os.path.basename(where))]
        elif os.path.isdir(where):
            files = []
            for folder, folders, names in os.walk(where):
                folders.sort()
                if any(os.path.islink(os.path.join(folder, f)) for f in folders):
                    return None
                files.extend((folder, name) for name in sorted(names))
        else:
            return None  # kustomize fails on it: what would make it build is not known
        digest.update(b"\0" + inside.encode())
        for folder, name in files:
            full = os.path.join(folder, name)
            if os.path.islink(full):
                return None
            try:
                data = Path(full).read_bytes()
            except OSError:
                return None
            digest.update(f"\0{os.path.relpath(full, top)}\0{len(data)}\0".encode() + data)
            # a kustomization, and any YAML file that names a path up (a generator's or transformer's
            # configuration: kustomize resolves its `files:` and `path:` from the kustomization's folder too)
            if name in KUSTOMIZATION_FILES or (name.endswith((".yaml", ".yml")) and b".." in data):
                named = _named_outside(folder, data, name in KUSTOMIZATION_FILES)
                if named is None:
                    return None
                pending.extend(named)
    return digest.hexdigest()


def _named_outside(folder: str, data: bytes, kustomization: bool = True) -> list[str] | None:
    """The paths a kustomization's strings (or another YAML file's) name through ``..``, resolved from the
    folder (None: a kustomization that cannot be parsed, or another file that cannot and names a path up)."""
    text = data.decode("utf-8", errors="replace")
    try:
        documents = parse_all(text)
    except Exception:  # yaml.YAMLError: kustomize says what is wrong with it
        return None if kustomization or "../" in text else []
    named: list[str] = []
    stack: list[Any] = list(documents)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and ".." in value:
            for word in value.replace("=", " ").split():
                up = "../" in word or word == ".." or word.endswith("/..")  # not "loading..." in a value
                if up and not word.startswith("/"):
                    named.append(os.path.normpath(os.path.join(folder, word)))
    return named


def _link_tree(source: str, target: Path) -> None:
    """``target``, a copy of the tree ``source`` made of hard links (symbolic links kept as they are). GNU cp makes
    it outside Python: in a build thread, copying file by file in Python held the interpreter from the controllers
    (a cold rehearsal of a large repository spent most of its build threads' time in copytree and rmtree)."""
    if shutil.which("cp") and subprocess.run(["cp", "-al", source, str(target)], capture_output=True).returncode == 0:
        return
    shutil.rmtree(target, ignore_errors=True)  # another cp (BSD's has no -l), or another file system: file by file
    shutil.copytree(source, target, symlinks=True, copy_function=_link)


def _remove_tree(path: Path) -> None:
    if not (shutil.which("rm") and subprocess.run(["rm", "-rf", str(path)], capture_output=True).returncode == 0):
        shutil.rmtree(path, ignore_errors=True)


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _prepare(path: Path, generate: bool, components: tuple[str, ...]) -> None:
    """What kustomize-controller writes before it builds (generator.go): a kustomization.yaml where there is none,
    and ``spec.components`` added to the kustomization's own."""
    if generate:
        _generate_kustomization(path)
    if components:
        kfile = next(path / n for n in KUSTOMIZATION_FILES if (path / n).is_file())
        spec = parse(kfile.read_text()) or {}
        spec["components"] = [*(spec.get("components") or []), *components]
        kfile.unlink()  # a hard link to the checkout's file: replaced, not written through
        kfile.write_text(yaml.dump(spec, Dumper=DUMPER, sort_keys=False))


def _generate_kustomization(path: Path) -> None:
    """What kustomize-controller does for a path without kustomization.yaml: list what is below."""
    resources = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and any((child / n).is_file() for n in ("kustomization.yaml", "kustomization.yml")):
            resources.append(child.name)
        elif child.is_dir():
            _generate_kustomization(child)
            resources.append(child.name)
        elif child.suffix in (".yaml", ".yml"):
            resources.append(child.name)
    (path / "kustomization.yaml").write_text(yaml.dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources},
        Dumper=DUMPER))


class HelmReleases(Controller):
    name = "helm-controller"
    watches = ("HelmRelease", "Deployment", "StatefulSet", "ConfigMap", "Secret", "HelmChart", "OCIRepository")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.runs: dict[Key, dict[str, Any]] = {}  # Helm actions waiting for their workloads
        self.rendered: dict[tuple[str, str, int], list[dict[str, Any]]] = {}  # each release's objects
        self.oci_revisions: dict[tuple[str, str], str] = {}  # the artifact revision each OCIRepository last had
        self.requested = Requested()

    def keys_for(self, event: WatchEvent) -> list[Key]:
        """What helm-controller's watches enqueue (internal/controller/helmrelease_manager.go): a release for a new
        generation or a reconcile request (GenerationChangedPredicate, ReconcileRequestedPredicate), not for its
        status; the releases of a chart source whose revision changed. Beyond the watches: a release whose
        dependency changed is enqueued at once (the controller requeues it after --requeue-dependency), and a
        workload of a release whose Helm action waits for it enqueues it (Helm's wait polls it)."""
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "HelmRelease":
            mine = (meta.get("namespace", ""), meta.get("name", ""))
            dependents = [(h["metadata"]["namespace"], h["metadata"]["name"])
                          for h in self.store.scan(self.res("HelmRelease"))
                          if any(d.get("name") == mine[1] for d in (h.get("spec") or {}).get("dependsOn") or [])]
            return [mine, *dependents] if self.requested(event, mine) else dependents
        if event.resource.kind == "HelmChart":  # <namespace>-<name> of the release it was made for
            releases = self.store.scan(self.res("HelmRelease"))
            return [(h["metadata"]["namespace"], h["metadata"]["name"]) for h in releases
                    if f"{h['metadata']['namespace']}-{h['metadata']['name']}" == meta.get("name")]
        if event.resource.kind == "OCIRepository":
            # helm-controller internal/controller/helmrelease_manager.go watches OCIRepositories with
            # SourceRevisionChangePredicate (an artifact appeared or its revision changed), then
            # helmrelease_indexers.go requestsForOCIRepositoryChange: the releases whose chartRef names it (the
            # HelmRelease's namespace when unset).
            revision = ((event.obj.get("status") or {}).get("artifact") or {}).get("revision")
            source = (meta.get("namespace", ""), meta.get("name", ""))
            if not revision or self.oci_revisions.get(source) == revision:
                return []
            self.oci_revisions[source] = revision
            found = []
            for release in self.store.scan(self.res("HelmRelease")):
                ref = (release.get("spec") or {}).get("chartRef") or {}
                if (ref.get("kind", "OCIRepository") == "OCIRepository" and ref.get("name") == meta.get("name")
                        and (ref.get("namespace") or release["metadata"]["namespace"]) == meta.get("namespace")):
                    found.append((release["metadata"]["namespace"], release["metadata"]["name"]))
            return found
        labels = meta.get("labels") or {}
        if HR_NAME in labels:
            owner = (labels.get(HR_NAMESPACE, meta.get("namespace", "")), labels[HR_NAME])
            return [owner] if owner in self.runs else []
        if event.resource.kind in ("ConfigMap", "Secret") and labels.get(WATCH_LABEL) == "Enabled":
            # helm-controller watches the ConfigMaps and Secrets valuesFrom names only when they carry the label of
            # --watch-configs-label-selector (reconcile.fluxcd.io/watch=Enabled by default; helmrelease_manager.go
            # WatchConfigsPredicate, docs/spec/v2/helmreleases.md): another changed in place waits for the interval
            return [(h["metadata"]["namespace"], h["metadata"]["name"])
                    for h in self.store.scan(self.res("HelmRelease"))
                    if h["metadata"]["namespace"] == meta.get("namespace") and any(
                        v.get("kind", "ConfigMap") == event.resource.kind and v.get("name") == meta.get("name")
                        for v in (h.get("spec") or {}).get("valuesFrom") or [])]
        return []

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("HelmRelease"), meta["namespace"], meta["name"], status)

    def _finish(self, obj: dict[str, Any], status: dict[str, Any], *, observed: bool) -> None:
        """The deferred patch of helm-controller's Reconcile (internal/controller/helmrelease_controller.go):
        lastHandledReconcileAt always; observedGeneration only when the reconcile ended without error and
        without a requeue, or with a terminal error (patch.WithStatusObservedGeneration, fluxcd/pkg
        runtime/patch/options.go). errWaitForDependency, errWaitForChart, ErrMustRequeue and retryable errors
        leave it where it was."""
        requested = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
        if requested:
            status["lastHandledReconcileAt"] = requested
        if observed:
            status["observedGeneration"] = int(obj["metadata"].get("generation", 1))
        self._write(obj, status)

    def _chart(self, obj: dict[str, Any]) -> tuple[str, str, str | None]:
        """(chart, version, error)."""
        spec, namespace = obj.get("spec") or {}, obj["metadata"]["namespace"]
        if spec.get("chartRef"):
            ref = spec["chartRef"]
            repo = self.store.peek(self.res(ref.get("kind", "OCIRepository")), ref.get("namespace") or namespace,
                                   ref.get("name", ""))
            if repo is None:
                return "", "", f"chartRef {ref.get('kind')}/{ref.get('name')} not found"
            repo_spec = repo.get("spec") or {}
            chart_name = str(repo_spec.get("url") or ref.get("name", "")).rstrip("/").rpartition("/")[2]
            return chart_name, str((repo_spec.get("ref") or {}).get("tag", "")), None
        chart = ((spec.get("chart") or {}).get("spec")) or {}
        source = chart.get("sourceRef") or {}
        repo = self.store.peek(self.res(source.get("kind", "HelmRepository")), source.get("namespace") or namespace,
                               source.get("name", ""))
        if repo is None:
            return str(chart.get("chart")), str(chart.get("version")), (
                f"HelmRepository '{source.get('namespace') or namespace}/{source.get('name')}' not found")
        return str(chart.get("chart", "")), str(chart.get("version", "")), None

    def _helm_chart(self, obj: dict[str, Any], chart: str, version: str) -> str | None:
        """helm-controller's HelmChart ``<namespace>-<name>`` in the HelmRepository's namespace, made or updated
        from chart.spec; None when it is ready, else why not, as helm-controller's isReady words it
        (internal/controller/helmrelease_controller.go): the HelmChart's Ready message while it has not
        observed its generation and says Ready=False, its Stalled message, or that it has no artifact."""
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        source = chart_spec.get("sourceRef") or {}
        namespace = source.get("namespace") or meta["namespace"]
        name = f"{meta['namespace']}-{meta['name']}"
        wanted = {"chart": chart, "version": version, "sourceRef": {"kind": source.get("kind", "HelmRepository"),
                                                                    "name": source.get("name", "")},
                  "interval": chart_spec.get("interval", "1h")}
        live = self.store.peek(self.res("HelmChart"), namespace, name)  # read, never changed
        if live is None or {k: (live.get("spec") or {}).get(k) for k in wanted} != wanted:
            live = self.sim.apply(self.res("HelmChart"), {"apiVersion": "source.toolkit.fluxcd.io/v1",
                                                          "kind": "HelmChart",
                                                          "metadata": {"name": name, "namespace": namespace},
                                                          "spec": wanted})
        status = live.get("status") or {}
        state, message = get_ready(live)
        stalled = get_condition(status, "Stalled")
        if status.get("observedGeneration") != live["metadata"].get("generation"):
            why = message if state == "False" else "latest generation of object has not been reconciled"
        elif stalled and stalled.get("status") == "True":
            why = str(stalled.get("message", ""))
        elif not status.get("artifact"):
            why = "does not have an artifact"
        elif (status.get("artifact") or {}).get("revision") != version:
            why = "latest generation of object has not been reconciled"
        else:
            return None
        return f"HelmChart '{namespace}/{name}' is not ready: {why}"

    def _values(self, obj: dict[str, Any]) -> dict[str, Any]:
        spec, namespace = obj.get("spec") or {}, obj["metadata"]["namespace"]
        merged: dict[str, Any] = {}
        for ref in spec.get("valuesFrom") or []:
            kind_name, key = ref.get("kind", "ConfigMap"), ref.get("valuesKey", "values.yaml")
            source = self.store.peek(self.res(kind_name), namespace, ref.get("name", ""))
            data = dict((source or {}).get("data") or {})
            if kind_name == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in data.items()}
            if source is None or key not in data:
                if ref.get("optional"):
                    continue
                raise BuildError("InstallFailed", f"could not resolve {kind_name} chart values reference "
                                 f"'{namespace}/{ref.get('name')}' with key '{key}'")
            if ref.get("targetPath"):  # the value at that path, as `helm --set` (or --set-literal) puts it
                try:
                    set_path(merged, str(ref["targetPath"]), data[key], literal=bool(ref.get("literal")))
                except ValueError as exc:
                    raise BuildError("InstallFailed", f"unable to merge value from key '{key}' in {kind_name} "
                                     f"'{namespace}/{ref.get('name')}' into target path "
                                     f"'{ref['targetPath']}': {exc}") from None
                continue
            values = _values_text(data[key])
            if values is not None and not isinstance(values, dict):
                raise BuildError("InstallFailed", f"unable to read values from key '{key}' in {kind_name} "
                                 f"'{namespace}/{ref.get('name')}': not a map of values")
            merged = _deep_merge(merged, values or {})
        return _deep_merge(merged, spec.get("values") or {})

    # -- the release: helm-controller internal/reconcile/atomic_release.go, run as a state machine --------------
    # The real AtomicRelease runs install/upgrade, its health wait and the remediation in one reconcile; here a
    # Helm action waiting for its workloads is a ``run`` the next reconciles pick up, and the status shows what
    # the real controller patches meanwhile (Reconciling=True, Ready=Unknown "Running 'upgrade' action …").
    def reconcile(self, namespace: str, name: str) -> float | None:
        obj = self.store.find(self.res("HelmRelease"), namespace, name)
        if obj is None:
            self.runs.pop((namespace, name), None)
            return None
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        if spec.get("suspend"):
            return None
        generation = int(meta.get("generation", 1))
        status = clone(obj.get("status") or {})
        run = self.runs.get((namespace, name))
        if run is not None:
            if run["generation"] == generation:
                return self._await(obj, status, run)
            # A new generation while the action waits: the real controller cancels the wait and finds the
            # release locked (pending-*), which unlock.go marks failed.
            self.runs.pop((namespace, name), None)
            history = status.get("history") or []
            if history and str(history[0].get("status", "")).startswith("pending"):
                history[0]["status"] = "failed"
        # helm-controller internal/controller/helmrelease_controller.go reconcileRelease
        mark_reconciling(status, generation, "Progressing", "Fulfilling prerequisites")
        for dep in spec.get("dependsOn") or []:
            other = self.store.peek(self.res("HelmRelease"), dep.get("namespace") or namespace, dep.get("name", ""))
            if other is None or get_ready(other)[0] != "True" or (other.get("status") or {}).get(
                    "observedGeneration") != other["metadata"].get("generation"):
                set_condition(status, generation, "Ready", "False", "DependencyNotReady",
                              f"dependency '{dep.get('namespace') or namespace}/{dep.get('name')}' is not ready")
                self._finish(obj, status, observed=False)  # errWaitForDependency
                return self.timing.retry
        chart, version, error = self._chart(obj)
        if error is None and not spec.get("chartRef"):
            error = self._helm_chart(obj, chart, version)
        elif error is None and not charts.known(chart, version):
            ref = spec["chartRef"]
            error = (f"{ref.get('kind', 'OCIRepository')} '{ref.get('namespace') or namespace}/{ref.get('name')}' "
                     f"is not ready: chart pull error: no '{chart}' chart with version matching '{version}' found")
        if error:
            # isSourceReady false: Ready=False SourceNotReady, retried (errWaitForChart): no Stalled, and
            # observedGeneration stays; the HelmChart's own failure is the message.
            set_condition(status, generation, "Ready", "False", "SourceNotReady", error)
            self._finish(obj, status, observed=False)
            return self.timing.retry
        try:
            values = self._values(obj)
        except BuildError as exc:
            set_condition(status, generation, "Ready", "False", "ValuesError", str(exc))
            self.event(obj, "ValuesError", str(exc), "Warning")
            self._finish(obj, status, observed=False)
            return self.timing.retry
        digest = hashlib.sha256(json.dumps([chart, version, values], sort_keys=True).encode()).hexdigest()[:16]
        annotations = meta.get("annotations") or {}
        # internal/action/reset.go MustResetFailures: a new generation, chart version or values, or a resetAt
        # request (api/v2/annotations.go ShouldHandleResetRequest) clears the failure counters.
        reset = _handle_request(status, annotations, RESET_AT, "lastHandledResetAt")
        if (status.get("lastAttemptedGeneration") != generation or status.get("lastAttemptedRevision") != version
                or status.get("lastAttemptedConfigDigest") != digest or reset):
            for counter in ("failures", "installFailures", "upgradeFailures"):
                status.pop(counter, None)
        status.update(lastAttemptedGeneration=generation, lastAttemptedRevision=version,
                      lastAttemptedConfigDigest=digest)
        run = {"generation": generation, "previous": [], "chart": chart, "version": version, "values": values,
               "digest": digest}
        return self._atomic(obj, status, run)

    def _remediation(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
        """The active remediation (api/v2/helmrelease_types.go GetActiveRemediation): install's (retries 0,
        strategy uninstall, remediateLastFailure false) or upgrade's (retries 0, strategy rollback,
        remediateLastFailure default retries > 0); retries -1 is unlimited."""
        action = status.get("lastAttemptedReleaseAction")
        if action not in ("install", "upgrade"):
            return None
        config = (((obj.get("spec") or {}).get(action) or {}).get("remediation")) or {}
        retries = int(config.get("retries", 0) or 0)
        last = config.get("remediateLastFailure")
        count = int(status.get(f"{action}Failures", 0) or 0)
        return {"action": action, "retries": retries, "count": count,
                "exhausted": retries >= 0 and count > retries,
                "remediate_last": bool(last) if last is not None else (action == "upgrade" and retries > 0),
                "strategy": "uninstall" if action == "install" else str(config.get("strategy") or "rollback")}

    def _exhausted(self, obj: dict[str, Any], status: dict[str, Any], action: str) -> bool:
        config = (((obj.get("spec") or {}).get(action) or {}).get("remediation")) or {}
        retries = int(config.get("retries", 0) or 0)
        return retries >= 0 and int(status.get(f"{action}Failures", 0) or 0) > retries

    def _next(self, obj: dict[str, Any], status: dict[str, Any], run: dict[str, Any],
              forced: bool) -> tuple[str | None, str | None]:
        """(action, stall reason) for the release's state: AtomicRelease.actionForState."""
        history = status.get("history") or []
        latest = history[0] if history else None
        generation = int(obj["metadata"].get("generation", 1))
        if latest is None or latest.get("status") == "uninstalled":
            if self._exhausted(obj, status, "install") and not forced:
                return None, "RetriesExceeded"
            return "install", None
        if latest.get("status") == "failed":
            remediation = self._remediation(obj, status)
            if remediation is None or remediation["count"] <= 0 or forced:
                return "upgrade", None
            if remediation["exhausted"] and not remediation["remediate_last"]:
                return None, "RetriesExceeded"
            if remediation["strategy"] == "uninstall":
                return "uninstall", None
            if self._previous(obj, status) is None:
                return None, "MissingRollbackTarget"
            return "rollback", None
        if latest.get("digest") != run["digest"]:
            if self._exhausted(obj, status, "upgrade") and not forced:
                return None, "RetriesExceeded"
            return "upgrade", None
        if forced:
            return "upgrade", None
        released, remediated = get_condition(status, "Released"), get_condition(status, "Remediated")
        full, versioned = self._names(obj, latest)
        if remediated and remediated.get("status") == "True":
            delete_condition(status, "Remediated")
            set_condition(status, generation, "Released", "True", "UpgradeSucceeded",
                          f"Helm upgrade succeeded for release {full} with chart {versioned}")
        elif released and released.get("reason") in ("InstallFailed", "UpgradeFailed"):
            verb = "Install" if released.get("reason") == "InstallFailed" else "Upgrade"
            set_condition(status, generation, "Released", "True", f"{verb}Succeeded",
                          f"Helm {verb.lower()} succeeded for release {full} with chart {versioned}")
        return None, None

    @staticmethod
    def _names(obj: dict[str, Any], snapshot: dict[str, Any]) -> tuple[str, str]:
        meta = obj["metadata"]
        return (f"{meta['namespace']}/{meta['name']}.v{snapshot.get('version')}",
                f"{snapshot.get('chartName')}@{snapshot.get('chartVersion')}")

    def _previous(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
        """The release a rollback goes back to (api/v2/snapshot_types.go Snapshots.Previous): the newest
        earlier one that was deployed or superseded, whose objects the controller still knows."""
        for snapshot in (status.get("history") or [])[1:]:
            key = (obj["metadata"]["namespace"], obj["metadata"]["name"], int(snapshot.get("version", 0)))
            if snapshot.get("status") in ("deployed", "superseded") and key in self.rendered:
                return snapshot
        return None

    def _atomic(self, obj: dict[str, Any], status: dict[str, Any], run: dict[str, Any]) -> float | None:
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        generation = int(meta.get("generation", 1))
        every = interval((obj.get("spec") or {}).get("interval"), 3600) * self.timing.interval_scale
        annotations = meta.get("annotations") or {}
        while True:
            forced = _handle_request(status, annotations, FORCE_AT, "lastHandledForceAt")
            action, stall = self._next(obj, status, run, forced)
            if stall == "RetriesExceeded":
                remediation = self._remediation(obj, status)
                mark_stalled(status, generation, "RetriesExceeded",
                             f"Failed to {status.get('lastAttemptedReleaseAction')} after "
                             f"{remediation['count'] if remediation else 0} attempt(s)")
                return self._terminal(obj, status)
            if stall == "MissingRollbackTarget":
                mark_stalled(status, generation, "MissingRollbackTarget", "Failed to perform remediation: missing "
                             "target release for rollback: cannot remediate failed release")
                return self._terminal(obj, status)
            if action is None:  # nothing left to do: summarize; Ready=True also clears Stalled
                delete_condition(status, "Reconciling")
                _summarize(status, generation)
                self.runs.pop((namespace, name), None)
                self._finish(obj, status, observed=True)
                return every
            kind_ = "remediate" if action in ("rollback", "uninstall") else "release"
            if kind_ in run["previous"]:  # cleanReleaseStrategy.MustContinue: each kind once per reconcile
                remediation = self._remediation(obj, status)
                if remediation is None or not remediation["exhausted"]:
                    return self._requeue(obj, status)
                delete_condition(status, "Reconciling")
                self.runs.pop((namespace, name), None)
                self._finish(obj, status, observed=True)
                return every
            reconciling = (f"Running '{action}' action with timeout of "
                           f"{_go_duration(release_timeout(obj.get('spec') or {}, action))}")
            mark_reconciling(status, generation, "Progressing", reconciling)
            if kind_ == "release":
                set_condition(status, generation, "Ready", "Unknown", "Progressing", reconciling)
                return self._release(obj, status, run, action)
            self._remediate(obj, status, action)
            run["previous"].append("remediate")
            # cleanReleaseStrategy.MustStop after a remediation: retry while retries remain (or after an
            # uninstall that follows an upgrade), else Stalled RetriesExceeded
            remediation = self._remediation(obj, status)
            if remediation is None or not remediation["exhausted"] or (
                    remediation["action"] == "upgrade" and remediation["strategy"] == "uninstall"):
                return self._requeue(obj, status)
            action_name = status.get("lastAttemptedReleaseAction")
            mark_stalled(status, generation, "RetriesExceeded",
                         f"Failed to {action_name} after {remediation['count']} attempt(s)")
            return self._terminal(obj, status)

    def _terminal(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        """ErrExceededMaxRetries / ErrMissingRollbackTarget are terminal errors: observedGeneration is set and
        nothing is retried until a new generation or a forceAt/resetAt request."""
        self.runs.pop((obj["metadata"]["namespace"], obj["metadata"]["name"]), None)
        self._finish(obj, status, observed=True)
        return None

    def _requeue(self, obj: dict[str, Any], status: dict[str, Any]) -> float:
        """ErrMustRequeue: Reconciling=True ProgressingWithRetry with Ready's message, observedGeneration kept."""
        ready = get_condition(status, "Ready") or {}
        mark_reconciling(status, int(obj["metadata"].get("generation", 1)), "ProgressingWithRetry",
                         str(ready.get("message", "")))
        self.runs.pop((obj["metadata"]["namespace"], obj["metadata"]["name"]), None)
        self._finish(obj, status, observed=False)
        return self.timing.poll

    def _release(self, obj: dict[str, Any], status: dict[str, Any], run: dict[str, Any], action: str) -> float | None:
        """install.go / upgrade.go: a new release in the history; it waits for its workloads (_await)."""

        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        history = list(status.get("history") or [])
        status["lastAttemptedReleaseAction"] = action
        delete_condition(status, "Remediated")
        number = max([int(h.get("version", 0)) for h in history] or [0]) + 1
        snapshot = {"name": name, "namespace": namespace, "version": number, "status": f"pending-{action}",
                    "chartName": run["chart"], "chartVersion": run["version"], "digest": run["digest"],
                    "firstDeployed": now(), "lastDeployed": now()}
        status["history"] = [snapshot, *history][:5]
        run.update(action=action, number=number, waited=Waited())
        failing = self.sim.failing("HelmRelease", namespace, name)
        if failing:  # the Helm action itself fails (a hook, a rejected object): a failed release is stored
            return self._released(obj, status, run, failing)
        try:
            objects = charts.render(name, namespace, run["chart"], run["values"])
        except charts.RenderError as exc:  # the release fails as a Helm action that could not build its objects
            return self._released(obj, status, run, str(exc))
        unknown = next((o for o in objects if o.get("kind") != "CustomResourceDefinition" and _resource(o) is None),
                       None)
        if unknown is not None:  # helm's kube client cannot map it (helm.sh/helm pkg/kube client.go Build)
            meta = unknown.get("metadata") or {}
            return self._released(obj, status, run, "unable to build kubernetes objects from release manifest: "
                                  f"resource mapping not found for name: \"{meta.get('name')}\" namespace: "
                                  f"\"{meta.get('namespace', '')}\" from \"\": no matches for kind "
                                  f"\"{unknown.get('kind')}\" in version \"{unknown.get('apiVersion')}\"\n"
                                  "ensure CRDs are installed first")
        self.rendered[(namespace, name, number)] = clone(objects)
        self.sim.install(namespace, name, objects)
        self.runs[(namespace, name)] = run
        return self._await(obj, status, run)

    def _await(self, obj: dict[str, Any], status: dict[str, Any], run: dict[str, Any]) -> float | None:
        meta = obj["metadata"]
        waiting = [label for ok, label in (object_ready(self.sim, o)
                                           for o in self.sim.installed(meta["namespace"], meta["name"])) if not ok]
        if not waiting:
            return self._released(obj, status, run, None)
        timeout = release_timeout(obj.get("spec") or {}, run["action"])
        if run["waited"].expired(self.sim.manager, self.timing.health_wait(timeout), besides=self.name):
            return self._released(obj, status, run, f"context deadline exceeded (waiting for {', '.join(waiting)})")
        generation = int(meta.get("generation", 1))
        message = (f"Running '{run['action']}' action with timeout of {_go_duration(timeout)}: "
                   f"waiting for {', '.join(waiting)}")
        mark_reconciling(status, generation, "Progressing", message)
        set_condition(status, generation, "Ready", "Unknown", "Progressing", message)
        self._write(obj, status)  # an intermediate patch: lastHandledReconcileAt is written when it ends
        return self.timing.poll

    def _released(self, obj: dict[str, Any], status: dict[str, Any], run: dict[str, Any],
                  error: str | None) -> float | None:
        """Install/Upgrade success or failure (internal/reconcile/install.go, upgrade.go), then on with the
        atomic release."""
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        generation = int(meta.get("generation", 1))
        action = run["action"]
        self.runs.pop((namespace, name), None)
        history = status["history"]
        history[0]["status"] = "failed" if error else "deployed"
        for older in history[1:]:
            if not error and older.get("status") == "deployed":
                older["status"] = "superseded"
        verb = action.capitalize()
        if error:
            message = (f"Helm {action} failed for release {namespace}/{name} with chart "
                       f"{run['chart']}@{run['version']}: {error}")
            status["failures"] = int(status.get("failures", 0) or 0) + 1
            status[f"{action}Failures"] = int(status.get(f"{action}Failures", 0) or 0) + 1
            set_condition(status, generation, "Released", "False", f"{verb}Failed", message)
            self.event(obj, f"{verb}Failed", message, "Warning")
        else:
            full, versioned = self._names(obj, history[0])
            set_condition(status, generation, "Released", "True", f"{verb}Succeeded",
                          f"Helm {action} succeeded for release {full} with chart {versioned}")
        _summarize(status, generation)
        run["previous"].append("release")
        return self._atomic(obj, status, run)

    def _remediate(self, obj: dict[str, Any], status: dict[str, Any], action: str) -> None:
        """rollback_remediation.go / uninstall_remediation.go: Remediated=True, which summarizes to Ready=False."""
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        generation = int(meta.get("generation", 1))
        history = status["history"]
        failed = history[0]
        if action == "rollback":
            target = self._previous(obj, status)
            assert target is not None
            objects = clone(self.rendered[(namespace, name, int(target.get("version", 0)))])
            self.sim.install(namespace, name, objects)
            number = max(int(h.get("version", 0)) for h in history) + 1
            self.rendered[(namespace, name, number)] = clone(objects)
            failed["status"] = "superseded"
            target["status"] = "superseded"
            status["history"] = [{**target, "version": number, "status": "deployed", "firstDeployed": now(),
                                  "lastDeployed": now()}, *history][:5]
            full, versioned = self._names(obj, target)
            set_condition(status, generation, "Remediated", "True", "RollbackSucceeded",
                          f"Helm rollback to previous release {full} with chart {versioned} succeeded")
            self.event(obj, "RollbackSucceeded", f"Helm rollback to previous release {full} with chart {versioned} "
                       "succeeded")
        else:
            self.sim.uninstall(namespace, name)
            failed["status"] = "uninstalled"
            full, versioned = self._names(obj, failed)
            set_condition(status, generation, "Remediated", "True", "UninstallSucceeded",
                          f"Helm uninstall remediation for release {full} with chart {versioned} succeeded")
        _summarize(status, generation)


def _handle_request(status: dict[str, Any], annotations: dict[str, Any], annotation: str, field: str) -> bool:
    """fluxcd/pkg apis/meta/annotations.go HandleAnnotationRequest: a forceAt/resetAt request counts when it
    equals requestedAt, that request is not handled yet, and this token was not handled before; the token is
    recorded (lastHandledForceAt / lastHandledResetAt) whenever the annotation is present."""
    request = annotations.get(annotation)
    if request is None:
        return False
    last = status.get(field)
    status[field] = request
    reconcile_at = annotations.get(REQUESTED_AT)
    return (request == reconcile_at and status.get("lastHandledReconcileAt") != reconcile_at
            and last != request)


def _summarize(status: dict[str, Any], generation: int) -> None:
    """helm-controller internal/reconcile/release.go summarize: Ready from Remediated (always an error) or
    Released; Ready=True removes Stalled."""
    source = get_condition(status, "Remediated") or get_condition(status, "Released")
    if source is None:
        return
    state = "False" if source["type"] == "Remediated" else str(source.get("status"))
    if state == "True":
        delete_condition(status, "Stalled")
    set_condition(status, generation, "Ready", state, str(source.get("reason", "")), str(source.get("message", "")))
