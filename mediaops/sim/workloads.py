"""Deployments, StatefulSets, Jobs, pods and PVCs as the kubelet and controllers would run them.

A pod becomes ready ``Timing.pod_start`` after it is created, unless something real would stop it:
no node matches its nodeSelector, a Secret or ConfigMap it needs is missing, or its NFS server (the
NAS) is down. Each of these shows as the pod's waiting reason and as an Event, as on a real cluster.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from mediaops.cluster.kinds import kind as kind_of
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import PVC_PROTECTION, ApiError, WatchEvent, now

OWNER = "mediaops.sim/owner"  # label on pods: "<Kind>/<name>"
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
        items, _ = self.store.select(self.res("ReplicaSet"), namespace)
        return [rs for rs in items if _owned_by(rs, "Deployment", name)]

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
        if job is None or (job.get("status") or {}).get("completionTime"):
            return None
        pods_res = self.res("Pod")
        pods, _ = self.store.select(pods_res, namespace, f"{OWNER}=Job.{name}")
        template = ((job.get("spec") or {}).get("template")) or {}
        if not pods:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels.update({OWNER: f"Job.{name}", "job-name": name})
            pod = {"metadata": {"name": f"{name}-{uuid.uuid4().hex[:5]}", "namespace": namespace, "labels": labels,
                                "ownerReferences": [{"kind": "Job", "name": name, "uid": job["metadata"]["uid"]}]},
                   "spec": json.loads(json.dumps(template.get("spec") or {}))}
            self.store.create(pods_res, pod)
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
        return None


class Pods(Controller):
    """The scheduler and the kubelet: placement, mounts, secrets, readiness."""

    name = "pods"
    watches = ("Pod", "Secret", "ConfigMap", "Node", "PersistentVolumeClaim")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.store.pod_reaper = lambda pod: terminate(sim, pod)  # the garbage collector's pods go as pods go

    def keys_for(self, event: WatchEvent) -> list[Key]:
        if event.resource.kind == "Pod":
            return super().keys_for(event)
        namespace = (event.obj.get("metadata") or {}).get("namespace")
        pods, _ = self.store.select(self.res("Pod"), namespace or None)
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods if not _is_ready(p)]

    def blocked(self, pod: dict[str, Any]) -> tuple[str, str, str] | None:
        """(waiting reason, event reason, message) when something stops the pod, else None."""
        spec = pod.get("spec") or {}
        namespace = pod["metadata"]["namespace"]
        selector = spec.get("nodeSelector") or {}
        nodes, _ = self.store.select(self.res("Node"))
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
            if claim and self.store.find(self.res("PersistentVolumeClaim"), namespace, claim) is None:
                return ("Pending", "FailedScheduling", f'persistentvolumeclaim "{claim}" not found')
            config = (volume.get("configMap") or {}).get("name")
            if config and self.store.find(self.res("ConfigMap"), namespace, config) is None:
                return ("ContainerCreating", "FailedMount",
                        f'MountVolume.SetUp failed for volume "{volume.get("name")}" : configmap "{config}" not found')
        for container in spec.get("containers") or []:
            for source in container.get("envFrom") or []:
                secret = (source.get("secretRef") or {}).get("name")
                if secret and self.store.find(self.res("Secret"), namespace, secret) is None:
                    return ("CreateContainerConfigError", "Failed", f'Error: secret "{secret}" not found')
        return None

    def reconcile(self, namespace: str, name: str) -> float | None:
        pod = self.store.find(self.res("Pod"), namespace, name)
        if pod is None:
            return None
        if pod["metadata"].get("deletionTimestamp"):  # Terminating: it goes once its NFS mount lets go
            terminate(self.sim, pod)
            return None
        status = pod.get("status") or {}
        if status.get("phase") == "Succeeded":
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
            self.store.set_status(self.res("Pod"), namespace, name, {
                "phase": "Succeeded", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": c, "ready": False, "restartCount": 0,
                                       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
                                      for c in containers]})
            return None
        ready = {"phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "startTime": now(),
                 "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                 "containerStatuses": [{"name": c, "ready": True, "restartCount": 0,
                                        "state": {"running": {"startedAt": now()}}} for c in containers]}
        if not _is_ready(pod):
            self.store.update(self.res("Pod"), namespace, name,
                              lambda p: p.setdefault("spec", {}).update(nodeName=node))
            self.store.set_status(self.res("Pod"), namespace, name, ready)
        return None


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
        pods, _ = self.store.select(self.res("Pod"), namespace)
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
