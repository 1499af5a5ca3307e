"""Is Flux keeping the app as the repository says?

Each Kustomization and HelmRelease of the app, judged as kstatus judges it (fluxcd/cli-utils
pkg/kstatus/status): Ready for its current generation is ok; suspended warns (Flux does not manage it, say who
suspended it when mediaops did); still reconciling is unknown; a failure (Ready=False handled, Stalled) fails
with the controller's own message.

By hand: `flux get kustomizations -n NS` and `flux get helmreleases -n NS`.
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, UNKNOWN, WARN, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def _short(revision: str) -> str:
    """``main@sha1:c40bded5`` as `flux get` abbreviates a revision (a chart version stays whole)."""
    ref, sep, digest = revision.partition(":")
    return f"{ref}{sep}{digest[:8]}" if sep else revision or "its revision"


def run(probe: Probe, app: App) -> Iterator[Result]:
    from mediaops.cluster import flux

    where = f"{app.namespace}/{app.name}"
    for kind, items in (("Kustomization", app.kustomizations), ("HelmRelease", app.helmreleases)):
        for item in items:
            command = f"flux get {flux.CLI_KIND[kind]}s -n {item.namespace}"
            live = probe.cluster().find(kind, item.name, item.namespace)
            label = f"{kind} {item.name}"
            if live is None:
                yield Result("flux-ready", where, FAIL, f"{label} is not in the cluster", command)
                continue
            state = flux.FluxStatus.of(live)
            if state.suspended:
                note = flux.suspension(live)
                yield Result("flux-ready", where, WARN, f"{label} is suspended" + (f" ({note})" if note else ""),
                             command)
                continue
            verdict, why = flux.kstatus(live)
            failed = flux.failure(live, handled=True)
            if failed:
                yield Result("flux-ready", where, FAIL, f"{label}: {failed}", command)
            elif verdict == "Current":
                yield Result("flux-ready", where, OK, f"{label} Ready at {_short(state.revision)}", command)
            else:
                yield Result("flux-ready", where, UNKNOWN, f"{label} {verdict}: {why}", command)


CHECK = Check("flux-ready", "The app's Kustomizations and HelmReleases are Ready and not suspended",
              applies=lambda app: app.state == ACTIVE and bool(app.kustomizations), run=run)
