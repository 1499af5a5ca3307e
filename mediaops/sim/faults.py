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


@dataclass(frozen=True)
class Fault:
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
    sim._node_agents(running=not sim.faults[name])
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
)}
