"""VolSync (backube/volsync, api/v1alpha1) as a backup to restore from: an app's claims backed up by restic
ReplicationSources, and a restore as operators do it, a ReplicationDestination whose manual trigger writes a
snapshot back into the claim.

The contract followed (backube/volsync 5ca54dab3f4183a335ba9722ad42d5b253f54b63):

- api/v1alpha1/replicationsource_types.go: ``spec.sourcePVC`` is the claim backed up, ``spec.restic.repository``
  the Secret naming the restic repository; ``status.lastSyncTime`` is "the time of the most recent successful
  synchronization" (a successful mover run: a snapshot, unless the volume was empty);
- api/v1alpha1/replicationdestination_types.go: ``spec.trigger.manual`` "schedules a manual trigger. Once a sync
  completes then status.lastManualSync is set to the same string value. A consumer of a manual trigger should set
  spec.trigger.manual to a known value and then wait for lastManualSync to be updated by the operator to the same
  value"; ``spec.restic.destinationPVC`` is the claim restored into instead of one VolSync provisions;
  ``restoreAsOf`` picks "the backup that is most recent as of that time", ``previous`` skips that many further back;
  ``enableFileDeletion`` passes ``--delete`` to ``restic restore`` (files the snapshot lacks are removed);
  ``cleanupCachePVC`` removes the restic cache claim after each sync; ``status.latestMoverStatus`` {result, logs};
- internal/controller/statemachine/machine.go and conditions.go: an error is condition ``Synchronizing`` False
  reason ``Error`` with the error as its message;
- mover-restic/entry.sh do_restore: without a snapshot that qualifies the mover *succeeds*, logging "No eligible
  snapshots found" and "=== No data will be restored ===", so ``lastManualSync`` alone does not say that the data
  came back; a failed ``restic restore`` fails the Job (result Failed). restic's own "restoring <Snapshot ID of
  [/data] at TIME by USER@volsync> to ." line (restic's Snapshot.String(); "snapshot ID of …" without the brackets
  in newer restic) names the snapshot; internal/controller/mover/restic/logfilter.go keeps these lines.

How home-ops repositories restore with VolSync (onedr0p/home-ops 8b9a2240317d0f23d9effeef085e9a0c651bd5db
.taskfiles/volsync/Taskfile.yaml ``restore`` and resources/replicationdestination.yaml.j2, the restic era; the same
sequence in onedr0p/home-ops 2ebc32b543c9967b84e92a4d3a25dbb9cfe0a7c0 and buroa/k8s-gitops
f3e5037175de26482afccff64475ccaf611ced66 kubernetes/mod.just ``restore``): suspend the Kustomization and the
HelmRelease, scale to 0, wait for the pods to go, apply a one-off ReplicationDestination ``${APP}-manual`` with
``trigger.manual``, the source's ``repository``, ``destinationPVC`` the source's claim, ``copyMethod: Direct``,
``enableFileDeletion: true`` and ``cleanupCachePVC``, wait for its mover, delete it, resume. The component's own
``${APP}-dst`` ReplicationDestination (copyMethod Snapshot, no destinationPVC) is the volume populator of a new
claim (``dataSourceRef``), not the way to roll an existing claim back, and is left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from mediaops.cluster import waits
from mediaops.cluster.client import Kube, KubeError
from mediaops.cluster.waits import Verdict
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

API = "volsync.backube/v1alpha1"
SOURCE = "volsync.backube/ReplicationSource"
DESTINATION = "volsync.backube/ReplicationDestination"
MANAGED_BY = "app.kubernetes.io/managed-by"
# What a one-off destination takes over from the source's restic settings (the Taskfile's template took the mover's
# user and group from the source; the cache settings keep the restic cache where the source keeps its own).
SOURCE_SETTINGS = ("repository", "customCA", "moverSecurityContext", "moverServiceAccount", "cacheCapacity",
                   "cacheStorageClassName", "cacheAccessModes")
# api/v1alpha1 replicationsource_types.go ReplicationSourceSpec; kopia: the perfectra1n/volsync fork's
MOVERS = ("restic", "kopia", "rsync", "rsyncTLS", "rclone", "syncthing", "external")
NO_SNAPSHOT = "No eligible snapshots found"  # mover-restic/entry.sh do_restore
NOTHING_RESTORED = "No data will be restored"  # the same
RESTORED = re.compile(r"restoring <?[Ss]napshot (\w+) of \[[^\]]*\] at (.*?) by ")  # restic restore's first line


class VolSyncError(MediaopsError):
    pass


def sources_of(kube: Kube, namespace: str, claims: list[str]) -> dict[str, dict[str, Any]]:
    """The restic ReplicationSource that last backed up each claim (``spec.sourcePVC``), by claim: of those with a
    ``status.lastSyncTime``, the newest; claims without one left out (also when VolSync is not installed)."""
    try:
        items, _ = kube.list(SOURCE, namespace)
    except KubeError:
        return {}  # VolSync's CRDs are not installed: its kinds are not served
    newest: dict[str, dict[str, Any]] = {}
    for source in items:
        claim = str((source.get("spec") or {}).get("sourcePVC") or "")
        if claim not in claims or mover(source) != "restic":
            continue
        if last_sync(source) > last_sync(newest.get(claim)):
            newest[claim] = source
    return newest


def mover(obj: dict[str, Any]) -> str:
    """The data mover a ReplicationSource or ReplicationDestination names (api/v1alpha1: one of its movers' specs
    is set; the perfectra1n/volsync fork adds ``kopia``); "" when none is."""
    spec = obj.get("spec") or {}
    return next((m for m in MOVERS if isinstance(spec.get(m), dict)), "")


def other_movers(items: list[dict[str, Any]], claims: list[str]) -> dict[str, str]:
    """Of ``claims``, those whose ReplicationSources (``items``) all use a mover other than restic, with it."""
    restic = {str((s.get("spec") or {}).get("sourcePVC") or "") for s in items if mover(s) == "restic"}
    return {claim: mover(s) for s in items
            if (claim := str((s.get("spec") or {}).get("sourcePVC") or "")) in claims and claim not in restic}


def not_driven(others: dict[str, str]) -> str:
    """What an operator is told of ``other_movers``: mediaops backs up and restores through restic only."""
    return ("; the ReplicationSource of " + ", ".join(f"{claim} uses {used or 'no mover'}"
                                                     for claim, used in sorted(others.items()))
            + ", and mediaops backs up and restores through restic sources only") if others else ""


def last_sync(source: dict[str, Any] | None) -> str:
    """``status.lastSyncTime``: when its last successful synchronization ended ("" when none did)."""
    return str(((source or {}).get("status") or {}).get("lastSyncTime") or "")


def restic_settings(source: dict[str, Any]) -> dict[str, Any]:
    """The source's restic settings a destination restoring its snapshots needs (SOURCE_SETTINGS)."""
    restic = (source.get("spec") or {}).get("restic") or {}
    return {key: restic[key] for key in SOURCE_SETTINGS if restic.get(key) not in (None, "", [], {})}


def _synchronizing(obj: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Synchronizing"), {})


def outcome(obj: dict[str, Any] | None, trigger: str) -> Verdict:
    """Where a destination's sync of ``trigger`` is: done once ``status.lastManualSync`` is the trigger and the
    mover succeeded with a snapshot to restore; failed on a ``Synchronizing`` Error, a mover that did not succeed,
    or no snapshot to restore (the claim then left as it was)."""
    if obj is None:
        return Verdict(status="not created yet")
    status, name = obj.get("status") or {}, obj["metadata"]["name"]
    mover = status.get("latestMoverStatus") or {}
    logs = str(mover.get("logs") or "")
    condition = _synchronizing(obj)
    if status.get("lastManualSync") == trigger:
        if mover.get("result") != "Successful":
            return Verdict(failed=f"VolSync ReplicationDestination {name}: the restic mover ended "
                                  f"{mover.get('result') or 'without a result'}: {_tail(logs)}")
        if NO_SNAPSHOT in logs or NOTHING_RESTORED in logs:
            as_of = ((obj.get("spec") or {}).get("restic") or {}).get("restoreAsOf")
            return Verdict(failed=f"VolSync ReplicationDestination {name}: no snapshot in the repository"
                                  + (f" as old as {as_of}" if as_of else "") + f" ({NO_SNAPSHOT}): the claim was "
                                  "left as it was")
        return Verdict(done=True, status="restored")
    if condition.get("status") == "False" and condition.get("reason") == "Error":
        return Verdict(failed=f"VolSync ReplicationDestination {name}: {condition.get('message') or 'error'} "
                              f"(VolSync tries again on its own; `kubectl get replicationdestination {name} -n "
                              f"{obj['metadata'].get('namespace')} -w` shows when it is past it)")
    if mover.get("result") == "Failed":  # the Job hit its backoff limit: VolSync deletes it and starts another
        return Verdict(status=f"the restic mover failed, VolSync runs it again: {_tail(logs)}")
    return Verdict(status=str(condition.get("message") or condition.get("reason") or "waiting for VolSync"))


def _tail(logs: str) -> str:
    lines = [line for line in logs.splitlines() if line.strip()]
    return " / ".join(lines[-3:]) or "no logs"


def restored_snapshot(obj: dict[str, Any] | None) -> tuple[str, str] | None:
    """(snapshot ID, its time) restic says it restored, from the destination's mover logs; None if it restored
    nothing."""
    found = RESTORED.search(str((((obj or {}).get("status") or {}).get("latestMoverStatus") or {}).get("logs") or ""))
    return (found.group(1), found.group(2)) if found else None


def ours(obj: dict[str, Any]) -> bool:
    """A ReplicationDestination mediaops made for a restore (labelled so), which it may change and delete."""
    return (obj["metadata"].get("labels") or {}).get(MANAGED_BY) == "mediaops"


class Restore(msgspec.Struct, frozen=True):
    """A one-off ReplicationDestination restoring a ReplicationSource's restic snapshot into the claim it backs up
    (``destinationPVC``, ``copyMethod: Direct``), synchronized once by its manual trigger.

    ``trigger`` is the run's own value: a destination already carrying it is this run's (a resumed run waits for
    it and never triggers again); one of an earlier run is given this run's spec. ``as_of`` pins the snapshot to the
    backup the run chose (``restoreAsOf``), so a backup taken meanwhile is not the one restored."""

    kube: Kube
    namespace: str
    name: str
    source: str
    claim: str
    trigger: str
    settings: dict[str, Any]  # restic_settings of the source
    as_of: str = ""

    def body(self) -> dict[str, Any]:
        restic: dict[str, Any] = {**self.settings, "destinationPVC": self.claim, "copyMethod": "Direct"}
        if self.as_of:
            restic["restoreAsOf"] = self.as_of
        restic.update(enableFileDeletion=True, cleanupCachePVC=True)
        return {"apiVersion": API, "kind": "ReplicationDestination",
                "metadata": {"name": self.name, "namespace": self.namespace, "labels": {MANAGED_BY: "mediaops"}},
                "spec": {"trigger": {"manual": self.trigger}, "restic": restic}}

    def render(self) -> str:
        manifest = yaml.safe_dump(self.body(), sort_keys=False).rstrip()
        return (f"kubectl apply -f - <<'EOF'\n{manifest}\nEOF\n"
                f"kubectl wait --for=jsonpath='{{.status.lastManualSync}}'={self.trigger} "
                f"replicationdestination/{self.name} -n {self.namespace} --timeout={waits.timeout_flag()}\n"
                f"kubectl get replicationdestination/{self.name} -n {self.namespace} "
                "-o jsonpath='{.status.latestMoverStatus.logs}'  # restic's \"restoring <Snapshot …>\" line")

    def run(self, ctx: Context) -> str:
        live = self.kube.find(DESTINATION, self.name, self.namespace)
        again = False
        if live is None:
            self.kube.create(DESTINATION, self.body(), self.namespace)
        elif ((live.get("spec") or {}).get("trigger") or {}).get("manual") != self.trigger:
            if not ours(live):
                raise VolSyncError(f"ReplicationDestination {self.namespace}/{self.name} exists and is not "
                                   f"mediaops's (no {MANAGED_BY}=mediaops label): mediaops leaves it alone; "
                                   "delete or rename it to restore")
            body = self.body()

            def take_over(obj: dict[str, Any]) -> None:
                obj["spec"] = body["spec"]

            self.kube.update(DESTINATION, self.name, take_over, self.namespace)
        else:
            again = True  # this run's trigger already: never set again (VolSync would not sync it twice anyway)
        with ctx.waiting(f"VolSync restore {self.name} into {self.claim}") as waiting:
            done = waits.until(self.kube, DESTINATION, self.name, self.namespace,
                               lambda obj: outcome(obj, self.trigger), timeout=waits.TIMEOUT, waiting=waiting)
        snapshot = restored_snapshot(done)
        what = f"restic snapshot {snapshot[0][:8]} of {snapshot[1]}" if snapshot else "the repository"
        return (f"claim {self.claim} restored from {what} (ReplicationSource {self.source})"
                + (f"; trigger {self.trigger} was set before, not again" if again else ""))


class DeleteDestination(msgspec.Struct, frozen=True):
    """``kubectl delete replicationdestination --wait``: the one-off destination of a restore, once done (VolSync
    deletes what it owns: its cache claim, service account, Job)."""

    kube: Kube
    namespace: str
    name: str

    def render(self) -> str:
        return f"kubectl delete replicationdestination {self.name} -n {self.namespace} --wait"

    def run(self, ctx: Context) -> str:
        if self.kube.find(DESTINATION, self.name, self.namespace) is not None:
            self.kube.delete(DESTINATION, self.name, self.namespace)
        with ctx.waiting(f"ReplicationDestination {self.namespace}/{self.name} to go") as waiting:
            waits.gone(self.kube, DESTINATION, self.name, self.namespace, timeout=waits.TIMEOUT, waiting=waiting)
        return f"ReplicationDestination {self.name} deleted"


def sync_outcome(obj: dict[str, Any] | None, trigger: str) -> Verdict:
    """Where a source's manual sync of ``trigger`` is: done once ``status.lastManualSync`` is the trigger and the
    mover succeeded; failed on a ``Synchronizing`` Error or a mover that did not succeed."""
    if obj is None:
        return Verdict(failed="the ReplicationSource was deleted while it synchronized")
    status, name = obj.get("status") or {}, obj["metadata"]["name"]
    mover = status.get("latestMoverStatus") or {}
    condition = _synchronizing(obj)
    if status.get("lastManualSync") == trigger:
        if mover.get("result") not in (None, "Successful"):
            return Verdict(failed=f"VolSync ReplicationSource {name}: the restic mover ended {mover.get('result')}: "
                                  f"{_tail(str(mover.get('logs') or ''))}")
        return Verdict(done=True, status="synchronized")
    if condition.get("status") == "False" and condition.get("reason") == "Error":
        return Verdict(failed=f"VolSync ReplicationSource {name}: {condition.get('message') or 'error'}")
    return Verdict(status=str(condition.get("message") or condition.get("reason") or "waiting for VolSync"))


class Sync(msgspec.Struct, frozen=True):
    """A backup now: the ReplicationSource's manual trigger set to the run's value (``spec.trigger.manual``), waited
    for until ``status.lastManualSync`` says it synchronized, then the trigger taken off again. While a manual
    trigger is set VolSync ignores the schedule (internal/controller/statemachine/machine.go: a manual tag makes
    the trigger manual), so leaving it would stop the app's routine backups. A source that already synchronized
    this trigger (a resumed run) is not triggered again."""

    kube: Kube
    namespace: str
    source: str
    trigger: str

    def render(self) -> str:
        import json

        target = f"replicationsource/{self.source} -n {self.namespace}"
        manual = json.dumps({"spec": {"trigger": {"manual": self.trigger}}}, separators=(",", ":"))
        back = json.dumps({"spec": {"trigger": {"manual": None}}}, separators=(",", ":"))
        return (f"kubectl patch {target} --type merge -p '{manual}'\n"
                f"kubectl wait --for=jsonpath='{{.status.lastManualSync}}'={self.trigger} {target} "
                f"--timeout={waits.timeout_flag(SYNC_TIMEOUT)}\n"
                f"kubectl patch {target} --type merge -p '{back}'")

    def run(self, ctx: Context) -> str:
        live = self.kube.get(SOURCE, self.source, self.namespace)
        if (live.get("status") or {}).get("lastManualSync") != self.trigger:
            if ((live.get("spec") or {}).get("trigger") or {}).get("manual") != self.trigger:
                self.kube.patch(SOURCE, self.source, {"spec": {"trigger": {"manual": self.trigger}}}, self.namespace)
            with ctx.waiting(f"VolSync ReplicationSource {self.source} to synchronize") as waiting:
                live = waits.until(self.kube, SOURCE, self.source, self.namespace,
                                   lambda obj: sync_outcome(obj, self.trigger), timeout=SYNC_TIMEOUT, waiting=waiting)
        self.kube.patch(SOURCE, self.source, {"spec": {"trigger": {"manual": None}}}, self.namespace)
        return f"ReplicationSource {self.source} synchronized ({last_sync(live)}); its schedule back in force"


SYNC_TIMEOUT = 1800.0
