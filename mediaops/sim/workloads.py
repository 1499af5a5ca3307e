"""Deployments, StatefulSets, Jobs, pods and PVCs as the kubelet and controllers would run them.

A pod becomes ready ``Timing.pod_start`` after it is created, unless something real would stop it:
no node matches its nodeSelector, a Secret or ConfigMap it needs is missing, or its NFS server (the
NAS) is down. Each of these shows as the pod's waiting reason and as an Event, as on a real cluster.

Three faults make containers fail as they do on a cluster: ``crashloop`` (the app's main container exits with an
error and the kubelet restarts it with a growing back-off), ``git-sync-fail`` (a git-sync container cannot fetch;
with its default ``--max-failures=0`` it exits and is restarted the same way) and ``job-fail`` (the pods of the
Jobs a CronJob owns exit with an error, so those Jobs fail).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from mediaops.cluster.kinds import kind as kind_of
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import PVC_PROTECTION, ApiError, WatchEvent, clone, now

OWNER = "mediaops.sim/owner"  # label on pods: "<Kind>/<name>"
# On a Job's pod template: the exit code its container ends with (a controller that knows its program will fail,
# as K8up's restic does on a snapshot that does not exist, says so); absent, 0.
EXIT_CODE = "mediaops.sim/exit-code"
REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _owner_keys(event: WatchEvent, kind: str) -> list[Key]:
    owner = ((event.obj.get("metadata") or {}).get("labels") or {}).get(OWNER, "")
    if owner.startswith(kind + "."):
        return [(event.obj["metadata"].get("namespace", ""), owner.split(".", 1)[1])]
    return []


def terminate(sim: Any, pod: dict[str, Any]) -> None:
    """Delete a pod as a kubelet lets it go: at once, unless it mounts NFS from a NAS that does not answer.
    Then unmounting hangs and the pod stays ``Terminating`` (deletionTimestamp set) until the NAS is back."""
    meta = pod["metadata"]
    resource = sim.store.find(kind_of("Pod"), meta["namespace"], meta["name"])
    if resource is None:
        return
    if _hung_mount(sim, pod) is None:
        try:
            sim.store.delete(kind_of("Pod"), meta["namespace"], meta["name"])
        except ApiError:
            pass
    elif not meta.get("deletionTimestamp"):
        sim.store.update(kind_of("Pod"), meta["namespace"], meta["name"],
                         lambda p: p["metadata"].update(deletionTimestamp=now(), deletionGracePeriodSeconds=30))


def _hung_mount(sim: Any, pod: dict[str, Any]) -> str | None:
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        nfs = volume.get("nfs")
        if nfs and sim.nas_down(str(nfs.get("server", ""))):
            return f"{nfs.get('server')}:{nfs.get('path')}"
    return None


def _owned_by(obj: dict[str, Any], kind: str, name: str, uid: str = "") -> bool:
    return any(r.get("kind") == kind and r.get("name") == name and (not uid or r.get("uid") == uid)
               for r in obj["metadata"].get("ownerReferences") or [])


def _owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": owner.get("apiVersion", ""), "kind": owner.get("kind", ""),
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"], "controller": True,
            "blockOwnerDeletion": True}


class PodOwner(Controller):
    """Shared by Deployment and StatefulSet: keep the right number of pods of the current template. A
    Deployment does it through a ReplicaSet per template (pkg/controller/deployment/sync.go): the pods
    carry the ``pod-template-hash`` label, the ReplicaSet owns them, older ReplicaSets are scaled to 0."""

    kind = "Deployment"

    def keys_for(self, event: WatchEvent) -> list[Key]:
        if event.resource.kind == "Pod":
            return _owner_keys(event, self.kind)
        if event.resource.kind == "ReplicaSet":
            return [(event.obj["metadata"].get("namespace", ""), r.get("name", ""))
                    for r in event.obj["metadata"].get("ownerReferences") or [] if r.get("kind") == self.kind]
        return super().keys_for(event)

    def pod_name(self, name: str, template: str, index: int) -> str:
        return f"{name}-{template[:9]}-{uuid.uuid4().hex[:5]}"

    def _replica_sets(self, namespace: str, name: str) -> list[dict[str, Any]]:
        if self.kind != "Deployment":
            return []
        return [clone(rs) for rs in self.store.scan(self.res("ReplicaSet"), namespace)
                if _owned_by(rs, "Deployment", name)]

    def _replica_set(self, obj: dict[str, Any], digest: str, want: int,
                     owned: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The ReplicaSet of the current template, created or scaled to ``want``; the others scaled to 0."""
        meta = obj["metadata"]
        rs_res = self.res("ReplicaSet")
        rs_name = f"{meta['name']}-{digest[:9]}"
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION, 0) or 0) for rs in owned]
        for rs in owned:
            if rs["metadata"]["name"] != rs_name and (rs.get("spec") or {}).get("replicas", 1) != 0:
                self.store.update(rs_res, meta["namespace"], rs["metadata"]["name"],
                                  lambda r: r.setdefault("spec", {}).update(replicas=0))
        current = next((rs for rs in owned if rs["metadata"]["name"] == rs_name), None)
        template = json.loads(json.dumps((obj.get("spec") or {}).get("template") or {}))
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = digest[:9]
        if current is None:
            selector = json.loads(json.dumps((obj.get("spec") or {}).get("selector") or {}))
            selector.setdefault("matchLabels", {})["pod-template-hash"] = digest[:9]
            body = {"metadata": {"name": rs_name, "namespace": meta["namespace"],
                                 "labels": dict(template["metadata"]["labels"]),
                                 "annotations": {REVISION: str(max(revisions, default=0) + 1)},
                                 "ownerReferences": [_owner_ref(obj)]},
                    "spec": {"replicas": want, "selector": selector, "template": template}}
            try:
                return self.store.create(rs_res, body)
            except ApiError:
                return self.store.find(rs_res, meta["namespace"], rs_name)
        if (current.get("spec") or {}).get("replicas") != want:
            return self.store.update(rs_res, meta["namespace"], rs_name,
                                     lambda r: r.setdefault("spec", {}).update(replicas=want))
        return current

    def reconcile(self, namespace: str, name: str) -> float | None:
        obj = self.store.find(self.res(self.kind), namespace, name)
        pods_res = self.res("Pod")
        selector = f"{OWNER}={self.kind}.{name}"
        pods, _ = self.store.select(pods_res, namespace, selector)
        owned = self._replica_sets(namespace, name)
        if obj is None:
            # The garbage collector's part: what the owner still owns goes (an orphaning delete left none).
            for rs in owned:
                try:
                    self.store.delete(self.res("ReplicaSet"), namespace, rs["metadata"]["name"])
                except ApiError:
                    pass
            rs_names = {rs["metadata"]["name"] for rs in owned}
            for pod in pods:
                if _owned_by(pod, self.kind, name) or any(_owned_by(pod, "ReplicaSet", n) for n in rs_names):
                    terminate(self.sim, pod)
            return None
        if obj["metadata"].get("deletionTimestamp"):
            return None  # being deleted (foreground): no new pods (deployment_controller.go syncDeployment)
        spec = obj.get("spec") or {}
        want = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        digest = template_hash(template)
        replica_set = self._replica_set(obj, digest, want, owned) if self.kind == "Deployment" else None
        owner = replica_set or obj
        uids = {obj["metadata"]["uid"]} | {rs["metadata"]["uid"] for rs in owned}
        if replica_set is not None:
            uids.add(replica_set["metadata"]["uid"])
        pods = [p for p in pods if any(r.get("uid") in uids for r in p["metadata"].get("ownerReferences") or [])]
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]  # Terminating: no longer counted
        current = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == digest[:9]]
        for pod in pods:
            if pod not in current:  # Recreate: old pods go first
                terminate(self.sim, pod)
        for extra in current[want:]:
            terminate(self.sim, extra)
        current = current[:want]
        for index in range(len(current), want):
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels.update({"pod-template-hash": digest[:9], OWNER: f"{self.kind}.{name}"})
            pod = {"metadata": {"name": self.pod_name(name, digest, index), "namespace": namespace,
                                "labels": labels,
                                "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                                "ownerReferences": [_owner_ref(owner)]},
                   "spec": json.loads(json.dumps(template.get("spec") or {}))}
            try:
                current.append(self.store.create(pods_res, pod))
            except ApiError:
                continue
        ready = sum(1 for p in current if _is_ready(p))
        if replica_set is not None:
            self._replica_set_status(owned, replica_set, len(current), ready, pods)
        status = {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": len(current),
                  "updatedReplicas": len(current), "readyReplicas": ready, "availableReplicas": ready,
                  "conditions": [
                      {"type": "Available", "status": "True" if ready >= want else "False",
                       "reason": "MinimumReplicasAvailable" if ready >= want else "MinimumReplicasUnavailable",
                       "lastTransitionTime": now()},
                      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"
                       if ready >= want else "ReplicaSetUpdated", "lastTransitionTime": now()}]}
        if self.kind == "StatefulSet":
            status["currentReplicas"] = len(current)
        if want - ready:
            status["unavailableReplicas"] = want - ready
        old = obj.get("status") or {}
        comparable = {k: v for k, v in status.items() if k != "conditions"}
        if {k: old.get(k) for k in comparable} != comparable or not old.get("conditions"):
            self.store.set_status(self.res(self.kind), namespace, name, status)
        if replica_set is not None and (obj["metadata"].get("annotations") or {}).get(REVISION) != (
                replica_set["metadata"].get("annotations") or {}).get(REVISION):
            revision = (replica_set["metadata"].get("annotations") or {}).get(REVISION, "1")
            self.store.update(self.res(self.kind), namespace, name, lambda d: d["metadata"].setdefault(
                "annotations", {}).update({REVISION: revision}))
        return None

    def _replica_set_status(self, owned: list[dict[str, Any]], current_rs: dict[str, Any], replicas: int,
                            ready: int, pods: list[dict[str, Any]]) -> None:
        rs_res = self.res("ReplicaSet")
        for rs in [current_rs, *[r for r in owned if r["metadata"]["name"] != current_rs["metadata"]["name"]]]:
            if rs is current_rs:
                counts = (replicas, ready)
            else:
                mine = [p for p in pods if _owned_by(p, "ReplicaSet", rs["metadata"]["name"])]
                counts = (len(mine), sum(1 for p in mine if _is_ready(p)))
            status = {"replicas": counts[0], "readyReplicas": counts[1], "availableReplicas": counts[1],
                      "fullyLabeledReplicas": counts[0],
                      "observedGeneration": rs["metadata"].get("generation", 1)}
            if (rs.get("status") or {}) != status:
                self.store.set_status(rs_res, rs["metadata"]["namespace"], rs["metadata"]["name"], status)


class Deployments(PodOwner):
    name = "deployments"
    kind = "Deployment"
    watches = ("Deployment", "ReplicaSet", "Pod")


class StatefulSets(PodOwner):
    name = "statefulsets"
    kind = "StatefulSet"
    watches = ("StatefulSet", "Pod")

    def pod_name(self, name: str, template: str, index: int) -> str:
        return f"{name}-{index}"


class Jobs(Controller):
    """A Job runs one pod to completion (``Timing.job_run``); a CronJob only schedules (manual Jobs here)."""

    name = "jobs"
    watches = ("Job", "Pod")

    def keys_for(self, event: WatchEvent) -> list[Key]:
        if event.resource.kind == "Pod":
            return _owner_keys(event, "Job")
        return super().keys_for(event)

    def reconcile(self, namespace: str, name: str) -> float | None:
        job = self.store.find(self.res("Job"), namespace, name)
        if job is None or (job.get("status") or {}).get("completionTime") or any(
                c.get("type") == "Failed" for c in (job.get("status") or {}).get("conditions") or []):
            return None
        pods_res = self.res("Pod")
        pods, _ = self.store.select(pods_res, namespace, f"{OWNER}=Job.{name}")
        template = ((job.get("spec") or {}).get("template")) or {}
        if not pods:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels.update({OWNER: f"Job.{name}", "job-name": name})
            annotations = dict((template.get("metadata") or {}).get("annotations") or {})
            pod = {"metadata": {"name": f"{name}-{uuid.uuid4().hex[:5]}", "namespace": namespace, "labels": labels,
                                **({"annotations": annotations} if annotations else {}),
                                "ownerReferences": [{"kind": "Job", "name": name, "uid": job["metadata"]["uid"]}]},
                   "spec": json.loads(json.dumps(template.get("spec") or {}))}
            self.store._create(pods_res, pod)
            self.store.set_status(self.res("Job"), namespace, name, {"active": 1, "startTime": now()})
            return self.timing.job_run
        pod = pods[0]
        status = pod.get("status") or {}
        if status.get("phase") == "Succeeded":
            self.store.set_status(self.res("Job"), namespace, name, {
                "succeeded": 1, "startTime": (job.get("status") or {}).get("startTime", now()),
                "completionTime": now(),
                "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": now()}]})
            return None
        if status.get("phase") == "Failed":  # the rehearsal runs one pod: its failure is the Job's (no retries)
            self.store.set_status(self.res("Job"), namespace, name, {
                "failed": 1, "startTime": (job.get("status") or {}).get("startTime", now()),
                "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                "message": "Job has reached the specified backoff limit",
                                "lastTransitionTime": now()}]})
        return None


class Pods(Controller):
    """The scheduler and the kubelet: placement, mounts, secrets, readiness."""

    name = "pods"
    watches = ("Pod", "Secret", "ConfigMap", "Node", "PersistentVolumeClaim")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.store.pod_reaper = lambda pod: terminate(sim, pod)  # the garbage collector's pods go as pods go
        self._backoff: dict[tuple[str, str, str], tuple[int, float]] = {}  # (crashes, next restart) per container

    def keys_for(self, event: WatchEvent) -> list[Key]:
        if event.resource.kind == "Pod":
            return super().keys_for(event)
        namespace = (event.obj.get("metadata") or {}).get("namespace")
        return [(p["metadata"]["namespace"], p["metadata"]["name"])
                for p in self.store.scan(self.res("Pod"), namespace or None) if not _is_ready(p)]

    def blocked(self, pod: dict[str, Any]) -> tuple[str, str, str] | None:
        """(waiting reason, event reason, message) when something stops the pod, else None."""
        spec = pod.get("spec") or {}
        namespace = pod["metadata"]["namespace"]
        selector = spec.get("nodeSelector") or {}
        nodes = self.store.scan(self.res("Node"))  # read, never changed
        if selector and not any(all((n["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
                                for n in nodes):
            return ("Pending", "FailedScheduling",
                    f"0/{len(nodes)} nodes are available: {len(nodes)} node(s) didn't match Pod's node "
                    "affinity/selector.")
        for volume in spec.get("volumes") or []:
            nfs = volume.get("nfs")
            if nfs and self.sim.nas_down(str(nfs.get("server", ""))):
                return ("ContainerCreating", "FailedMount",
                        f"MountVolume.SetUp failed for volume \"{volume.get('name')}\" : mount failed: exit status 32 "
                        f"mount.nfs: Connection timed out ({nfs.get('server')}:{nfs.get('path')})")
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and self.store.peek(self.res("PersistentVolumeClaim"), namespace, claim) is None:
                return ("Pending", "FailedScheduling", f'persistentvolumeclaim "{claim}" not found')
            config = (volume.get("configMap") or {}).get("name")
            if config and self.store.peek(self.res("ConfigMap"), namespace, config) is None:
                return ("ContainerCreating", "FailedMount",
                        f'MountVolume.SetUp failed for volume "{volume.get("name")}" : configmap "{config}" not found')
        for container in spec.get("containers") or []:
            for source in container.get("envFrom") or []:
                secret = (source.get("secretRef") or {}).get("name")
                if secret and self.store.peek(self.res("Secret"), namespace, secret) is None:
                    return ("CreateContainerConfigError", "Failed", f'Error: secret "{secret}" not found')
        return None

    def reconcile(self, namespace: str, name: str) -> float | None:
        try:
            return self._reconcile(namespace, name)
        except ApiError as exc:
            if exc.code != 404:
                raise
            # Deleted while it was looked at (a ReplicaSet scaled down): the kubelet's status update gets a 404
            # and it moves on; the pod's deletion event brings no more work.
            self._forget(namespace, name)
            return None

    def _reconcile(self, namespace: str, name: str) -> float | None:
        pod = self.store.find(self.res("Pod"), namespace, name)
        if pod is None:
            self._forget(namespace, name)
            return None
        if pod["metadata"].get("deletionTimestamp"):  # Terminating: it goes once its NFS mount lets go
            terminate(self.sim, pod)
            return None
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return None
        containers = [c.get("name", "main") for c in (pod.get("spec") or {}).get("containers") or []]
        blocked = self.blocked(pod)
        created = time.mktime(time.strptime(pod["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"))
        started = float(pod["metadata"].get("annotations", {}).get("mediaops.sim/started") or 0)
        if blocked:
            waiting, reason, message = blocked
            if status.get("reason") != reason or status.get("message") != message:
                self.event(pod, reason, message, "Warning")
            phase = "Pending"
            new = {"phase": phase, "reason": reason, "message": message,
                   "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
                                  {"type": "PodScheduled", "status": "False" if waiting == "Pending" else "True"}],
                   "containerStatuses": [{"name": c, "ready": False, "restartCount": 0,
                                          "state": {"waiting": {"reason": waiting, "message": message}}}
                                         for c in containers]}
            if new != status:
                self.store.set_status(self.res("Pod"), namespace, name, new)
            return None
        if not started:
            self.store.update(self.res("Pod"), namespace, name, lambda p: p["metadata"].setdefault(
                "annotations", {}).update({"mediaops.sim/started": str(time.time())}))
            self.store.set_status(self.res("Pod"), namespace, name, {
                "phase": "Pending", "conditions": [{"type": "Ready", "status": "False"},
                                                   {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{"name": c, "ready": False, "restartCount": 0,
                                       "state": {"waiting": {"reason": "ContainerCreating"}}} for c in containers]})
            return self.timing.pod_start
        remaining = started + self.timing.pod_start - time.time()
        if remaining > 0:
            return remaining
        del created
        node = self.sim.node_for(pod)
        is_job = "job-name" in (pod["metadata"].get("labels") or {})
        if is_job:
            code = int((pod["metadata"].get("annotations") or {}).get(EXIT_CODE) or 0) or \
                (1 if job_fails(self.sim, pod) else 0)  # the job-fail fault: its container exits with an error
            self.store.set_status(self.res("Pod"), namespace, name, {
                "phase": "Failed" if code else "Succeeded", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": c, "ready": False, "restartCount": 0,
                                       "state": {"terminated": {"exitCode": code,
                                                                "reason": "Error" if code else "Completed"}}}
                                      for c in containers]})
            return None
        crashing = crashing_containers(self.sim, pod)
        if crashing:
            return self._crash_loop(pod, containers, crashing, node)
        self._forget(namespace, name)
        before = {c.get("name"): c for c in status.get("containerStatuses") or []}  # restarts stay counted
        ready = {"phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
                 "startTime": status.get("startTime") or now(),
                 "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                 "containerStatuses": [{"name": c, "ready": True,
                                        "restartCount": (before.get(c) or {}).get("restartCount", 0),
                                        "state": {"running": {"startedAt": now()}},
                                        **({"lastState": before[c]["lastState"]}
                                           if (before.get(c) or {}).get("lastState") else {})}
                                       for c in containers]}
        if not _is_ready(pod):
            self.store.update(self.res("Pod"), namespace, name,
                              lambda p: p.setdefault("spec", {}).update(nodeName=node))
            self.store.set_status(self.res("Pod"), namespace, name, ready)
        return None


    def _forget(self, namespace: str, name: str) -> None:
        for key in [k for k in self._backoff if k[:2] == (namespace, name)]:
            del self._backoff[key]

    def _crash_loop(self, pod: dict[str, Any], containers: list[str], crashing: set[str], node: str) -> float:
        """The kubelet restarting containers that exit with an error: each crash adds a restart, the container
        waits in CrashLoopBackOff (back-off 10 s, doubled, at most 5 minutes: kubernetes pkg/kubelet/kubelet.go
        backOffPeriod, MaxContainerBackOff; the message of pkg/kubelet/kuberuntime/kuberuntime_manager.go
        doBackOff), its lastState is the terminated run (reason Error, exit code 1), and the pod is not Ready
        (ContainersNotReady). The back-off is scaled by ``Timing.interval_scale``."""
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        status = pod.get("status") or {}
        before = {c.get("name"): c for c in status.get("containerStatuses") or []}
        moment, stamp = time.time(), now()
        statuses, waits, changed = [], [], False
        for container in containers:
            old = before.get(container) or {}
            restarts = int(old.get("restartCount") or 0)
            if container not in crashing:
                self._backoff.pop((namespace, name, container), None)
                running = (old.get("state") or {}).get("running") if old.get("ready") else None
                changed |= running is None
                statuses.append({"name": container, "ready": True, "started": True, "restartCount": restarts,
                                 "state": {"running": running or {"startedAt": stamp}},
                                 **({"lastState": old["lastState"]} if old.get("lastState") else {})})
                continue
            crashes, due = self._backoff.get((namespace, name, container), (0, 0.0))
            state = old.get("state") or {}
            if moment >= due or (state.get("waiting") or {}).get("reason") != "CrashLoopBackOff":
                crashes += 1
                restarts += 1
                delay = min(10 * 2 ** (crashes - 1), 300)
                due = moment + delay * self.timing.interval_scale
                self._backoff[(namespace, name, container)] = (crashes, due)
                pod_ref = f"{name}_{namespace}({meta.get('uid', '')})"
                if crashes == 1:
                    self.event(pod, "BackOff", f"Back-off restarting failed container {container} in pod {pod_ref}",
                               "Warning")
                state = {"waiting": {"reason": "CrashLoopBackOff", "message": f"back-off {_go_duration(delay)} "
                                     f"restarting failed container={container} pod={pod_ref}"}}
                old = {**old, "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": stamp,
                                                           "finishedAt": stamp}}}
                changed = True
            waits.append(due - moment)
            statuses.append({"name": container, "ready": False, "started": False, "restartCount": restarts,
                             "state": state, "lastState": old.get("lastState") or {}})
        unready = f"containers with unready status: [{' '.join(sorted(crashing))}]"
        new = {"phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
               "startTime": status.get("startTime") or stamp,
               "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": unready},
                              {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
                               "message": unready},
                              {"type": "PodScheduled", "status": "True"}],
               "containerStatuses": statuses}
        if changed or status.get("conditions") != new["conditions"]:
            if not (pod.get("spec") or {}).get("nodeName"):
                self.store.update(self.res("Pod"), namespace, name,
                                  lambda p: p.setdefault("spec", {}).update(nodeName=node))
            self.store.set_status(self.res("Pod"), namespace, name, new)
        return max(min(waits), 0.001)


def _go_duration(seconds: int) -> str:
    """Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


# -- what the faults make of pods (mediaops/sim/faults.py: crashloop, git-sync-fail, job-fail) ------------------
def is_git_sync(container: dict[str, Any]) -> bool:
    """A git-sync container: named git-sync, or running a git-sync image (registry.k8s.io/git-sync/git-sync)."""
    return container.get("name") == "git-sync" or "git-sync" in str(container.get("image") or "")


def _apps_of(pod: dict[str, Any]) -> set[str]:
    """The names a pod answers to as an app: its app.kubernetes.io name and instance, and its workload's name."""
    labels = pod["metadata"].get("labels") or {}
    names = {labels.get("app.kubernetes.io/name"), labels.get("app.kubernetes.io/instance"), labels.get("app")}
    names.add(str(labels.get(OWNER, "")).partition(".")[2])
    return {str(n) for n in names if n}


def targeted(sim: Any, fault: str, pod: dict[str, Any]) -> bool:
    """Whether a fault that names NS/APP (crashloop, git-sync-fail) is in force for this pod."""
    targets = sim.faults.get(fault) or []
    namespace = pod["metadata"].get("namespace", "")
    return any(f"{namespace}/{app}" in targets for app in _apps_of(pod))


def git_sync_max_failures(container: dict[str, Any]) -> int:
    """git-sync v4's ``--max-failures`` (kubernetes/git-sync main.go: envInt(0, "GITSYNC_MAX_FAILURES",
    "GIT_SYNC_MAX_FAILURES"), the flag overriding it); -1 retries forever."""
    value: Any = 0
    for item in container.get("env") or []:
        if isinstance(item, dict) and item.get("name") in ("GITSYNC_MAX_FAILURES", "GIT_SYNC_MAX_FAILURES"):
            value = item.get("value", 0)
    for arg in container.get("args") or []:
        if str(arg).startswith(("--max-failures=", "--max-sync-failures=")):
            value = str(arg).partition("=")[2]
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def crashing_containers(sim: Any, pod: dict[str, Any]) -> set[str]:
    """The containers of a pod that exit with an error: under ``crashloop`` its main container (named main, else
    the first that is not git-sync); under ``git-sync-fail`` its git-sync containers that give up (git-sync exits
    once failCount reaches --max-failures, default 0; with -1 it retries and keeps running)."""
    containers = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    crashing: set[str] = set()
    if containers and targeted(sim, "crashloop", pod):
        main = next((c for c in containers if c.get("name") == "main"), None) or \
            next((c for c in containers if not is_git_sync(c)), containers[0])
        crashing.add(str(main.get("name", "main")))
    if targeted(sim, "git-sync-fail", pod):
        crashing |= {str(c.get("name")) for c in containers if is_git_sync(c) and git_sync_max_failures(c) >= 0}
    return crashing


def job_fails(sim: Any, pod: dict[str, Any]) -> bool:
    """Whether a Job's pod fails: its Job is owned (ownerReferences) by a CronJob the ``job-fail`` fault names, as
    `kubectl create job --from=cronjob/NAME` and the CronJob controller make them."""
    targets = sim.faults.get("job-fail") or []
    if not targets:
        return False
    namespace = pod["metadata"].get("namespace", "")
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") != "Job":
            continue
        job = sim.store.find(kind_of("Job"), namespace, ref.get("name", ""))
        if job is not None and any(r.get("kind") == "CronJob" and f"{namespace}/{r.get('name')}" in targets
                                   for r in job["metadata"].get("ownerReferences") or []):
            return True
    return False


def git_sync_log(sim: Any, pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    """What a git-sync v4 container writes to stderr: JSON lines of go-logr funcr (kubernetes/git-sync
    pkg/logging/logging.go New: funcr.NewJSON with LogCaller All and LogTimestamp; vendored funcr.go FormatInfo,
    FormatError). Info lines are {logger, ts, caller, level, msg, key/values...}; error lines are {logger, ts,
    caller, msg, error, key/values...}: funcr writes no level on an error. The messages and call sites are
    main.go's at v4.5.1: "starting up" (626), SyncRepo's "update required" (1777) and "updated successfully"
    (1823); when a sync fails (the git-sync-fail fault: its fetch cannot resolve the host) "error syncing repo, will
    retry" (927) until failCount reaches --max-failures, then "too many failures, aborting" (924) and exit 1. The
    error is pkg/cmd/cmd.go's ``Run(<command>): <error>: { stdout: "", stderr: "..." }``."""
    from urllib.parse import urlsplit

    env = {str(e.get("name")): str(e.get("value", "")) for e in container.get("env") or [] if isinstance(e, dict)}
    flags = {str(a).partition("=")[0][2:]: str(a).partition("=")[2] for a in container.get("args") or []
             if str(a).startswith("--")}
    repo = flags.get("repo") or env.get("GITSYNC_REPO") or env.get("GIT_SYNC_REPO") or ""
    ref = flags.get("ref") or env.get("GITSYNC_REF") or "HEAD"
    depth = flags.get("depth") or env.get("GITSYNC_DEPTH") or env.get("GIT_SYNC_DEPTH") or "1"
    tag = str(container.get("image") or "").rpartition(":")[2]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # funcr's TimestampFormat "2006-01-02 15:04:05.000000"
    user = ((pod.get("spec") or {}).get("securityContext") or {}).get("runAsUser", 65533)

    def line(caller: int, msg: str, *values: Any, error: str | None = None) -> str:
        entry: dict[str, Any] = {"logger": "", "ts": stamp, "caller": {"file": "main.go", "line": caller}}
        if error is None:
            entry["level"] = 0
        entry["msg"] = msg
        if error is not None:
            entry["error"] = error
        entry.update(zip(values[::2], values[1::2], strict=True))
        return json.dumps(entry, separators=(",", ":"))

    lines = [line(626, "starting up", "version", tag if tag.startswith("v") else "v4.5.1", "pid", 7, "uid", user,
                  "gid", user, "home", "/tmp", "flags", [f"--{k}={v}" for k, v in sorted(flags.items())])]
    if not targeted(sim, "git-sync-fail", pod):
        remote = hashlib.sha1(f"{repo}@{ref}".encode()).hexdigest()
        lines.append(line(1777, "update required", "ref", ref, "local", "", "remote", remote, "syncCount", 0))
        lines.append(line(1823, "updated successfully", "ref", ref, "remote", remote, "syncCount", 1))
        return lines
    host = urlsplit(repo).hostname or repo.partition("@")[2].partition(":")[0] or repo
    command = f"git fetch {repo} {ref} --verbose --no-progress --prune --no-auto-gc --depth {depth}"
    stderr = json.dumps(f"fatal: unable to access '{repo.rstrip('/')}/': Could not resolve host: {host}")
    error = f'Run({command}): exit status 128: {{ stdout: "", stderr: {stderr} }}'
    most = git_sync_max_failures(container)
    for count in range(1, (most if most > 0 else 1 if most == 0 else 3) + 1):  # -1: it keeps retrying
        if 0 <= most <= count:
            lines.append(line(924, "too many failures, aborting", "failCount", count, error=error))
            break
        lines.append(line(927, "error syncing repo, will retry", "failCount", count, error=error))
    return lines


class Claims(Controller):
    """PersistentVolumeClaims bind at once (the rehearsal has every storage class). A deleted claim keeps its
    ``kubernetes.io/pvc-protection`` finalizer while a pod that is not terminated uses it
    (pkg/controller/volume/pvcprotection/pvc_protection_controller.go)."""

    name = "claims"
    watches = ("PersistentVolumeClaim", "Pod")

    def keys_for(self, event: WatchEvent) -> list[Key]:
        if event.resource.kind == "Pod":
            namespace = event.obj["metadata"].get("namespace", "")
            return [(namespace, claim) for claim in _claims_of(event.obj)]
        return super().keys_for(event)

    def in_use(self, namespace: str, name: str) -> bool:
        pods = self.store.scan(self.res("Pod"), namespace)  # read, never changed
        # podUsesPVC counts scheduled pods only; a pod that is Succeeded or Failed no longer holds the claim
        return any(name in _claims_of(p) and (p.get("spec") or {}).get("nodeName")
                   and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") for p in pods)

    def reconcile(self, namespace: str, name: str) -> float | None:
        res = self.res("PersistentVolumeClaim")
        claim = self.store.find(res, namespace, name)
        if claim is not None and claim["metadata"].get("deletionTimestamp"):
            if PVC_PROTECTION in (claim["metadata"].get("finalizers") or []) and not self.in_use(namespace, name):
                try:
                    self.store.update(res, namespace, name, lambda c: c["metadata"].update(finalizers=[
                        f for f in c["metadata"].get("finalizers") or [] if f != PVC_PROTECTION]))
                except ApiError:
                    pass
            return None
        if claim is None or (claim.get("status") or {}).get("phase") == "Bound":
            return None
        size = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        self.sim.seed_claim(namespace, name)
        self.store.set_status(self.res("PersistentVolumeClaim"), namespace, name, {
            "phase": "Bound", "capacity": {"storage": size},
            "accessModes": (claim.get("spec") or {}).get("accessModes") or ["ReadWriteOnce"]})
        return None


def _claims_of(pod: dict[str, Any]) -> list[str]:
    return [str(v["persistentVolumeClaim"].get("claimName")) for v in (pod.get("spec") or {}).get("volumes") or []
            if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)]


def _is_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])
