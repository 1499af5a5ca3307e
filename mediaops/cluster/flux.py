"""Flux, as the flux CLI drives it: request a reconcile by annotation, then wait for it to be handled.

``flux reconcile`` sits silent until its timeout when a reconcile fails and will be retried (kstatus calls
that InProgress); here every wait says, live, what the object reports (its conditions) and fails as soon as
the object reports a failure (see ``failure``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from mediaops.cluster import waits
from mediaops.cluster.client import Kube
from mediaops.cluster.marks import (  # noqa: F401  (suspended_by, suspension: flux's to its users)
    SUSPEND_REASON,
    SUSPENDED_BY,
    SUSPENDED_BY_USER,
    FluxStatus,
    suspended_by,
    suspension,
)
from mediaops.cluster.waits import Verdict
from mediaops.errors import MediaopsError

if TYPE_CHECKING:
    from mediaops.engine.context import Context

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
CLI_KIND = {"Kustomization": "kustomization", "HelmRelease": "helmrelease", "GitRepository": "source git",
            "OCIRepository": "source oci", "HelmRepository": "source helm", "HelmChart": "source chart"}


class FluxError(MediaopsError):
    pass


def now_nano() -> str:
    """RFC3339 with nanoseconds, as the flux CLI writes requestedAt."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond * 1000:09d}Z"


def command(kind: str, name: str, namespace: str, *, with_source: bool = False, force: bool = False,
            verb: str = "reconcile", wait: bool = True) -> str:
    """The flux CLI line that does what the wrapper does (verb: reconcile, suspend or resume). Flags only where
    fluxcd/flux2 defines them: --force on reconcile helmrelease (cmd/flux/reconcile_helmrelease.go),
    --with-source on reconcile kustomization, helmrelease and source chart."""
    if force and (verb, kind) != ("reconcile", "HelmRelease"):
        raise ValueError(f"flux {verb} {CLI_KIND[kind]} has no --force")
    if with_source and (verb != "reconcile" or kind not in ("Kustomization", "HelmRelease", "HelmChart")):
        raise ValueError(f"flux {verb} {CLI_KIND[kind]} has no --with-source")
    if not wait and verb != "resume":
        raise ValueError(f"flux {verb} {CLI_KIND[kind]} has no --wait")
    line = f"flux {verb} {CLI_KIND[kind]} {name} -n {namespace}"
    return (line + (" --with-source" if with_source else "") + (" --force" if force else "")
            + ("" if wait else " --wait=false"))


def source_of(obj: dict[str, Any]) -> tuple[str, str, str] | None:
    """What ``flux reconcile … --with-source`` reconciles first (fluxcd/flux2 cmd/flux/reconcile_helmrelease.go
    getSource): a Kustomization's sourceRef; a HelmRelease's HelmChart ``<namespace>-<name>`` (in its
    HelmRepository's namespace) for chart.spec, or its chartRef (OCIRepository or HelmChart)."""
    spec = obj.get("spec") or {}
    namespace = obj["metadata"].get("namespace", "")
    if obj.get("kind") == "HelmRelease":
        ref = spec.get("chartRef")
        if ref:
            return str(ref.get("kind", "OCIRepository")), str(ref.get("name")), str(ref.get("namespace") or namespace)
        chart = (spec.get("chart") or {}).get("spec") or {}
        source_namespace = (chart.get("sourceRef") or {}).get("namespace") or namespace
        return "HelmChart", f"{namespace}-{obj['metadata']['name']}", str(source_namespace)
    ref = spec.get("sourceRef")
    if not ref:
        return None
    return str(ref.get("kind")), str(ref.get("name")), str(ref.get("namespace") or namespace)


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


# Ready=False reasons that say the object waits on something else, not that it failed: helm-controller's and
# kustomize-controller's dependsOn (DependencyNotReady) and a health check cut short by a newer request
# (HealthCheckCanceled, fluxcd/pkg apis/meta).
WAITING_REASONS = {"DependencyNotReady", "HealthCheckCanceled", "Progressing"}
# helm-controller's isReady (internal/controller/helmrelease_controller.go): SourceNotReady with these words is
# a HelmChart/OCIRepository not pulled yet; with any other it is the source's own failure.
SOURCE_PENDING = ("latest generation of object has not been reconciled", "does not have an artifact")


def kstatus(obj: dict[str, Any]) -> tuple[str, str]:
    """("Current" | "InProgress" | "Failed" | "Terminating", why) as kstatus computes it
    (fluxcd/cli-utils pkg/kstatus/status/status.go Compute, generic.go checkGenericProperties):

    - metadata.deletionTimestamp: Terminating;
    - status.observedGeneration behind metadata.generation: InProgress (Flux controllers move it only on
      success or on a terminal error);
    - then the first of Reconciling=True (InProgress) or Stalled=True (Failed) among the conditions;
    - Ready=True: Current; Ready=False or Unknown: InProgress (kstatus cannot tell a retry from a failure).

    An object without observedGeneration or Ready is InProgress: the flux CLI's own guard for objects the
    controller has not reconciled yet (fluxcd/flux2 cmd/flux/readiness.go isObjectReady).
    """
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating", "Resource scheduled for deletion"
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return "InProgress", (f"{obj.get('kind')} generation is {generation}, but latest observed generation is "
                              f"{observed}")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Reconciling" and cond.get("status") == "True":
            return "InProgress", f"Reconciling {cond.get('reason', '')}: {cond.get('message', '')}".strip()
        if cond.get("type") == "Stalled" and cond.get("status") == "True":
            return "Failed", f"Stalled {cond.get('reason', '')}: {cond.get('message', '')}".strip()
    ready = _condition(obj, "Ready")
    text = f"Ready={ready.get('status', '?')} {ready.get('reason', '')}: {ready.get('message', '')}".strip()
    if not ready or observed is None:
        return "InProgress", "not reconciled yet" if not ready else text
    if ready.get("status") == "True":
        return "Current", text
    return "InProgress", text


def failure(obj: dict[str, Any], *, handled: bool) -> str | None:
    """Why the object has failed, or None while it may still get there.

    Stalled=True is a failure (kstatus Failed; for a handled request at once, since the controller deletes
    Stalled when it starts a reconcile: fluxcd/pkg runtime/conditions MarkReconciling). Beyond kstatus,
    mediaops also stops on a retryable failure instead of waiting out its timeout as ``flux reconcile`` does
    since flux 2.2 (kstatus calls Ready=False InProgress):

    - ``handled``: our request was handled and Ready=False, the rule of ``flux reconcile`` before 2.2
      (fluxcd/flux2 cmd/flux/reconcile.go reconciliationHandled, then the Ready check);
    - otherwise: Ready=False for the current generation (the condition's observedGeneration, fluxcd/pkg
      runtime/conditions/setter.go Set) with no new attempt running (Reconciling absent or
      ProgressingWithRetry: kustomize-controller finalizeStatus, helm-controller ErrMustRequeue).

    Ready=False reasons that wait on another object (WAITING_REASONS, a source not pulled yet) are not
    failures.
    """
    stalled = _condition(obj, "Stalled")
    ready = _condition(obj, "Ready")
    reason, message = str(ready.get("reason", "")), str(ready.get("message", ""))
    released = _condition(obj, "Released")
    cause = ""
    if _condition(obj, "Remediated") and released.get("status") == "False":
        # helm-controller summarize: Ready says the remediation; Released says what failed
        cause = f" (after {released.get('reason', '')}: {released.get('message', '')})"
    if stalled.get("status") == "True" and (handled or kstatus(obj)[0] == "Failed"):
        why = f"Stalled {stalled.get('reason', '')}: {stalled.get('message', '')}".strip()
        if ready.get("status") == "False" and message and message != stalled.get("message"):
            why += f" (Ready=False {reason}: {message}{cause})"  # RetriesExceeded says how often, Ready what
        return why
    if ready.get("status") != "False" or reason in WAITING_REASONS:
        return None
    if reason == "SourceNotReady" and message.endswith(SOURCE_PENDING):
        return None
    if not handled:
        generation = (obj.get("metadata") or {}).get("generation")
        about = ready.get("observedGeneration") or (obj.get("status") or {}).get("observedGeneration")
        reconciling = _condition(obj, "Reconciling")
        if about != generation:
            return None
        if reconciling.get("status") == "True" and reconciling.get("reason") != "ProgressingWithRetry" and \
                reason != "SourceNotReady":
            return None
    return f"{reason}: {message}{cause}"


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def handled(before: str | None, *, force_before: str | None = None, force: bool = False) -> Any:
    """A wait condition, as ``flux reconcile`` has it (fluxcd/flux2 cmd/flux/reconcile.go
    reconciliationHandled): the request is handled once ``status.lastHandledReconcileAt`` has moved past
    ``before``, its value when we asked, whoever asked last (a webhook Receiver, another run); then done when
    kstatus says Current, failed at once when ``failure`` says so (Stalled, or Ready=False)."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        if obj is None:
            return Verdict(status="does not exist (yet)")
        status = obj.get("status") or {}
        moved = status.get("lastHandledReconcileAt") not in (None, "", before)
        if force:
            moved = moved and status.get("lastHandledForceAt") not in (None, "", force_before)
        verdict, why = kstatus(obj)
        if not moved:
            return Verdict(status=f"waiting for the controller to pick up the request ({why})")
        failed = failure(obj, handled=True)
        if failed:
            return Verdict(failed=f"{_label(obj)} failed: {failed}")
        if verdict == "Current":
            return Verdict(done=True, status=why)
        return Verdict(status=why)

    return judge


def ready() -> Any:
    """A wait condition: Current by kstatus (Ready=True for the current generation); fails as soon as
    ``failure`` says so (Stalled, or a Ready=False verdict about the current generation)."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        if obj is None:
            return Verdict(status="does not exist yet")
        failed = failure(obj, handled=False)
        if failed:
            return Verdict(failed=f"{_label(obj)}: {failed}")
        verdict, why = kstatus(obj)
        if verdict == "Current":
            return Verdict(done=True, status=why)
        return Verdict(status=why)

    return judge


def reconcile(kube: Kube, kind: str, name: str, namespace: str, *, with_source: bool = False,
              force: bool = False, timeout: float = 300, waiting: Any = None) -> FluxStatus:
    """Annotate requestedAt (and forceAt), then wait until handled and Ready for the current generation."""
    obj = kube.get(kind, name, namespace)
    if (obj.get("spec") or {}).get("suspend"):
        raise FluxError(f"{kind} {namespace}/{name} is suspended", hint=f"resume it: flux resume {CLI_KIND[kind]} "
                        f"{name} -n {namespace}")
    if with_source:
        source = source_of(obj)
        if source:
            reconcile(kube, source[0], source[1], source[2], timeout=timeout, waiting=waiting)
    stamp = now_nano()
    annotations = {REQUESTED_AT: stamp}
    if force:
        annotations[FORCE_AT] = stamp
    patched = kube.patch(kind, name, {"metadata": {"annotations": annotations}}, namespace)
    # What was handled before our request: the value right after our write (the flux CLI reads it from
    # its Update's answer), so a handling that raced in before is not taken for ours.
    status = (patched or obj).get("status") or {}
    done = until(kube, kind, name, namespace, handled(status.get("lastHandledReconcileAt"),
                                                   force_before=status.get("lastHandledForceAt"), force=force),
                 timeout=timeout, waiting=waiting)
    return FluxStatus.of(done)


def until(kube: Kube, kind: str, name: str, namespace: str, judge: Any, *, timeout: float,
          waiting: Any = None) -> dict[str, Any]:
    """``waits.until`` for a Flux object: a failure that names HelmReleases also says what they failed on
    (``release_causes``)."""
    try:
        return waits.until(kube, kind, name, namespace, judge, timeout=timeout, waiting=waiting)
    except waits.WaitFailed as exc:
        causes = release_causes(kube, exc.message)
        if not causes:
            raise
        raise waits.WaitFailed(f"{exc.message}; {causes}", hint=exc.hint) from None


# How kustomize-controller's health check names an object in its message ("failed early due to stalled resources:
# [HelmRelease/media/tautulli status: 'Failed']", "timeout waiting for: [...]"): cli-utils ObjMetadata and status.
NAMED_RELEASE = re.compile(r"HelmRelease/([^/\s]+)/([^\s\]]+) status")


def release_causes(kube: Kube, message: str) -> str:
    """What the HelmReleases a Kustomization's failure names failed on. Once helm-controller remediated (rolled
    back), their Ready says only "Helm rollback … succeeded" (internal/reconcile/release.go summarize: Ready from
    Remediated); Released keeps the failure itself ("Helm upgrade failed …"), which the operator needs."""
    found = []
    for namespace, name in dict.fromkeys(NAMED_RELEASE.findall(message)):
        try:
            release = kube.find("HelmRelease", name, namespace) or {}
        except MediaopsError:
            continue
        released = _condition(release, "Released")
        cause = str(released.get("message") or "")
        if released.get("status") == "False" and cause and cause not in message:
            found.append(f"HelmRelease {namespace}/{name} {released.get('reason', '')}: {cause}")
    return "; ".join(found)


def suspend(kube: Kube, kind: str, name: str, namespace: str, *, by: str = "", why: str = "") -> bool:
    """Set spec.suspend; returns whether it was already suspended. With ``by`` (a run ID), the same patch says
    who suspended it, in which run and why (mediaops.io/suspended-by, -by-user, suspend-reason), so anyone who
    finds it suspended knows, even if the run stops before it could journal that (`flux suspend` leaves no
    such note)."""
    obj = kube.get(kind, name, namespace)
    was = bool((obj.get("spec") or {}).get("suspend"))
    if not was:
        patch: dict[str, Any] = {"spec": {"suspend": True}}
        if by:
            import getpass
            import socket

            patch["metadata"] = {"annotations": {SUSPENDED_BY: by, SUSPENDED_BY_USER: f"{getpass.getuser()}@"
                                                 f"{socket.gethostname()}", SUSPEND_REASON: why or None}}
        kube.patch(kind, name, patch, namespace)
    return was


def unsuspend(kube: Kube, kind: str, name: str, namespace: str) -> None:
    """Clear spec.suspend and mediaops's note of who suspended it, without asking for a reconcile."""
    kube.patch(kind, name, {"spec": {"suspend": False}, "metadata": {"annotations": {
        SUSPENDED_BY: None, SUSPENDED_BY_USER: None, SUSPEND_REASON: None}}}, namespace)


def resume(kube: Kube, kind: str, name: str, namespace: str, *, timeout: float = 300,
           waiting: Any = None) -> FluxStatus:
    """Clear spec.suspend (and mediaops's note of who suspended it), request a reconcile and wait for it, as
    ``flux resume`` does."""
    unsuspend(kube, kind, name, namespace)
    return reconcile(kube, kind, name, namespace, timeout=timeout, waiting=waiting)


def status(kube: Kube, kind: str, name: str, namespace: str) -> FluxStatus:
    return FluxStatus.of(kube.get(kind, name, namespace))


# -- the handle and its operations --------------------------------------------------------------------------
class FluxObject(msgspec.Struct, frozen=True):
    """A Flux object by identity on one cluster (kr8s's APIObject shape): what it is, where, and what can be
    done to it and waited for, without threading (kube, kind, name, namespace) through every call."""

    kube: Kube
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def find(self) -> dict[str, Any] | None:
        return self.kube.find(self.kind, self.name, self.namespace)

    def get(self) -> dict[str, Any]:
        """The object as it is now (NotFound when it does not exist)."""
        return self.kube.get(self.kind, self.name, self.namespace)

    def status(self) -> FluxStatus:
        return status(self.kube, self.kind, self.name, self.namespace)

    def current(self) -> bool:
        """Ready for its current generation (kstatus Current): a Ready left from the previous spec is not."""
        obj = self.find()
        return obj is not None and kstatus(obj)[0] == "Current"

    def reconcile(self, *, with_source: bool = False, force: bool = False, timeout: float = waits.TIMEOUT,
                  waiting: Any = None) -> FluxStatus:
        return reconcile(self.kube, self.kind, self.name, self.namespace, with_source=with_source, force=force,
                         timeout=timeout, waiting=waiting)

    def suspend(self, *, by: str = "", why: str = "") -> bool:
        return suspend(self.kube, self.kind, self.name, self.namespace, by=by, why=why)

    def unsuspend(self) -> None:
        unsuspend(self.kube, self.kind, self.name, self.namespace)

    def wait_ready(self, *, timeout: float = waits.TIMEOUT, waiting: Any = None) -> dict[str, Any]:
        return until(self.kube, self.kind, self.name, self.namespace, ready(), timeout=timeout, waiting=waiting)

    def wait_gone(self, *, timeout: float = waits.TIMEOUT, waiting: Any = None) -> None:
        waits.gone(self.kube, self.kind, self.name, self.namespace, timeout=timeout, waiting=waiting)

    def command(self, verb: str = "reconcile", *, with_source: bool = False, force: bool = False,
                wait: bool = True) -> str:
        return command(self.kind, self.name, self.namespace, verb=verb, with_source=with_source, force=force,
                       wait=wait)

    def wait_command(self, condition: str = "condition=Ready", timeout: float = waits.TIMEOUT) -> str:
        return (f"kubectl wait --for={condition} {self.kind.lower()}/{self.name} -n {self.namespace} "
                f"--timeout={waits.timeout_flag(timeout)}")


class Reconcile(msgspec.Struct, frozen=True):
    """``flux reconcile``: request it, wait until it is handled and Ready for the current generation."""

    obj: FluxObject
    with_source: bool = False
    force: bool = False

    def render(self) -> str:
        return self.obj.command("reconcile", with_source=self.with_source, force=self.force)

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"{self.obj} to reconcile") as waiting:
            state = self.obj.reconcile(with_source=self.with_source, force=self.force, waiting=waiting)
        return f"{self.obj}: {state.message or 'Ready'}"


class WaitReady(msgspec.Struct, frozen=True):
    """``kubectl wait --for=condition=Ready``, judged as kstatus does (a terminal failure fails at once)."""

    obj: FluxObject

    def render(self) -> str:
        return self.obj.wait_command()

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"{self.obj} Ready") as waiting:
            self.obj.wait_ready(waiting=waiting)
        return f"{self.obj} Ready"


class WaitGone(msgspec.Struct, frozen=True):
    """``kubectl wait --for=delete``: Flux pruned the object."""

    obj: FluxObject

    def render(self) -> str:
        return self.obj.wait_command("delete")

    def run(self, ctx: Context) -> str:
        with ctx.waiting(f"{self.obj} to be pruned") as waiting:
            self.obj.wait_gone(waiting=waiting)
        return f"{self.obj} removed from the cluster"


class Suspend(msgspec.Struct, frozen=True):
    """``flux suspend``, noting on the object who suspended it, in which run and why."""

    obj: FluxObject
    run_id: str
    why: str

    def render(self) -> str:
        return self.obj.command("suspend")

    def run(self, ctx: Context) -> str:
        was = self.obj.suspend(by=self.run_id, why=self.why)
        if not was:  # what this run suspended, in its journal too (facts ``suspended``: KIND/NAMESPACE/NAME)
            ctx.facts.setdefault("suspended", []).append(f"{self.obj.kind}/{self.obj.namespace}/{self.obj.name}")
        return f"{self.obj} {'was already' if was else ''} suspended".replace("  ", " ")


class Resume(msgspec.Struct, frozen=True):
    """``flux resume``: unsuspend, request a reconcile and wait until it is handled and Ready. With
    ``wait=False`` (``--wait=false``) only the patch of spec.suspend, as the flux CLI does
    (fluxcd/flux2 da2d22d cmd/flux/resume.go: ``patch`` sets suspend false, the wait only with --wait or one
    name given; the spec change is a new generation, which the controller reconciles)."""

    obj: FluxObject
    wait: bool = True

    def render(self) -> str:
        return self.obj.command("resume", wait=self.wait)

    def run(self, ctx: Context) -> str:
        if not self.wait:
            self.obj.unsuspend()
            return f"{self.obj} resumed"
        with ctx.waiting(f"{self.obj} resumed and Ready") as waiting:
            state = resume(self.obj.kube, self.obj.kind, self.obj.name, self.obj.namespace, waiting=waiting)
        return f"{self.obj} resumed: {state.message or 'Ready'}"
