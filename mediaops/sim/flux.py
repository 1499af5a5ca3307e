"""Flux's controllers as the runbooks meet them: source, kustomize and helm.

- source-controller: a GitRepository follows a branch of a git repository on disk; a new commit becomes
  a new artifact revision (``main@sha1:…``) on reconcile or on its (scaled) interval.
- kustomize-controller: builds the path at that revision with real kustomize (``kubectl kustomize``),
  decrypts SOPS Secrets, applies post-build substitution from ``substituteFrom``, honours ``dependsOn``,
  ``suspend``, ``prune``, ``wait`` and ``targetNamespace``, and applies the objects. ``cluster-apps``
  therefore creates exactly the app Kustomizations the namespace ``kustomization.yaml`` files list.
- helm-controller: a HelmRelease yields its chart's objects (``charts.render``) and is Ready when its
  workloads are; an unknown chart version fails with Flux's message.

Both honour ``reconcile.fluxcd.io/requestedAt`` (and ``forceAt``) and report
``lastHandledReconcileAt`` the way ``flux reconcile`` waits for it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from mediaops import kinds, selectors
from mediaops.kinds import BY_KIND, Resource
from mediaops.sim import charts
from mediaops.sim.manager import Controller, Key
from mediaops.sim.store import ApiError, WatchEvent, now
from mediaops.yamlfiles import expand, parse, parse_all

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
KS_NAME, KS_NAMESPACE = "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"
HR_NAME, HR_NAMESPACE = "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"
SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"
PRUNE = "kustomize.toolkit.fluxcd.io/prune"
APPLY_ORDER = ["CustomResourceDefinition",
               "Namespace", "ClusterSecretStore", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service",
               "ServiceAccount"]
VARIABLE = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*)|/([^/}]*)/([^}]*))?\}")


def interval(value: Any, default: float = 3600) -> float:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(value or ""))
    if not match or not any(match.groups()):
        return default
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def ready_condition(status: str, reason: str, message: str) -> list[dict[str, Any]]:
    """Flux's conditions for a verdict: Ready, and Reconciling=True while it is in progress (the kstatus
    convention every Flux controller follows, fluxcd/pkg runtime/conditions)."""
    conditions = [{"type": "Ready", "status": status, "reason": reason, "message": message,
                   "lastTransitionTime": now()}]
    if status == "Unknown":
        conditions.append({"type": "Reconciling", "status": "True", "reason": "Progressing", "message": message,
                           "lastTransitionTime": now()})
    return conditions


def get_ready(obj: dict[str, Any] | None) -> tuple[str, str]:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status")), str(condition.get("message", ""))
    return "Unknown", "not reconciled yet"


def substitute(text: str, values: dict[str, str]) -> str:
    """Flux post-build substitution (mediaops.yamlfiles.expand): an undefined variable without a default
    renders empty, as kustomize-controller does without strict substitution."""
    return expand(text, values, missing="")


def object_ready(sim: Any, obj: dict[str, Any]) -> tuple[bool, str]:
    """Whether an applied object is healthy, as Flux's health checks judge kinds it knows."""
    kind, meta = obj.get("kind"), obj.get("metadata") or {}
    res = BY_KIND.get((obj.get("apiVersion", "").rpartition("/")[0] if "/" in obj.get("apiVersion", "") else "",
                       str(kind)))
    if res is None:
        return True, ""
    live = sim.store.find(res, meta.get("namespace", ""), meta.get("name", ""))
    label = f"{kind}/{meta.get('namespace')}/{meta.get('name')}" if res.namespaced else f"{kind}/{meta.get('name')}"
    if live is None:
        return False, f"{label} (not found)"
    status = live.get("status") or {}
    if kind in ("Deployment", "StatefulSet"):
        want = int((live.get("spec") or {}).get("replicas", 1))
        have = int(status.get("readyReplicas", 0))
        current = status.get("observedGeneration", 0) >= live["metadata"].get("generation", 1)
        return (have >= want and current), f"{label} ({have}/{want} ready)"
    if kind in ("HelmRelease", "Kustomization", "ExternalSecret"):
        state, message = get_ready(live)
        current = status.get("observedGeneration") == live["metadata"].get("generation") or kind == "ExternalSecret"
        return (state == "True" and current), f"{label} (Ready={state}: {message})"
    if kind == "PersistentVolumeClaim":
        return status.get("phase") == "Bound", f"{label} ({status.get('phase', 'Pending')})"
    return True, ""


def stalled_object(sim: Any, obj: dict[str, Any]) -> str | None:
    """A Flux object that reports failure for its current generation (kstatus: Failed)."""
    if obj.get("kind") not in ("HelmRelease", "Kustomization"):
        return None
    res = _resource(obj)
    meta = obj.get("metadata") or {}
    live = sim.store.find(res, meta.get("namespace", ""), meta.get("name", "")) if res else None
    if live is None:
        return None
    state, message = get_ready(live)
    reason = next((c.get("reason") for c in (live.get("status") or {}).get("conditions") or []
                   if c.get("type") == "Ready"), "")
    current = (live.get("status") or {}).get("observedGeneration") == live["metadata"].get("generation")
    if state == "False" and current and reason != "DependencyNotReady":
        return f"{live['kind']}/{meta.get('namespace')}/{meta.get('name')} status: 'Failed' ({message})"
    return None


class Sources(Controller):
    name = "source-controller"
    watches = ("GitRepository", "HelmRepository", "OCIRepository", "HelmChart")

    def reconcile(self, namespace: str, name: str) -> float | None:
        for kind_name in self.watches:
            obj = self.store.find(self.res(kind_name), namespace, name)
            if obj is not None:
                return self._source(kind_name, obj)
        return None

    def _source(self, kind_name: str, obj: dict[str, Any]) -> float | None:
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        if spec.get("suspend"):
            return None
        annotations = meta.get("annotations") or {}
        requested = annotations.get(REQUESTED_AT)
        if requested and requested != (obj.get("status") or {}).get("lastHandledReconcileAt") and \
                self.sim.receiver_fires(requested):
            # The notification-controller's webhook Receiver asks too (a push fires it): it writes its own
            # requestedAt before this one is handled, and the newer request is the one handled.
            from datetime import UTC, datetime

            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
            self.sim.receiver_stamps.add(stamp)
            self.store.update(self.res(kind_name), meta.get("namespace", ""), meta["name"],
                              lambda o: o["metadata"].setdefault("annotations", {}).update({REQUESTED_AT: stamp}))
            return 0.0  # the update enqueues it again
        status = dict(obj.get("status") or {})
        status["observedGeneration"] = meta.get("generation", 1)
        if requested:
            status["lastHandledReconcileAt"] = requested
        failing = self.sim.failing(kind_name, meta.get("namespace", ""), meta["name"])
        if kind_name == "GitRepository":
            branch = (spec.get("ref") or {}).get("branch", "main")
            try:
                sha = self.sim.resolve(str(spec.get("url", "")), branch)
            except RuntimeError as exc:
                failing = failing or str(exc)
                sha = ""
            if failing:
                status["conditions"] = ready_condition("False", "GitOperationFailed", failing)
            else:
                revision = f"{branch}@sha1:{sha}"
                self.sim.checkout(str(spec.get("url", "")), sha)
                status["artifact"] = {"revision": revision, "lastUpdateTime": now(), "path": f"gitrepository/{sha}"}
                status["conditions"] = ready_condition("True", "Succeeded",
                                                       f"stored artifact for revision '{revision}'")
        elif kind_name == "HelmChart":
            # The chart a HelmRelease's chart.spec names, pulled from its HelmRepository: an unknown version
            # fails here, as source-controller's chart pull does.
            chart, version = str(spec.get("chart", "")), str(spec.get("version", ""))
            if not failing and not charts.known(chart, version):
                failing = (f"chart pull error: failed to get chart version for remote reference: no '{chart}' "
                           f"chart with version matching '{version}' found")
            if failing:
                status["conditions"] = ready_condition("False", "ChartPullFailed", failing)
            else:
                status["artifact"] = {"revision": version, "lastUpdateTime": now()}
                status["conditions"] = ready_condition("True", "ChartPullSucceeded",
                                                       f"pulled '{chart}' chart with version '{version}'")
        else:
            tag = (spec.get("ref") or {}).get("tag", "latest")
            status["artifact"] = {"revision": f"{tag}@sha256:rehearsal" if kind_name == "OCIRepository"
                                  else "sha256:rehearsal-index", "lastUpdateTime": now()}
            status["conditions"] = (ready_condition("False", "FetchFailed", failing) if failing else
                                    ready_condition("True", "Succeeded", "stored artifact"))
        self._write(kind_name, obj, status)
        return interval(spec.get("interval"), 3600) * self.timing.interval_scale

    def _write(self, kind_name: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        old = {k: v for k, v in (obj.get("status") or {}).items()}
        if _same(old, status):
            return
        self.store.set_status(self.res(kind_name), obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                              status)


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Status equality ignoring timestamps, so an unchanged reconcile writes nothing."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("lastTransitionTime", "lastUpdateTime")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(old), sort_keys=True) == json.dumps(strip(new), sort_keys=True)


class Kustomizations(Controller):
    name = "kustomize-controller"
    watches = ("Kustomization", "GitRepository", "HelmRelease", "Deployment", "StatefulSet", "ExternalSecret",
               "PersistentVolumeClaim")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.builds: dict[tuple[str, str, tuple[str, ...]], list[dict[str, Any]] | str] = {}
        self.health_since: dict[Key, float] = {}

    def keys_for(self, event: WatchEvent) -> list[Key]:
        kind_name = event.resource.kind
        meta = event.obj.get("metadata") or {}
        if kind_name == "Kustomization":
            mine = (meta.get("namespace", ""), meta.get("name", ""))
            dependents = [(k["metadata"]["namespace"], k["metadata"]["name"])
                          for k in self.store.all_of(self.res("Kustomization"))
                          if any(d.get("name") == mine[1] and (d.get("namespace") or k["metadata"]["namespace"]) ==
                                 mine[0] for d in (k.get("spec") or {}).get("dependsOn") or [])]
            owner = self._owner(event.obj)
            return [mine, *dependents, *([owner] if owner else [])]
        if kind_name == "GitRepository":
            return [(k["metadata"]["namespace"], k["metadata"]["name"])
                    for k in self.store.all_of(self.res("Kustomization"))
                    if ((k.get("spec") or {}).get("sourceRef") or {}).get("name") == meta.get("name")]
        owner = self._owner(event.obj)
        return [owner] if owner else []

    @staticmethod
    def _owner(obj: dict[str, Any]) -> Key | None:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if KS_NAME in labels:
            return labels.get(KS_NAMESPACE, ""), labels[KS_NAME]
        return None

    def _status(self, obj: dict[str, Any], ready: str, reason: str, message: str, **extra: Any) -> None:
        meta = obj["metadata"]
        status = dict(obj.get("status") or {})
        status.update(extra)
        status["observedGeneration"] = meta.get("generation", 1)
        status["conditions"] = ready_condition(ready, reason, message)
        requested = (meta.get("annotations") or {}).get(REQUESTED_AT)
        if requested and ready != "Unknown":
            status["lastHandledReconcileAt"] = requested
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("Kustomization"), meta["namespace"], meta["name"], status)

    def reconcile(self, namespace: str, name: str) -> float | None:
        import time

        obj = self.store.find(self.res("Kustomization"), namespace, name)
        if obj is None:
            return None
        spec = obj.get("spec") or {}
        if spec.get("suspend"):
            return None
        retry = self.timing.retry
        every = interval(spec.get("interval"), 3600) * self.timing.interval_scale
        ref = spec.get("sourceRef") or {}
        source = self.store.find(self.res("GitRepository"), ref.get("namespace") or namespace, ref.get("name", ""))
        revision = ((source or {}).get("status") or {}).get("artifact", {}).get("revision")
        if not revision or get_ready(source)[0] != "True":
            self._status(obj, "False", "ArtifactFailed",
                         f"Source artifact not found, retrying in {spec.get('retryInterval', '2m')}")
            return retry
        for dep in spec.get("dependsOn") or []:
            other = self.store.find(self.res("Kustomization"), dep.get("namespace") or namespace, dep.get("name", ""))
            ok = other is not None and get_ready(other)[0] == "True" and (other.get("status") or {}).get(
                "observedGeneration") == other["metadata"].get("generation")
            if not ok:
                self._status(obj, "False", "DependencyNotReady",
                             f"dependency '{dep.get('namespace') or namespace}/{dep.get('name')}' is not ready")
                return retry
        failing = self.sim.failing("Kustomization", namespace, name)
        if failing:
            self._status(obj, "False", "ReconciliationFailed", failing, lastAttemptedRevision=revision)
            self.event(obj, "ReconciliationFailed", failing, "Warning")
            return retry
        try:
            objects = self._build(obj, revision)
            applied = self._apply(obj, objects)
        except BuildError as exc:
            self._status(obj, "False", exc.reason, str(exc), lastAttemptedRevision=revision)
            self.event(obj, exc.reason, str(exc), "Warning")
            return retry
        if spec.get("wait"):
            stalled = [label for label in (stalled_object(self.sim, o) for o in applied) if label]
            if stalled:
                self.health_since.pop((namespace, name), None)
                self._status(obj, "False", "HealthCheckFailed", "health check failed: failed early due to stalled "
                             "resources: [" + ", ".join(stalled) + "]", lastAttemptedRevision=revision)
                return retry
            waiting = [label for ok, label in (object_ready(self.sim, o) for o in applied) if not ok]
            if waiting:
                started = self.health_since.setdefault((namespace, name), time.monotonic())
                if time.monotonic() - started > self.timing.health_timeout:
                    self._status(obj, "False", "HealthCheckFailed", "timeout waiting for: " + ", ".join(waiting),
                                 lastAttemptedRevision=revision)
                    self.health_since.pop((namespace, name), None)
                    return retry
                self._status(obj, "Unknown", "Progressing", "health check in progress: waiting for "
                             + ", ".join(waiting[:4]) + (f" and {len(waiting) - 4} more" if len(waiting) > 4 else ""),
                             lastAttemptedRevision=revision)
                return self.timing.poll
        self.health_since.pop((namespace, name), None)
        self._status(obj, "True", "ReconciliationSucceeded", f"Applied revision: {revision}",
                     lastAppliedRevision=revision, lastAttemptedRevision=revision)
        return every

    # -- build ----------------------------------------------------------------------------------------
    def _build(self, obj: dict[str, Any], revision: str) -> list[dict[str, Any]]:
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        sha = revision.rpartition(":")[2]
        root = self.sim.source_dir(sha)
        path = os.path.normpath(os.path.join(root, str(spec.get("path", "./"))))
        components = tuple(str(c) for c in spec.get("components") or [])
        key = (sha, path, components)
        if key not in self.builds:
            self.builds[key] = self._kustomize(Path(path), root, components)
        built = self.builds[key]
        if isinstance(built, str):
            raise BuildError("BuildFailed", built)
        objects = copy.deepcopy(built)
        if (spec.get("decryption") or {}).get("provider") == "sops":
            objects = [self._decrypt(o, meta["namespace"], spec) for o in objects]
        values = self._variables(obj)
        target = spec.get("targetNamespace")
        common = spec.get("commonMetadata") or {}
        for item in objects:  # CRDs first: the objects of the kinds they define may come before them
            if item.get("kind") == "CustomResourceDefinition":
                kinds.register_crd(item)
        result = []
        for item in objects:
            if _resource(item) is None and "/" in str(item.get("apiVersion", "")) and item.get("kind"):
                # A custom kind whose CRD a chart installs: the rehearsal stores and lists it; no controller acts.
                kinds.register(str(item["apiVersion"]), str(item["kind"]))
            item_meta = item.get("metadata") or {}
            disabled = "disabled" in ((item_meta.get("annotations") or {}).get(SUBSTITUTE),
                                      (item_meta.get("labels") or {}).get(SUBSTITUTE))
            if not disabled and values is not None:  # Flux substitutes the YAML text, then parses it again
                item = parse(substitute(yaml.safe_dump(item, sort_keys=False, width=1 << 20), values))
            for patch in spec.get("patches") or []:
                if selectors.target_matches(patch.get("target"), item):
                    body = yaml.safe_load(patch.get("patch") or "{}") or {}
                    body.pop("metadata", None)
                    item = _deep_merge(item, body)
            res = _resource(item)
            item_meta = item.setdefault("metadata", {})
            if res is not None and res.namespaced:
                if target:
                    item_meta["namespace"] = target
                item_meta.setdefault("namespace", meta["namespace"])
            labels = item_meta.setdefault("labels", {})
            labels.update(common.get("labels") or {})
            labels.update({KS_NAME: meta["name"], KS_NAMESPACE: meta["namespace"]})
            if common.get("annotations"):
                item_meta.setdefault("annotations", {}).update(common["annotations"])
            result.append(item)
        return result

    def _kustomize(self, path: Path, root: str, components: tuple[str, ...] = ()) -> list[dict[str, Any]] | str:
        if not path.is_dir():
            return f"kustomization path not found: {os.path.relpath(path, root)}"
        if not any((path / n).is_file() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
            _generate_kustomization(path)
        if components:  # spec.components join the kustomization's own (kustomize-controller generator.go)
            kfile = next(path / n for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
                         if (path / n).is_file())
            spec = parse(kfile.read_text()) or {}
            spec["components"] = [*(spec.get("components") or []), *components]
            kfile.write_text(yaml.safe_dump(spec, sort_keys=False))
        # kustomize-controller builds with LoadRestrictionsNone (fluxcd/pkg kustomize/kustomize_generator.go):
        # a kustomization may list files outside its own folder (``../vars/cluster-settings.yaml``).
        result = subprocess.run([self.sim.kubectl, "kustomize", "--load-restrictor=LoadRestrictionsNone", str(path)],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:  # kustomize's error spans lines; the last ones say where
            lines = [line.strip().removeprefix("error: ") for line in result.stderr.splitlines() if line.strip()]
            detail = "; ".join(lines[:1] + lines[-2:] if len(lines) > 3 else lines) or "unknown error"
            return f"kustomize build failed: {detail}"
        return [d for d in parse_all(result.stdout) if isinstance(d, dict)]

    def _decrypt(self, item: dict[str, Any], namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
        if "sops" not in item:
            return item
        from mediaops.sim import sops

        ref = (spec.get("decryption") or {}).get("secretRef") or {}
        if not ref.get("name"):
            # No secretRef: the controller-level key (kustomize-controller --sops-age-secret, in its own
            # namespace); the rehearsal's controller holds flux-system/sops-age.
            namespace = "flux-system"
        secret_name = ref.get("name") or "sops-age"
        key = self.store.find(self.res("Secret"), namespace, secret_name)
        if key is None:
            raise BuildError("DecryptionFailed", f"failed to decrypt: secret '{namespace}/{secret_name}' not found")
        identities = [base64.b64decode(v).decode().strip() for v in (key.get("data") or {}).values()]
        identities = [line for i in identities for line in i.splitlines() if line.startswith("AGE-SECRET-KEY-")]
        try:  # kustomize wrote the document with its keys sorted: the MAC's order is gone (sops.decrypt)
            return sops.decrypt(item, identities, check_mac=False)
        except sops.ForeignKey:  # encrypted for the repository owner's key: rehearse with placeholders
            return sops.placeholders(item)
        except sops.SopsError as exc:
            raise BuildError("DecryptionFailed", f"failed to decrypt {item['metadata'].get('name')}: {exc}") from None

    def _variables(self, obj: dict[str, Any]) -> dict[str, str] | None:
        post = (obj.get("spec") or {}).get("postBuild")
        if not post:
            return None
        namespace = obj["metadata"]["namespace"]
        values: dict[str, str] = {}
        for ref in post.get("substituteFrom") or []:
            kind_name = ref.get("kind", "ConfigMap")
            source = self.store.find(self.res(kind_name), namespace, ref.get("name", ""))
            if source is None:
                if ref.get("optional"):
                    continue
                raise BuildError("BuildFailed", f"substitute from '{kind_name}/{ref.get('name')}' error: "
                                 f"{kind_name.lower()}s \"{ref.get('name')}\" not found")
            data = dict(source.get("data") or {})
            if kind_name == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in data.items()}
                data.update(source.get("stringData") or {})
            values.update({str(k): str(v) for k, v in data.items()})
        values.update({str(k): str(v) for k, v in (post.get("substitute") or {}).items()})
        return values

    # -- apply ------------------------------------------------------------------------------------------
    def _apply(self, obj: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        meta = obj["metadata"]
        ordered = sorted(objects, key=lambda o: (APPLY_ORDER.index(str(o.get("kind"))) if o.get("kind") in APPLY_ORDER
                                                  else len(APPLY_ORDER), o.get("kind", ""), o["metadata"]["name"]))
        entries = []
        for item in ordered:
            res = _resource(item)
            if res is None:
                raise BuildError("ReconciliationFailed", f"{item.get('kind')}/{item['metadata'].get('name')} dry-run "
                                 f"failed: no matches for kind \"{item.get('kind')}\" in version "
                                 f"\"{item.get('apiVersion')}\"")
            namespace = item["metadata"].get("namespace", "") if res.namespaced else ""
            if item.get("kind") == "Secret" and "stringData" in item:
                data = item.setdefault("data", {})
                for k, v in item.pop("stringData").items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            self.sim.apply(res, item)
            entries.append({"id": f"{namespace}_{item['metadata']['name']}_{res.group}_{res.kind}",
                            "v": res.version})
        previous = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
        if (obj.get("spec") or {}).get("prune"):
            keep = {e["id"] for e in entries}
            for entry in previous:
                if entry["id"] not in keep:
                    self._prune(entry["id"])
        status = dict(obj.get("status") or {})
        status["inventory"] = {"entries": entries}
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("Kustomization"), meta["namespace"], meta["name"], status)
            obj["status"] = status
        return ordered

    def _prune(self, entry: str) -> None:
        namespace, rest = entry.split("_", 1)
        kind_name = rest.rpartition("_")[2]
        group_name = rest.rpartition("_")[0]
        name, _, group = group_name.rpartition("_")
        res = BY_KIND.get((group, kind_name))
        if res is None:
            return
        live = self.store.find(res, namespace, name)
        if live is None or ((live["metadata"].get("annotations") or {}).get(PRUNE) == "disabled"):
            return
        if kind_name == "Kustomization" and (live.get("spec") or {}).get("prune"):
            # Flux's finalizer: a deleted Kustomization garbage-collects what it applied first.
            for owned in ((live.get("status") or {}).get("inventory") or {}).get("entries") or []:
                self._prune(owned["id"])
        try:
            self.store.delete(res, namespace, name)
        except ApiError:
            pass
        if kind_name == "HelmRelease":
            self.sim.uninstall(namespace, name)


class BuildError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _resource(item: dict[str, Any]) -> Resource | None:
    api = str(item.get("apiVersion", ""))
    return BY_KIND.get((api.rpartition("/")[0] if "/" in api else "", str(item.get("kind", ""))))


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _generate_kustomization(path: Path) -> None:
    """What kustomize-controller does for a path without kustomization.yaml: list what is below."""
    resources = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and any((child / n).is_file() for n in ("kustomization.yaml", "kustomization.yml")):
            resources.append(child.name)
        elif child.is_dir():
            _generate_kustomization(child)
            resources.append(child.name)
        elif child.suffix in (".yaml", ".yml"):
            resources.append(child.name)
    (path / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}))


class HelmReleases(Controller):
    name = "helm-controller"
    watches = ("HelmRelease", "Deployment", "StatefulSet", "ConfigMap", "HelmChart")

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.health_since: dict[Key, float] = {}

    def keys_for(self, event: WatchEvent) -> list[Key]:
        meta = event.obj.get("metadata") or {}
        if event.resource.kind == "HelmRelease":
            mine = (meta.get("namespace", ""), meta.get("name", ""))
            dependents = [(h["metadata"]["namespace"], h["metadata"]["name"])
                          for h in self.store.all_of(self.res("HelmRelease"))
                          if any(d.get("name") == mine[1] for d in (h.get("spec") or {}).get("dependsOn") or [])]
            return [mine, *dependents]
        if event.resource.kind == "HelmChart":  # <namespace>-<name> of the release it was made for
            releases = self.store.all_of(self.res("HelmRelease"))
            return [(h["metadata"]["namespace"], h["metadata"]["name"]) for h in releases
                    if f"{h['metadata']['namespace']}-{h['metadata']['name']}" == meta.get("name")]
        labels = meta.get("labels") or {}
        if HR_NAME in labels:
            return [(labels.get(HR_NAMESPACE, meta.get("namespace", "")), labels[HR_NAME])]
        if event.resource.kind == "ConfigMap":
            return [(h["metadata"]["namespace"], h["metadata"]["name"])
                    for h in self.store.all_of(self.res("HelmRelease"))
                    if h["metadata"]["namespace"] == meta.get("namespace") and any(
                        v.get("name") == meta.get("name") for v in (h.get("spec") or {}).get("valuesFrom") or [])]
        return []

    def _status(self, obj: dict[str, Any], ready: str, reason: str, message: str, **extra: Any) -> None:
        meta = obj["metadata"]
        status = dict(obj.get("status") or {})
        status.update(extra)
        status["observedGeneration"] = meta.get("generation", 1)
        status["conditions"] = ready_condition(ready, reason, message)
        annotations = meta.get("annotations") or {}
        if ready != "Unknown":
            if annotations.get(REQUESTED_AT):
                status["lastHandledReconcileAt"] = annotations[REQUESTED_AT]
            if annotations.get(FORCE_AT):
                status["lastHandledForceAt"] = annotations[FORCE_AT]
        if not _same(obj.get("status") or {}, status):
            self.store.set_status(self.res("HelmRelease"), meta["namespace"], meta["name"], status)

    def _chart(self, obj: dict[str, Any]) -> tuple[str, str, str | None]:
        """(chart, version, error)."""
        spec, namespace = obj.get("spec") or {}, obj["metadata"]["namespace"]
        if spec.get("chartRef"):
            ref = spec["chartRef"]
            repo = self.store.find(self.res(ref.get("kind", "OCIRepository")), ref.get("namespace") or namespace,
                                   ref.get("name", ""))
            if repo is None:
                return "", "", f"chartRef {ref.get('kind')}/{ref.get('name')} not found"
            repo_spec = repo.get("spec") or {}
            chart_name = str(repo_spec.get("url") or ref.get("name", "")).rstrip("/").rpartition("/")[2]
            return chart_name, str((repo_spec.get("ref") or {}).get("tag", "")), None
        chart = ((spec.get("chart") or {}).get("spec")) or {}
        source = chart.get("sourceRef") or {}
        repo = self.store.find(self.res(source.get("kind", "HelmRepository")), source.get("namespace") or namespace,
                               source.get("name", ""))
        if repo is None:
            return str(chart.get("chart")), str(chart.get("version")), (
                f"HelmRepository '{source.get('namespace') or namespace}/{source.get('name')}' not found")
        return str(chart.get("chart", "")), str(chart.get("version", "")), None

    def _helm_chart(self, obj: dict[str, Any], chart: str, version: str) -> str | None:
        """helm-controller's HelmChart ``<namespace>-<name>`` in the HelmRepository's namespace, made or updated
        from chart.spec; None when it is Ready on that version, "" while it is pulled, else why it is not."""
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        source = chart_spec.get("sourceRef") or {}
        namespace = source.get("namespace") or meta["namespace"]
        name = f"{meta['namespace']}-{meta['name']}"
        wanted = {"chart": chart, "version": version, "sourceRef": {"kind": source.get("kind", "HelmRepository"),
                                                                    "name": source.get("name", "")},
                  "interval": chart_spec.get("interval", "1h")}
        live = self.store.find(self.res("HelmChart"), namespace, name)
        if live is None or {k: (live.get("spec") or {}).get(k) for k in wanted} != wanted:
            self.sim.apply(self.res("HelmChart"), {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
                                                   "metadata": {"name": name, "namespace": namespace},
                                                   "spec": wanted})
            return ""
        state, message = get_ready(live)
        if state == "True" and ((live.get("status") or {}).get("artifact") or {}).get("revision") == version:
            return None
        if state == "False":
            return f"HelmChart '{namespace}/{name}' is not ready: {message}"
        return ""

    def _values(self, obj: dict[str, Any]) -> dict[str, Any]:
        spec, namespace = obj.get("spec") or {}, obj["metadata"]["namespace"]
        merged: dict[str, Any] = {}
        for ref in spec.get("valuesFrom") or []:
            kind_name, key = ref.get("kind", "ConfigMap"), ref.get("valuesKey", "values.yaml")
            source = self.store.find(self.res(kind_name), namespace, ref.get("name", ""))
            data = dict((source or {}).get("data") or {})
            if kind_name == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in data.items()}
            if source is None or key not in data:
                if ref.get("optional"):
                    continue
                raise BuildError("InstallFailed", f"could not resolve {kind_name} chart values reference "
                                 f"'{namespace}/{ref.get('name')}' with key '{key}'")
            merged = _deep_merge(merged, parse(data[key]) or {})
        return _deep_merge(merged, spec.get("values") or {})

    def reconcile(self, namespace: str, name: str) -> float | None:
        import time

        obj = self.store.find(self.res("HelmRelease"), namespace, name)
        if obj is None:
            return None
        spec, meta = obj.get("spec") or {}, obj["metadata"]
        if spec.get("suspend"):
            return None
        for dep in spec.get("dependsOn") or []:
            other = self.store.find(self.res("HelmRelease"), dep.get("namespace") or namespace, dep.get("name", ""))
            if other is None or get_ready(other)[0] != "True":
                self._status(obj, "False", "DependencyNotReady",
                             f"dependency '{dep.get('namespace') or namespace}/{dep.get('name')}' is not ready")
                return self.timing.retry
        chart, version, error = self._chart(obj)
        if error is None and not spec.get("chartRef"):
            error = self._helm_chart(obj, chart, version)
        elif error is None and not charts.known(chart, version):
            error = (f"OCIRepository chart pull error: no '{chart}' chart with version matching '{version}' found")
        if error == "":  # the HelmChart is being pulled: its status change brings the release back
            self._status(obj, "Unknown", "Progressing", f"waiting for HelmChart '{namespace}-{name}' to be pulled")
            return self.timing.poll
        error = error or self.sim.failing("HelmRelease", namespace, name)
        if error:
            self._status(obj, "False", "ArtifactFailed" if "chart" in error else "InstallFailed", error,
                         lastAttemptedRevision=version)
            self.event(obj, "ReconciliationFailed", error, "Warning")
            return self.timing.retry
        try:
            values = self._values(obj)
        except BuildError as exc:
            self._status(obj, "False", exc.reason, str(exc))
            return self.timing.retry
        status = obj.get("status") or {}
        history = list(status.get("history") or [])
        digest = hashlib.sha256(json.dumps([chart, version, values], sort_keys=True).encode()).hexdigest()[:16]
        forced = (meta.get("annotations") or {}).get(FORCE_AT)
        installed = history[0] if history else None
        action = "install" if installed is None else "upgrade"
        if installed is None or installed.get("digest") != digest or (forced and forced != status.get(
                "lastHandledForceAt")):
            objects = charts.render(name, namespace, chart, values)
            self.sim.install(namespace, name, objects)
            number = int(installed.get("version", 0)) + 1 if installed else 1
            history.insert(0, {"chartName": chart, "chartVersion": version, "version": number, "digest": digest,
                               "status": "deployed", "firstDeployed": now()})
            status = {**status, "history": history[:5]}
            obj["status"] = status
            self.health_since[(namespace, name)] = time.monotonic()
        waiting = [label for ok, label in (object_ready(self.sim, o) for o in self.sim.installed(namespace, name))
                   if not ok]
        number = history[0]["version"]
        if waiting:
            started = self.health_since.setdefault((namespace, name), time.monotonic())
            if time.monotonic() - started > self.timing.health_timeout:
                self._status(obj, "False", f"{action.capitalize()}Failed",
                             f"Helm {action} failed for release {namespace}/{name} with chart {chart}@{version}: "
                             f"context deadline exceeded (waiting for {', '.join(waiting)})",
                             history=history, lastAttemptedRevision=version)
                return self.timing.retry
            self._status(obj, "Unknown", "Progressing", f"Running '{action}' action with timeout of 5m0s: waiting "
                         f"for {', '.join(waiting)}", history=history, lastAttemptedRevision=version)
            return self.timing.poll
        self.health_since.pop((namespace, name), None)
        verb = "install" if number == 1 else "upgrade"
        self._status(obj, "True", f"{verb.capitalize()}Succeeded",
                     f"Helm {verb} succeeded for release {namespace}/{name}.v{number} with chart {chart}@{version}",
                     history=history, lastAttemptedRevision=version, lastAppliedRevision=version)
        return interval(spec.get("interval"), 3600) * self.timing.interval_scale
