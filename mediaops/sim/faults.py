"""The rehearsal's faults, each declared once: its name, what its value is, what it does, and how it is switched.

``Rehearsal.set_fault`` looks a fault up here and applies it, ``mediaops sim fault --help`` lists them, and
``mediaops docs`` writes the faults table of docs/rehearsal.md from them.

This module stays light (the CLI reads it for its help): what a fault needs of the rehearsal is imported
when the fault is switched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediaops.sim.cluster import Rehearsal


@dataclass(frozen=True)
class Value:
    """What a fault's value is."""

    metavar: str  # written after the fault's name in the help and the docs; "" when it is on or off
    meaning: str


SWITCH = Value("", "on (the default) or off, for a fault that names no other value")
RATE = Value("RATE", "a share from 0 to 1; on: 1, off: 0")
SECONDS = Value("SECONDS", "seconds, negative too; off: 0")
OBJECT = Value("KIND/NS/NAME[=message]", "the object that fails, and the message it fails with; =off clears it")
LEASE = Value("NS/NAME", "the Lease's namespace and name; =off removes it")
HOST = Value("NAME", "a host name; NAME=off clears that one, off clears them all")
USAGE = Value("NS/CLAIM=PERCENT", "a claim and how full it reads, 0 to 100; NS/CLAIM=off clears it, off clears all")
AGENT = Value("AGENT", "an Overseerr notification agent (discord, email, gotify, lunasea, pushbullet, pushover, slack, "
                       "telegram, webhook, webpush); AGENT=off clears that one, off clears them all")
COUNT = Value("N", "a number of requests, 0 or more; off: as seeded")
APP = Value("NS/APP", "an app's namespace and name (its pods' app.kubernetes.io/name or instance, or its workload); "
                      "NS/APP=off heals it, off heals all")
CRONJOB = Value("NS/CRONJOB", "a CronJob's namespace and name; NS/CRONJOB=off clears it, off clears all")


@dataclass(frozen=True)
class Fault:
    """A fault the rehearsal can switch on: its name, the value it takes, its effect and how it is applied."""

    name: str
    value: Value
    effect: str  # one line, Markdown, as the faults table of docs/rehearsal.md shows it
    apply: Callable[[Rehearsal, str, str], str]  # (rehearsal, name, value) -> what is now in force

    @property
    def usage(self) -> str:
        """The fault as it is switched: ``api-errors RATE``, ``watch-drop``."""
        return f"{self.name} {self.value.metavar}".rstrip()


def truthy(value: str) -> bool:
    return value.lower() not in ("off", "false", "0", "no", "")


def _share(value: str) -> float:
    return 0.0 if value in ("off", "") else (1.0 if value == "on" else float(value))


# -- the API server -----------------------------------------------------------------------------------------
_API_RATES = {"api-errors": "error_rate", "api-throttle": "throttle_rate", "api-timeouts": "timeout_rate",
              "api-errors-after-write": "after_write_rate"}


def _api_rate(sim: Rehearsal, name: str, value: str) -> str:
    rate = _share(value)
    setattr(sim.server.faults, _API_RATES[name], rate)
    return f"{name}: {rate:.0%} of requests"


def _watch_drop(sim: Rehearsal, name: str, value: str) -> str:
    api = sim.server.faults
    api.drop_watches = truthy(value)
    return f"watch-drop: {'on' if api.drop_watches else 'off'}"


# -- Flux ---------------------------------------------------------------------------------------------------
def _reconcile_fail(sim: Rehearsal, name: str, value: str) -> str:
    target, _, message = value.partition("=")
    kind_name, namespace, object_name = [*target.split("/"), "", "", ""][:3]
    key = (kind_name, namespace, object_name)
    if message == "off" or (not message and key in sim.failures):
        sim.failures.pop(key, None)
        state = "off"
    else:
        sim.failures[key] = message or "injected failure: the rehearsal was told to fail this reconcile"
        state = sim.failures[key]
    controller = {"Kustomization": "kustomize-controller", "HelmRelease": "helm-controller",
                  "GitRepository": "source-controller"}.get(kind_name)
    if controller:
        sim.manager.enqueue(controller, (namespace, object_name))
    return f"reconcile-fail {target}: {state}"


def _receiver(sim: Rehearsal, name: str, value: str) -> str:
    rate = _share(value)
    if not 0 <= rate <= 1:
        raise ValueError(f"receiver takes a share from 0 to 1, not {value}")
    sim.faults["receiver"] = rate
    return f"receiver: {rate:.0%} of source reconcile requests"


# -- switches the controllers read from Rehearsal.faults -----------------------------------------------------
def _switch(sim: Rehearsal, name: str, value: str) -> str:
    on = truthy(value)
    sim.faults[name] = on
    return f"{name}: {'on' if on else 'off'}"


def _node_agent_down(sim: Rehearsal, name: str, value: str) -> str:
    message = _switch(sim, name, value)
    sim.node_agents()
    return message


def _nas_down(sim: Rehearsal, name: str, value: str) -> str:
    from mediaops.cluster.kinds import kind

    message = _switch(sim, name, value)
    sim._nas(not sim.faults[name])
    for pod in sim.store.all_of(kind("Pod")):
        sim.manager.enqueue("pods", (pod["metadata"]["namespace"], pod["metadata"]["name"]))
    return message


def _store_down(sim: Rehearsal, name: str, value: str) -> str:
    from mediaops.cluster.kinds import kind

    message = _switch(sim, name, value)
    for store in sim.store.all_of(kind("ClusterSecretStore")):
        sim.manager.enqueue("external-secrets", ("", "store/" + store["metadata"]["name"]))
    return message


def _eso_clock_skew(sim: Rehearsal, name: str, value: str) -> str:
    seconds = 0.0 if value in ("off", "") else float(value)
    sim.faults["eso-clock-skew"] = seconds
    return f"eso-clock-skew: {seconds:+.0f} s"


# -- the stand-ins (mediaops/sim/standins.py) -----------------------------------------------------------------
def _dns_nxdomain(sim: Rehearsal, name: str, value: str) -> str:
    from mediaops.sim.standins import host_name

    names = set(sim.faults.get(name) or [])
    target, _, state = value.partition("=")
    if value.strip().lower() in ("off", ""):
        names.clear()
    elif state.strip().lower() == "off":
        names.discard(host_name(target))
    elif state or value == "on":
        raise ValueError(f"dns-nxdomain takes a host name (NAME=off clears it), not {value}")
    else:
        names.add(host_name(target))
    sim.faults[name] = sorted(names)
    return f"dns-nxdomain: {', '.join(sorted(names)) or 'off'}"


def _pvc_usage(sim: Rehearsal, name: str, value: str) -> str:
    usage = dict(sim.faults.get(name) or {})
    target, _, percent = value.partition("=")
    namespace, _, claim = target.partition("/")
    if value.strip().lower() in ("off", ""):
        usage.clear()
    elif not namespace or not claim or not percent:
        raise ValueError(f"pvc-usage takes NS/CLAIM=PERCENT, not {value}")
    elif percent.strip().lower() == "off":
        usage.pop(target, None)
    else:
        try:
            share = float(percent.strip().rstrip("%"))
        except ValueError:
            raise ValueError(f"pvc-usage takes a percentage from 0 to 100, not {percent}") from None
        if not 0 <= share <= 100:
            raise ValueError(f"pvc-usage takes a percentage from 0 to 100, not {percent}")
        usage[target] = share
    sim.faults[name] = usage
    return "pvc-usage: " + (", ".join(f"{k} {v:g}%" for k, v in sorted(usage.items())) or "off")


# -- Overseerr (mediaops/sim/overseerr.py) -------------------------------------------------------------------
def _overseerr_down(sim: Rehearsal, name: str, value: str) -> str:
    message = _switch(sim, name, value)
    if sim.faults[name]:
        sim.overseerr.stop()
    elif sim.overseerr.port:  # it served before: back on its port (a rehearsal that never served stays as it is)
        sim.overseerr.start()
    return message


def _overseerr_notify_fail(sim: Rehearsal, name: str, value: str) -> str:
    from mediaops.sim.overseerr import AGENTS

    agents = set(sim.faults.get(name) or [])
    target, _, state = value.partition("=")
    agent = target.strip().lower()
    if value.strip().lower() in ("off", ""):
        agents.clear()
    elif agent not in AGENTS or (state and state.strip().lower() != "off"):
        raise ValueError(f"overseerr-notify-fail takes an agent ({', '.join(AGENTS)}; AGENT=off clears it), "
                         f"not {value}")
    elif state:
        agents.discard(agent)
    else:
        agents.add(agent)
    sim.faults[name] = sorted(agents)
    sim.overseerr.failing = set(agents)
    return f"overseerr-notify-fail: {', '.join(sorted(agents)) or 'off'}"


def _overseerr_pending(sim: Rehearsal, name: str, value: str) -> str:
    if value.strip().lower() in ("off", ""):
        sim.overseerr.set_pending(None)
        sim.faults.pop(name, None)
        return "overseerr-pending: off (the seeded requests)"
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"overseerr-pending takes a number of requests, 0 or more (or off), not {value}")
    sim.overseerr.set_pending(count)
    sim.faults[name] = f"{count} pending, the oldest {count} days old" if count else "none pending"
    return f"overseerr-pending: {sim.faults[name]}"


# -- workloads (mediaops/sim/workloads.py): containers and Jobs that fail ---------------------------------------
def _failing_targets(sim: Rehearsal, name: str, value: str) -> str:
    """Switch a fault that names NS/NAME targets (crashloop, git-sync-fail, job-fail); the pods of the namespaces
    it changes are looked at again."""
    from mediaops.cluster.kinds import kind

    targets = set(sim.faults.get(name) or [])
    target, _, state = value.partition("=")
    namespace, _, app = target.strip().partition("/")
    before = set(targets)
    if value.strip().lower() in ("off", ""):
        targets.clear()
    elif not namespace or not app or "/" in app or (state and state.strip().lower() != "off"):
        metavar = FAULTS[name].value.metavar
        raise ValueError(f"{name} takes {metavar} ({metavar}=off clears it, off clears all), not {value}")
    elif state:
        targets.discard(f"{namespace}/{app}")
    else:
        targets.add(f"{namespace}/{app}")
    sim.faults[name] = sorted(targets)
    namespaces = {t.partition("/")[0] for t in before ^ targets}
    for pod in sim.store.all_of(kind("Pod")):
        if pod["metadata"].get("namespace") in namespaces:
            sim.manager.enqueue("pods", (pod["metadata"]["namespace"], pod["metadata"]["name"]))
    return f"{name}: {', '.join(sim.faults[name]) or 'off'}"


# -- operators the repository does not install (mediaops/sim/volsync.py; Longhorn, whose kinds only) ----------
def _crds_installed(sim: Rehearsal, name: str, value: str) -> str:
    """An operator's CRDs (``volsync-installed``: VolSync's, ``longhorn-installed``: Longhorn's) as its chart
    installs them (charts.crds); off, deleted with their objects first, as the apiextensions-apiserver's
    customresourcecleanup finalizer deletes a CRD's objects before the CRD."""
    from mediaops.cluster.kinds import BY_KIND, kind
    from mediaops.sim.charts import CRD_GROUPS, crds
    from mediaops.sim.store import ApiError

    on = truthy(value)
    sim.faults[name] = on
    definitions = kind("CustomResourceDefinition")
    for crd in crds(CRD_GROUPS[name.removesuffix("-installed")]):
        crd_name = crd["metadata"]["name"]
        if on:
            if sim.store.find(definitions, "", crd_name) is None:
                sim.store.create(definitions, crd)
            continue
        resource = BY_KIND[(crd["spec"]["group"], crd["spec"]["names"]["kind"])]
        for obj in [*sim.store.all_of(resource), {"metadata": {"namespace": "", "name": crd_name}}]:
            try:
                sim.store.delete(resource if obj["metadata"]["namespace"] else definitions,
                                 obj["metadata"]["namespace"], obj["metadata"]["name"])
            except ApiError:
                pass
    return f"{name}: {'on' if on else 'off'}"


# -- the lock -----------------------------------------------------------------------------------------------
def _lease_held(sim: Rehearsal, name: str, value: str) -> str:
    from mediaops.cluster.kinds import kind
    from mediaops.sim.store import ApiError

    target, _, state = value.partition("=")
    namespace, _, lease = target.partition("/")
    res = kind("Lease")
    if state == "off":
        try:
            sim.store.delete(res, namespace, lease)
        except ApiError:
            pass
        return f"lease-held {target}: off"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 600))
    renew = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    sim.apply(res, {"metadata": {"name": lease, "namespace": namespace,
                                 "labels": {"app.kubernetes.io/managed-by": "mediaops"},
                                 "annotations": {"mediaops.io/run-id": "20261124-220000-other-0000"}},
                    "spec": {"holderIdentity": "alice@laptop", "leaseDurationSeconds": 3600,
                             "acquireTime": stamp, "renewTime": renew}})
    return f"lease-held {target}: held by alice@laptop"


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("api-errors", RATE, "that share of API requests answered 500", _api_rate),
    Fault("api-throttle", RATE, "that share answered 429 with `Retry-After: 1`", _api_rate),
    Fault("api-timeouts", RATE, "that share hang past the client's timeout, then drop", _api_rate),
    Fault("api-errors-after-write", RATE, "that share of writes committed, then answered 500", _api_rate),
    Fault("watch-drop", SWITCH, "every watch stream is closed after its first event", _watch_drop),
    Fault("reconcile-fail", OBJECT,
          "that Kustomization, HelmRelease or GitRepository fails to reconcile with the message (`=off` clears it)",
          _reconcile_fail),
    Fault("backup-partial", SWITCH,
          "Velero backups end PartiallyFailed after a plugin operation fails (1 error, 2 warnings)", _switch),
    Fault("node-agent-down", SWITCH,
          "Velero's node-agent pods stop: file-system backups of volumes fail (the backup ends PartiallyFailed)",
          _node_agent_down),
    Fault("nas-down", SWITCH,
          "pods with NFS volumes from the NAS fail to mount (FailedMount events); its NFS listener (TCP 2049, or "
          "the port it was given) closes", _nas_down),
    Fault("lease-held", LEASE, "a Lease held by `alice@laptop` for ten minutes (`=off` removes it)", _lease_held),
    Fault("store-down", SWITCH, "the 1Password ClusterSecretStore is not ready", _store_down),
    Fault("eso-clock-skew", SECONDS,
          "the External Secrets controller's clock runs that far ahead (negative: behind)", _eso_clock_skew),
    Fault("receiver", RATE,
          "that share of source reconcile requests is answered by a webhook Receiver's own request before it is "
          "handled, as a push's webhook does (on by default at 0.05; `receiver 1` every time, `receiver off`)",
          _receiver),
    Fault("dns-nxdomain", HOST,
          "the rehearsal's DNS server answers NXDOMAIN for that name (an ExternalName Service's target it "
          "otherwise resolves to 127.0.0.1)", _dns_nxdomain),
    Fault("pvc-usage", USAGE,
          "the kubelet's stats summary reports the claim's volume that full (`usedBytes` that share of "
          "`capacityBytes`) instead of the bytes it holds", _pvc_usage),
    Fault("overseerr-down", SWITCH,
          "the rehearsal's Overseerr stops listening: connections to its port are refused (its API, `/api/v1/status` "
          "too), as to a Service whose pod is down", _overseerr_down),
    Fault("overseerr-notify-fail", AGENT,
          "Overseerr's test notification to that agent fails: `POST /api/v1/settings/notifications/AGENT/test` "
          "answers 500 with upstream's message (`Failed to send Discord notification.`)", _overseerr_notify_fail),
    Fault("overseerr-pending", COUNT,
          "Overseerr has N pending requests, the oldest N days old and one a day newer after it (instead of the "
          "seeded two, 7 days and 1 day old)", _overseerr_pending),
    Fault("crashloop", APP,
          "the app's pods' main container exits with an error and is restarted: `CrashLoopBackOff`, `restartCount` "
          "growing with the kubelet's back-off, `lastState.terminated` reason Error; the pods are not Ready",
          _failing_targets),
    Fault("git-sync-fail", APP,
          "the git-sync container of the app's pods (named git-sync or running a git-sync image) cannot fetch: "
          "it logs git-sync v4's JSON error lines and, with its default `--max-failures=0`, exits and is "
          "restarted (`CrashLoopBackOff`, `restartCount` growing)", _failing_targets),
    Fault("job-fail", CRONJOB,
          "the Jobs that CronJob owns (by ownerReference, as `kubectl create job --from=cronjob/NAME` makes them) "
          "fail: their pod "
          "exits with an error, the Job gets `status.failed` and `Failed=True` reason BackoffLimitExceeded",
          _failing_targets),
    Fault("volsync-installed", SWITCH,
          "VolSync's CRDs (`replicationsources`, `replicationdestinations.volsync.backube`) are installed, as its "
          "chart installs them, and its controller runs (the sample repository has no VolSync app; K8up comes with "
          "its storage app); `off` deletes them and their objects", _crds_installed),
    Fault("longhorn-installed", SWITCH,
          "Longhorn's CRDs (`volumes`, `recurringjobs`, `backups.longhorn.io`) are installed, as its chart installs "
          "them, without its manager: its objects are stored as written (nothing labels volumes, runs recurring "
          "jobs or makes Backups); `off` deletes them and their objects", _crds_installed),
)}
