"""Velero through its custom resources: no velero binary needed, but its command is always shown.

The rules followed are Velero's own (vmware-tanzu/velero; see mediaops/sim/velero.py for the files):
a backup holds a volume's *data* only through file-system backup (the node agent reads the volume of a
running pod) or snapshots, never by default; a restore creates what does not exist and skips what does
(``existingResourcePolicy: update`` patches objects, never a claim's data). So an app's data comes back
only by deleting its claims first, with the workloads that mount them stopped (runbooks/restore.py, and
the way back of runbooks/backup_before_upgrade.py).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import msgspec

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, KubeError, NotFound
from mediaops.cluster.kinds import register
from mediaops.cluster.waits import Verdict
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

NAMESPACE = "velero"  # the velero CLI's default namespace (pkg/client/config.go), and the chart's usual one
# pkg/apis/velero/v1/backup_types.go, restore_types.go
FAILED_PHASES = {"Failed", "FailedValidation", "PartiallyFailed"}
# A ConfigMap of volume policies (internal/resourcepolicies): NFS shares are the NAS's, not the app's data;
# file-system backup would copy the whole media library.
POLICY = "mediaops-skip-nfs"
POLICY_YAML = "version: v1\nvolumePolicies:\n- conditions:\n    nfs: {}\n  action:\n    type: skip\n"
# Flux's objects are the repository's to set: a restore must not put back a stale spec (or `suspend: false`).
FLUX_RESOURCES = ("kustomizations.kustomize.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io")

register("velero.io/v1", "PodVolumeBackup")
register("velero.io/v1", "PodVolumeRestore")
register("velero.io/v1", "Schedule")  # "Schedule" alone stays K8up's (kinds.BY_NAME keeps the first)

_SERVER: weakref.WeakKeyDictionary[Kube, str] = weakref.WeakKeyDictionary()


def server_namespace(kube: Kube) -> str:
    """The namespace Velero's server runs in, which holds its Backups, Restores, storage locations and node-agent
    pods (pkg/cmd/server/server.go gives its own namespace to every controller; the chart installs all of it in
    the release's namespace): the namespace of the BackupStorageLocations, the default location's where several
    namespaces have some; NAMESPACE when there is none or Velero's API is not served. Asked once per client."""
    if kube not in _SERVER and default_location(kube) is None:
        return NAMESPACE  # not kept: Velero may be installed later in the run, or the cluster answer later
    return _SERVER[kube]


def default_location(kube: Kube) -> dict[str, Any] | None:
    """The BackupStorageLocation backups go to without ``--storage-location``: the one marked ``spec.default``
    (pkg/cmd/cli/backup/create.go leaves it to the server, which takes the default one), else the only one, else
    one named ``default``; None when Velero is not installed, has none, or the cluster did not answer."""
    try:
        locations, _ = kube.list("BackupStorageLocation")
    except KubeError:
        return None
    marked = [loc for loc in locations if (loc.get("spec") or {}).get("default")]
    named = [loc for loc in locations if loc["metadata"].get("name") == "default"]
    chosen = marked or (locations if len(locations) == 1 else named)
    if not chosen:
        return None
    _SERVER[kube] = str(chosen[0]["metadata"].get("namespace") or NAMESPACE)  # server_namespace asks no more
    return chosen[0]


class VeleroError(MediaopsError):
    pass


class Outcome(msgspec.Struct):
    """How a Velero backup or restore ended: its phase and counts."""

    name: str
    phase: str
    errors: int
    warnings: int
    items: int


class Volume(msgspec.Struct):
    """A volume of one of the app's pods, and what a file-system backup does with it."""

    pod: str  # the pod, or Kind/name of the workload whose template declares it
    name: str
    claim: str = ""  # a PersistentVolumeClaim's name; "" for other kinds of volume
    nfs: str = ""  # server:path of an NFS volume
    node: str = ""
    running: bool = False


class VolumePlan(msgspec.Struct):
    """What a backup of the app can capture of its volumes, decided before the backup is taken."""

    volumes: list[Volume] = msgspec.field(default_factory=list)
    agents: set[str] = msgspec.field(default_factory=set)  # nodes with a running node-agent pod

    @property
    def claims(self) -> list[str]:
        return sorted({v.claim for v in self.volumes if v.claim})

    def problems(self) -> list[str]:
        """Why a claim's data would not be in the backup (empty: every claim's data will be)."""
        found = []
        for claim in self.claims:
            mounts = [v for v in self.volumes if v.claim == claim]
            running = [v for v in mounts if v.running]
            if not running:
                found.append(f"{claim}: no running pod mounts it (Velero skips a stopped pod's volumes silently)")
            elif not any(v.node in self.agents for v in running):
                found.append(f"{claim}: no running Velero node-agent pod on node {running[0].node or '?'}")
        return found

    def describe(self) -> str:
        parts = [f"{c} (file-system backup)" for c in self.claims]
        parts += [f"{v.name} skipped (NFS share {v.nfs})" for v in self.volumes if v.nfs]
        return ", ".join(dict.fromkeys(parts)) or "no volumes"


def exists(kube: Kube, kind: str, name: str) -> bool:
    """Whether Velero's namespace holds this Backup or Restore (a resumed run waits for the one it made)."""
    return kube.find(kind, name, server_namespace(kube)) is not None


def volume_plan(kube: Kube, namespace: str, selector: str) -> VolumePlan:
    """The volumes of the app's workloads and pods, and the nodes Velero's node agent runs on
    (pkg/nodeagent: pods labelled role=node-agent). A workload scaled to 0 still names its claims."""
    plan = VolumePlan()

    def add(owner: str, spec: dict[str, Any], running: bool) -> None:
        for volume in spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName", "")
            nfs = volume.get("nfs")
            if claim or nfs:
                plan.volumes.append(Volume(owner, volume.get("name", ""), claim,
                                           f"{nfs.get('server')}:{nfs.get('path')}" if nfs else "",
                                           str(spec.get("nodeName") or ""), running))

    for kind in ("Deployment", "StatefulSet"):
        for item in kube.list(kind, namespace, labels=selector)[0]:
            add(f"{kind}/{item['metadata']['name']}",
                ((item.get("spec") or {}).get("template") or {}).get("spec") or {}, False)
    for pod in kube.list("Pod", namespace, labels=selector)[0]:
        running = (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
        add(pod["metadata"]["name"], pod.get("spec") or {}, running)
    agents, _ = kube.list("Pod", server_namespace(kube), labels="role=node-agent")
    plan.agents = {str((a.get("spec") or {}).get("nodeName")) for a in agents
                   if (a.get("status") or {}).get("phase") == "Running"}
    return plan


def namespace_flag(server: str) -> str:
    """The velero CLI's ``--namespace`` (pkg/client/factory.go), where Velero is not in its default namespace."""
    return f" --namespace {server}" if server and server != NAMESPACE else ""


def in_namespace(kube: Kube) -> str:
    """``--namespace NS`` for a velero command line, where this cluster's Velero is not in the default namespace."""
    return namespace_flag(server_namespace(kube))


def backup_command(name: str, *, namespaces: list[str], selector: str = "", ttl: str = "720h",
                   location: str = "", volumes: bool = True, server: str = NAMESPACE) -> str:
    line = ""
    if volumes:
        literal = POLICY_YAML.replace("\n", "\\n")  # one line: bash's $'...' turns \n back into newlines
        line = (f"kubectl create configmap {POLICY} -n {server} --from-literal=policy.yaml=$'{literal}' "
                "--dry-run=client -o yaml | kubectl apply -f - && ")
    line += f"velero backup create {name} --include-namespaces {','.join(namespaces)}"
    if selector:
        line += f" --selector {selector}"
    if volumes:
        line += f" --default-volumes-to-fs-backup --resource-policies-configmap {POLICY}"
    line += f" --ttl {ttl}" + (f" --storage-location {location}" if location else "")
    line += namespace_flag(server) + " --wait"
    return line


def ensure_policy(kube: Kube) -> None:
    """The volume-policy ConfigMap the backups name (created once, kept as it is afterwards)."""
    if kube.find("ConfigMap", POLICY, server_namespace(kube)) is None:
        kube.create("ConfigMap", {"metadata": {"name": POLICY, "namespace": server_namespace(kube),
                                               "labels": {"app.kubernetes.io/managed-by": "mediaops"}},
                                  "data": {"policy.yaml": POLICY_YAML}}, server_namespace(kube))


def backup(kube: Kube, name: str, *, namespaces: list[str], selector: dict[str, str] | None = None,
           ttl: str = "720h0m0s", location: str = "", labels: dict[str, str] | None = None,
           volumes: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"includedNamespaces": namespaces, "ttl": ttl}
    if selector:
        spec["labelSelector"] = {"matchLabels": selector}
    if location:
        spec["storageLocation"] = location
    if volumes:
        # The Backup's own field overrides the server's --default-volumes-to-fs-backup, so the data is
        # captured whatever the server's default (pkg/controller/backup_controller.go prepareBackupRequest).
        ensure_policy(kube)
        spec["defaultVolumesToFsBackup"] = True
        spec["resourcePolicy"] = {"kind": "configmap", "name": POLICY}
    server = server_namespace(kube)
    body = {"metadata": {"name": name, "namespace": server, "labels": labels or {}}, "spec": spec}
    return kube.create("Backup", body, server)


def _phase(kind: str, accept_partial: bool) -> Any:
    def judge(obj: dict[str, Any] | None) -> Verdict:
        if obj is None:
            return Verdict(status="not created yet")
        status = obj.get("status") or {}
        phase = status.get("phase") or "New"
        progress = status.get("progress") or {}
        done, total = progress.get("itemsBackedUp", progress.get("itemsRestored")), progress.get("totalItems")
        counts = f"{status.get('errors', 0)} error(s), {status.get('warnings', 0)} warning(s)"
        name = obj["metadata"]["name"]
        if phase == "Completed" or (phase == "PartiallyFailed" and accept_partial):
            return Verdict(done=True, status=f"{phase} ({counts})", completed=done, total=total)
        if phase in FAILED_PHASES:
            reasons = "; ".join(status.get("validationErrors") or []) or status.get("failureReason") or ""
            extra = f": {reasons}" if reasons else ""
            return Verdict(failed=f"{kind} {name} ended {phase} ({counts}){extra}; "
                                  f"see `velero {kind.lower()} describe {name} --details"
                                  f"{namespace_flag(str(obj['metadata'].get('namespace') or ''))}`")
        if phase == "Deleting":  # `velero backup delete` was asked for: it will not complete
            return Verdict(failed=f"{kind} {name} is being deleted")
        text = f"{phase}" + (f": {done or 0}/{total} items" if total else "")
        return Verdict(status=text, completed=done, total=total)

    return judge


def wait(kube: Kube, kind: str, name: str, *, accept_partial: bool = False, timeout: float = 1800,
         waiting: Any = None) -> Outcome:
    obj = waits.until(kube, kind, name, server_namespace(kube), _phase(kind, accept_partial), timeout=timeout,
                      waiting=waiting)
    status = obj.get("status") or {}
    progress = status.get("progress") or {}
    return Outcome(name, str(status.get("phase")), int(status.get("errors", 0)), int(status.get("warnings", 0)),
                   int(progress.get("itemsBackedUp", progress.get("itemsRestored", 0)) or 0))


def volume_backups(kube: Kube, backup_name: str, server: str = "") -> dict[str, dict[str, Any]]:
    """The PodVolumeBackups of a backup that completed, by claim name (in the backup's namespace: ``server``, else
    where the server runs)."""
    try:
        items, _ = kube.list("PodVolumeBackup", server or server_namespace(kube),
                             labels=f"velero.io/backup-name={backup_name}")
    except NotFound:  # Velero is not installed: its kinds are not served
        return {}
    found = {}
    for item in items:
        claim = ((item.get("spec") or {}).get("tags") or {}).get("pvc")
        if claim and (item.get("status") or {}).get("phase") == "Completed":
            found[str(claim)] = item
    return found


def volume_restores(kube: Kube, restore_name: str) -> dict[str, dict[str, Any]]:
    """The PodVolumeRestores of a restore that completed, by claim name."""
    try:
        items, _ = kube.list("PodVolumeRestore", server_namespace(kube),
                             labels=f"velero.io/restore-name={restore_name}")
    except NotFound:  # Velero is not installed: its kinds are not served
        return {}
    return {str((i["metadata"].get("labels") or {}).get("velero.io/pvc-name")): i for i in items
            if (i.get("status") or {}).get("phase") == "Completed"}


def restore_command(backup_name: str, name: str = "", server: str = NAMESPACE) -> str:
    return (f"velero restore create {name or backup_name + '-restore'} --from-backup {backup_name} "
            f"--existing-resource-policy update --exclude-resources {','.join(FLUX_RESOURCES)}"
            f"{namespace_flag(server)} --wait")


def restore(kube: Kube, backup_name: str, name: str | None = None) -> dict[str, Any]:
    body = {"metadata": {"name": name or f"{backup_name}-restore", "namespace": server_namespace(kube)},
            "spec": {"backupName": backup_name, "existingResourcePolicy": "update",
                     "excludedResources": list(FLUX_RESOURCES)}}
    return kube.create("Restore", body, server_namespace(kube))


def backups_of(kube: Kube, claims: list[str], namespace: str) -> list[tuple[str, str]]:
    """(name, completion time) of the Completed backups holding the data of every one of ``claims`` of the
    namespace, newest first: what a restore of those claims can come from."""
    try:
        items, _ = kube.list("Backup", server_namespace(kube))
    except NotFound:  # Velero is not installed: its kinds are not served
        return []
    found = []
    for backup in items:
        status, spec = backup.get("status") or {}, backup.get("spec") or {}
        included = spec.get("includedNamespaces") or ["*"]
        if status.get("phase") != "Completed" or not (namespace in included or "*" in included):
            continue
        held = volume_backups(kube, backup["metadata"]["name"])
        if all(c in held for c in claims):
            found.append((str(backup["metadata"]["name"]), str(status.get("completionTimestamp") or "")))
    return sorted(found, key=lambda item: item[1], reverse=True)


class Restore(msgspec.Struct, frozen=True):
    """``velero restore create --from-backup``: the app's objects updated, the deleted claims made again with
    their data (PodVolumeRestores), Flux's objects left to Flux; waits until the restore ends."""

    kube: Kube
    backup: str
    name: str

    def render(self) -> str:
        return restore_command(self.backup, self.name, server_namespace(self.kube))

    def run(self, ctx: Context) -> str:
        if not exists(self.kube, "Restore", self.name):
            restore(self.kube, self.backup, self.name)
        with ctx.waiting(f"Velero restore {self.name}") as waiting:
            outcome = wait(self.kube, "Restore", self.name, waiting=waiting)
        held = sorted(volume_restores(self.kube, self.name))
        return f"restore {self.name} {outcome.phase}: data of {', '.join(held) or 'no claim'}"


class Backup(msgspec.Struct, frozen=True):
    """``velero backup create --wait``: the app's objects and (``volumes``) its claims' data through file-system
    backup, NFS left to the NAS; waits until the backup ends (PartiallyFailed fails unless ``accept_partial``).
    A backup of that name already there (a resumed run) is waited for, not made again."""

    kube: Kube
    name: str
    namespace: str
    selector: str = ""  # KEY=VALUE, or "" for the whole namespace
    ttl: str = "720h"
    volumes: bool = True
    accept_partial: bool = False
    run_id: str = ""

    def render(self) -> str:
        return backup_command(self.name, namespaces=[self.namespace], selector=self.selector, ttl=self.ttl,
                              volumes=self.volumes, server=server_namespace(self.kube))

    def run(self, ctx: Context) -> str:
        if not exists(self.kube, "Backup", self.name):
            if self.volumes:  # the data of a claim no running pod mounts would be skipped without an error
                problems = volume_plan(self.kube, self.namespace, self.selector).problems()
                if problems:
                    raise VeleroError("the backup would not hold the data of " + "; ".join(problems))
            key, _, value = self.selector.partition("=")
            backup(self.kube, self.name, namespaces=[self.namespace], selector={key: value} if key else None,
                   ttl=self.ttl, labels={"mediaops.io/run-id": self.run_id} if self.run_id else None,
                   volumes=self.volumes)
        with ctx.waiting(f"Velero backup {self.name}") as waiting:
            outcome = wait(self.kube, "Backup", self.name, accept_partial=self.accept_partial, waiting=waiting)
        held = sorted(volume_backups(self.kube, self.name)) if self.volumes else []
        data = f"; data of {', '.join(held)}" if held else "; no volume data"
        return (f"backup {self.name} {outcome.phase}: {outcome.items} items, {outcome.errors} errors, "
                f"{outcome.warnings} warnings{data}")
