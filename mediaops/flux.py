"""Flux, as the flux CLI drives it: request a reconcile by annotation, then wait for it to be handled.

``flux reconcile`` sits silent until its timeout when something is wrong; here every wait says, live,
what the object reports (its Ready reason and message) and fails as soon as the object says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mediaops.errors import MediaopsError
from mediaops.kube import Kube, Verdict, condition

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
CLI_KIND = {"Kustomization": "kustomization", "HelmRelease": "helmrelease", "GitRepository": "source git",
            "OCIRepository": "source oci", "HelmRepository": "source helm", "HelmChart": "source chart"}


class FluxError(MediaopsError):
    pass


@dataclass
class FluxStatus:
    ready: str  # "True", "False", "Unknown" or "" when never reconciled
    reason: str
    message: str
    revision: str
    suspended: bool
    observed_current: bool

    @classmethod
    def of(cls, obj: dict[str, Any]) -> FluxStatus:
        ready = condition(obj) or {}
        status = obj.get("status") or {}
        revision = (status.get("lastAppliedRevision") or (status.get("artifact") or {}).get("revision")
                    or status.get("lastAttemptedRevision") or "")
        history = status.get("history") or []
        if obj.get("kind") == "HelmRelease" and history:
            revision = str(history[0].get("chartVersion", revision))
        return cls(str(ready.get("status", "")), str(ready.get("reason", "")), str(ready.get("message", "")),
                   str(revision), bool((obj.get("spec") or {}).get("suspend")),
                   status.get("observedGeneration") == (obj.get("metadata") or {}).get("generation"))


def now_nano() -> str:
    """RFC3339 with nanoseconds, as the flux CLI writes requestedAt."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond * 1000:09d}Z"


def command(kind: str, name: str, namespace: str, *, with_source: bool = False, force: bool = False) -> str:
    line = f"flux reconcile {CLI_KIND[kind]} {name} -n {namespace}"
    return line + (" --with-source" if with_source else "") + (" --force" if force else "")


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


def kstatus(obj: dict[str, Any]) -> tuple[str, str]:
    """("Current" | "InProgress" | "Failed", why) as kstatus computes it for a Flux object
    (fluxcd/cli-utils pkg/kstatus/status/generic.go, with Flux's Ready condition):

    - status.observedGeneration behind metadata.generation: InProgress (the controller has not seen the
      spec yet; it updates observedGeneration only on success or on a terminal error);
    - Stalled=True: Failed (a terminal error: no retry will help);
    - Reconciling=True: InProgress;
    - Ready=True: Current; Ready=False: Failed, unless it waits on a dependency or is progressing.
    """
    state = FluxStatus.of(obj)
    text = f"Ready={state.ready or '?'} {state.reason}: {state.message}".strip()
    if not state.observed_current:
        return "InProgress", f"the controller has not observed generation {obj['metadata'].get('generation')} yet"
    stalled = _condition(obj, "Stalled")
    if stalled.get("status") == "True":
        return "Failed", f"Stalled {stalled.get('reason', '')}: {stalled.get('message', '')}".strip()
    reconciling = _condition(obj, "Reconciling")
    if reconciling.get("status") == "True":
        return "InProgress", f"Reconciling {reconciling.get('reason', '')}: {reconciling.get('message', '')}".strip()
    if state.ready == "True":
        return "Current", text
    if state.ready == "False" and state.reason not in ("DependencyNotReady", "Progressing"):
        return "Failed", f"{state.reason}: {state.message}"
    return "InProgress", text


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def handled(before: str | None, *, force_before: str | None = None, force: bool = False) -> Any:
    """A wait condition, as ``flux reconcile`` has it (fluxcd/flux2 cmd/flux/reconcile.go
    reconciliationHandled): the request is handled once ``status.lastHandledReconcileAt`` has moved past
    ``before``, its value when we asked, whoever asked last (a webhook Receiver, another run); then the
    object is judged by kstatus: done when Current, failed at once when Failed."""

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
        state = FluxStatus.of(obj)
        if verdict == "Failed" or (state.ready == "False" and state.reason not in ("DependencyNotReady",
                                                                                  "Progressing")):
            # handled and not Ready: the flux CLI reports the failure then, observedGeneration or not
            return Verdict(failed=f"{_label(obj)} failed: {why}")
        if verdict == "Current":
            return Verdict(done=True, status=why)
        return Verdict(status=why)

    return judge


def ready() -> Any:
    """A wait condition: Current by kstatus (Ready=True for the current generation); fails as soon as
    kstatus says Failed (Stalled, or Ready=False for the current generation)."""

    def judge(obj: dict[str, Any] | None) -> Verdict:
        if obj is None:
            return Verdict(status="does not exist yet")
        verdict, why = kstatus(obj)
        if verdict == "Current":
            return Verdict(done=True, status=why)
        if verdict == "Failed":
            return Verdict(failed=f"{_label(obj)}: {why}")
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
    done = kube.wait(kind, name, namespace, handled(status.get("lastHandledReconcileAt"),
                                                    force_before=status.get("lastHandledForceAt"), force=force),
                     timeout=timeout, waiting=waiting)
    return FluxStatus.of(done)


def suspend(kube: Kube, kind: str, name: str, namespace: str) -> bool:
    """Set spec.suspend; returns whether it was already suspended."""
    obj = kube.get(kind, name, namespace)
    was = bool((obj.get("spec") or {}).get("suspend"))
    if not was:
        kube.patch(kind, name, {"spec": {"suspend": True}}, namespace)
    return was


def resume(kube: Kube, kind: str, name: str, namespace: str, *, timeout: float = 300,
           waiting: Any = None) -> FluxStatus:
    """Clear spec.suspend, request a reconcile and wait for it, as ``flux resume`` does."""
    kube.patch(kind, name, {"spec": {"suspend": False}}, namespace)
    return reconcile(kube, kind, name, namespace, timeout=timeout, waiting=waiting)


def status(kube: Kube, kind: str, name: str, namespace: str) -> FluxStatus:
    return FluxStatus.of(kube.get(kind, name, namespace))
