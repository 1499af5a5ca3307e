"""Velero through its custom resources: no velero binary needed, but its command is always shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediaops.errors import MediaopsError
from mediaops.kube import Kube, Verdict

NAMESPACE = "velero"
FAILED_PHASES = {"Failed", "FailedValidation", "PartiallyFailed"}


class VeleroError(MediaopsError):
    pass


@dataclass
class Outcome:
    name: str
    phase: str
    errors: int
    warnings: int
    items: int


def backup_command(name: str, *, namespaces: list[str], selector: str = "", ttl: str = "720h",
                   location: str = "") -> str:
    line = f"velero backup create {name} --include-namespaces {','.join(namespaces)}"
    if selector:
        line += f" --selector {selector}"
    line += f" --ttl {ttl}" + (f" --storage-location {location}" if location else "") + " --wait"
    return line


def backup(kube: Kube, name: str, *, namespaces: list[str], selector: dict[str, str] | None = None,
           ttl: str = "720h0m0s", location: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"includedNamespaces": namespaces, "ttl": ttl}
    if selector:
        spec["labelSelector"] = {"matchLabels": selector}
    if location:
        spec["storageLocation"] = location
    body = {"metadata": {"name": name, "namespace": NAMESPACE, "labels": labels or {}}, "spec": spec}
    return kube.create("Backup", body, NAMESPACE)


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
                                  f"see `velero {kind.lower()} describe {name} --details`")
        text = f"{phase}" + (f": {done or 0}/{total} items" if total else "")
        return Verdict(status=text, completed=done, total=total)

    return judge


def wait(kube: Kube, kind: str, name: str, *, accept_partial: bool = False, timeout: float = 1800,
         waiting: Any = None) -> Outcome:
    obj = kube.wait(kind, name, NAMESPACE, _phase(kind, accept_partial), timeout=timeout, waiting=waiting)
    status = obj.get("status") or {}
    progress = status.get("progress") or {}
    return Outcome(name, str(status.get("phase")), int(status.get("errors", 0)), int(status.get("warnings", 0)),
                   int(progress.get("itemsBackedUp", progress.get("itemsRestored", 0)) or 0))


def backups(kube: Kube, selector: str = "") -> list[dict[str, Any]]:
    items, _ = kube.list("Backup", NAMESPACE, labels=selector)
    return sorted(items, key=lambda b: b["metadata"].get("creationTimestamp", ""), reverse=True)


def restore_command(backup_name: str) -> str:
    return f"velero restore create --from-backup {backup_name} --wait"


def restore(kube: Kube, backup_name: str, name: str | None = None) -> dict[str, Any]:
    body = {"metadata": {"name": name or f"{backup_name}-restore", "namespace": NAMESPACE},
            "spec": {"backupName": backup_name}}
    return kube.create("Restore", body, NAMESPACE)
