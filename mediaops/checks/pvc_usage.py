"""How full is each PersistentVolumeClaim of the app?

The kubelet measures a volume while a pod mounts it and reports it in its stats summary (k8s.io/kubelet
pkg/apis/stats/v1alpha1 `VolumeStats`: `usedBytes`, `capacityBytes`, with `pvcRef`), which the API server
serves through the node proxy. Above `pvc_warn_percent` (80 by default, the seed's alert) warns, above 95 %
fails; a claim no running pod mounts is unknown (nothing measures it).

By hand: `kubectl get --raw /api/v1/nodes/NODE/proxy/stats/summary` (the node each result names).
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, UNKNOWN, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App

FAIL_PERCENT = 95.0


def _size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def run(probe: Probe, app: App) -> Iterator[Result]:
    where = f"{app.namespace}/{app.name}"
    claims = {c["metadata"]["name"] for c in probe.applied("PersistentVolumeClaim", app)} | set(app.claims)
    warn_at = float(probe.setting("pvc_warn_percent") or 80)
    mounted: dict[str, str] = {}  # claim -> node of a running pod mounting it
    for pod in probe.all_of("Pod"):
        if pod["metadata"].get("namespace") != app.namespace or (pod.get("status") or {}).get("phase") != "Running":
            continue
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim in claims and (pod.get("spec") or {}).get("nodeName"):
                mounted.setdefault(claim, pod["spec"]["nodeName"])
    for claim in sorted(claims):
        node = mounted.get(claim)
        if node is None:
            yield Result("pvc-usage", where, UNKNOWN, f"{claim}: no running pod mounts it, so nothing measures it",
                         f"kubectl get pvc {claim} -n {app.namespace}")
            continue
        command = f"kubectl get --raw /api/v1/nodes/{node}/proxy/stats/summary"
        stats = next((v for p in probe.node_stats(node).get("pods") or [] for v in p.get("volume") or []
                      if (v.get("pvcRef") or {}).get("name") == claim
                      and (v.get("pvcRef") or {}).get("namespace") == app.namespace), None)
        if not stats or not stats.get("capacityBytes"):
            yield Result("pvc-usage", where, UNKNOWN, f"{claim}: node {node} reports no usage for it", command)
            continue
        used, capacity = float(stats.get("usedBytes") or 0), float(stats["capacityBytes"])
        percent = 100 * used / capacity
        status = FAIL if percent >= FAIL_PERCENT else WARN if percent >= warn_at else OK
        yield Result("pvc-usage", where, status,
                     f"{claim}: {percent:.0f} % used ({_size(used)} of {_size(capacity)})", command)


CHECK = Check("pvc-usage", f"No PersistentVolumeClaim of the app is fuller than the warning threshold "
              f"(80 %; {FAIL_PERCENT:.0f} % fails)",
              applies=lambda app: app.state == ACTIVE and bool(app.volumes or app.claims), run=run)
