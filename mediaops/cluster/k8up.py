"""K8up, as its operator works (k8up-io/k8up): restic snapshots per claim folder, mirrored as `Snapshot` objects
(api/v1/snapshot_types.go: id, date, paths `/data/CLAIM`), and `Restore`s that write a snapshot back into a claim
(restoreMethod.folder.claimName; operator/restorecontroller/executor.go), using the backend the namespace's
Schedule or Backups name (repository URL and password Secret)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, KubeError
from mediaops.cluster.waits import Verdict

if TYPE_CHECKING:
    from mediaops.engine.context import Context

API = "k8up.io/v1"
MOUNT_PATH = "/data"  # where K8up's backup pods mount each claim (operator/backupcontroller/backup_utils.go)


def _items(kube: Kube, plural: str, namespace: str) -> list[dict[str, Any]]:
    try:
        answer = kube.request("GET", f"/apis/{API}/namespaces/{namespace}/{plural}", what=f"{plural}.k8up.io",
                              verb="list")
    except KubeError:
        return []  # K8up is not installed
    return list(answer.get("items") or [])


def snapshots_of(kube: Kube, namespace: str, claims: list[str]) -> dict[str, dict[str, Any]]:
    """The newest Snapshot of each claim's folder (paths ``/data/CLAIM``), by claim; claims without one left out."""
    newest: dict[str, dict[str, Any]] = {}
    for snap in _items(kube, "snapshots", namespace):
        spec = snap.get("spec") or {}
        for path in spec.get("paths") or []:
            claim = str(path).removeprefix(MOUNT_PATH + "/")
            if claim in claims and str(spec.get("date", "")) > str((newest.get(claim) or {}).get("spec", {}).get(
                    "date", "")):
                newest[claim] = snap
    return newest


def serves(kube: Kube) -> bool:
    """Whether K8up's CRDs are installed (the API serves k8up.io/v1)."""
    try:
        kube.request("GET", f"/apis/{API}", what=API, verb="get")
    except KubeError:
        return False
    return True


def schedules(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    """The namespace's K8up Schedules: the routine backups its operator set up."""
    return _items(kube, "schedules", namespace)


BACKUP_ANNOTATION = "k8up.io/backup"  # cmd/operator/main.go BACKUP_ANNOTATION's default


def skips(claim: dict[str, Any]) -> str:
    """Why a K8up Backup of the namespace leaves the claim out, "" when it backs it up (operator/backupcontroller/
    executor.go listAndFilterPVCs: Bound; ReadWriteMany or ReadWriteOnce unless annotated; not annotated false,
    strconv.ParseBool, anything that does not parse being false)."""
    meta, spec = claim.get("metadata") or {}, claim.get("spec") or {}
    if (claim.get("status") or {}).get("phase") != "Bound":
        return "it is not Bound"
    annotations = meta.get("annotations") or {}
    modes = spec.get("accessModes") or []
    if BACKUP_ANNOTATION not in annotations:
        return "" if {"ReadWriteMany", "ReadWriteOnce"} & set(modes) else "neither RWX nor RWO, and not annotated"
    value = str(annotations[BACKUP_ANNOTATION])
    return "" if value in ("1", "t", "T", "TRUE", "true", "True") else f"annotated {BACKUP_ANNOTATION}={value}"


def backend(kube: Kube, namespace: str) -> dict[str, Any] | None:
    """The backend the namespace backs up to: its Schedule's, else its newest Backup's (mergeBackendWithDefaults)."""
    for plural in ("schedules", "backups"):
        found = [o for o in _items(kube, plural, namespace) if (o.get("spec") or {}).get("backend")]
        if found:
            newest = max(found, key=lambda o: str(o["metadata"].get("creationTimestamp", "")))
            return dict(newest["spec"]["backend"])
    return None


def _completed(obj: dict[str, Any] | None) -> Verdict:
    """Completed True with reason Succeeded (api/v1/status.go); Completed with any other reason (Failed) fails
    the wait at once. ``kubectl wait --for=condition=Completed``, the command shown, returns on either: read
    its reason (``kubectl get`` prints it)."""
    conditions = {c.get("type"): c for c in ((obj or {}).get("status") or {}).get("conditions") or []}
    done = conditions.get("Completed") or {}
    if done.get("status") == "True":
        if done.get("reason") == "Succeeded":
            return Verdict(done=True, status="Completed")
        what = f"{str((obj or {}).get('kind') or 'run').lower()} {(obj or {}).get('metadata', {}).get('name')}"
        return Verdict(failed=f"K8up {what} failed: {done.get('reason')}: {done.get('message', '')}")
    progressing = conditions.get("Progressing") or {}
    return Verdict(status=str(progressing.get("message") or progressing.get("reason") or "waiting for its job"))


class Restore(msgspec.Struct, frozen=True):
    """A K8up `Restore` of one snapshot into the claim it was taken from (the claim's files overwritten)."""

    kube: Kube
    namespace: str
    name: str
    snapshot: str
    claim: str
    backend: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"apiVersion": API, "kind": "Restore", "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {"snapshot": self.snapshot, "backend": self.backend,
                         "restoreMethod": {"folder": {"claimName": self.claim}}}}

    def render(self) -> str:
        manifest = yaml.safe_dump(self.body(), sort_keys=False).rstrip()
        return (f"kubectl apply -f - <<'EOF'\n{manifest}\nEOF\n"
                f"kubectl wait --for=condition=Completed restore.k8up.io/{self.name} -n {self.namespace} "
                f"--timeout={waits.timeout_flag()}")

    def run(self, ctx: Context) -> str:
        if self.kube.find("k8up.io/Restore", self.name, self.namespace) is None:
            self.kube.create("k8up.io/Restore", self.body(), self.namespace)
        with ctx.waiting(f"K8up restore {self.name}") as waiting:
            waits.until(self.kube, "k8up.io/Restore", self.name, self.namespace, _completed,
                        timeout=waits.TIMEOUT, waiting=waiting)
        return f"claim {self.claim} restored from K8up snapshot {self.snapshot[:8]}"


class Backup(msgspec.Struct, frozen=True):
    """A K8up `Backup` of the namespace's claims, now (each claim a restic snapshot of its folder ``/data/CLAIM``,
    mirrored as Snapshot objects), to the backend the namespace's Schedule names; waits until Completed
    Succeeded. One of that name already there (a resumed run) is waited for, not made again."""

    kube: Kube
    namespace: str
    name: str
    backend: dict[str, Any]
    run_id: str = ""

    def body(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if self.run_id:
            meta["labels"] = {"mediaops.io/run-id": self.run_id}
        return {"apiVersion": API, "kind": "Backup", "metadata": meta, "spec": {"backend": self.backend}}

    def render(self) -> str:
        manifest = yaml.safe_dump(self.body(), sort_keys=False).rstrip()
        return (f"kubectl apply -f - <<'EOF'\n{manifest}\nEOF\n"
                f"kubectl wait --for=condition=Completed backup.k8up.io/{self.name} -n {self.namespace} "
                f"--timeout={waits.timeout_flag(BACKUP_TIMEOUT)}")

    def run(self, ctx: Context) -> str:
        if self.kube.find("k8up.io/Backup", self.name, self.namespace) is None:
            self.kube.create("k8up.io/Backup", self.body(), self.namespace)
        with ctx.waiting(f"K8up backup {self.name}") as waiting:
            waits.until(self.kube, "k8up.io/Backup", self.name, self.namespace, _completed, timeout=BACKUP_TIMEOUT,
                        waiting=waiting)
        return f"K8up backup {self.name} Completed"


BACKUP_TIMEOUT = 1800.0
