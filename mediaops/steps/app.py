"""What runbooks acting on one app of the repository share: its parameters, finding it, and the checks that it
is active and that Flux is not held off it."""

from __future__ import annotations

from mediaops.cluster import flux
from mediaops.engine import CheckFailed, Param
from mediaops.engine.context import Context
from mediaops.repo import ACTIVE, DISABLED, App
from mediaops.steps.cluster import helmreleases, kustomizations

APP = Param("app", "the app folder name under kubernetes/apps/NAMESPACE/", complete="app", kind="name")
NAMESPACE = Param("namespace", "the app's namespace, when its name is not unique", required=False, kind="name")


def app_of(ctx: Context) -> App:
    """The app the run is about, from ``app`` (and ``namespace`` when the name is not unique)."""
    return ctx.repo.app(ctx.params["app"], ctx.params.get("namespace"))


def active(ctx: Context) -> str:
    """Check: the app exists and is active; its name, namespace and Flux objects become facts."""
    app = app_of(ctx)
    if app.state != ACTIVE:
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}, not active"
                          + (f" ({'; '.join(app.reasons)})" if app.reasons else "")
                          + ("; activate it with `mediaops run activate`" if app.state == DISABLED else ""))
    ctx.facts.update(app=app.name, ns=app.namespace, ks=", ".join(k.name for k in app.kustomizations),
                     hr=", ".join(h.name for h in app.helmreleases))
    return f"{app.namespace}/{app.name} is active"


def not_suspended(ctx: Context) -> str:
    """Check: the app's Kustomizations and HelmReleases exist in the cluster and none is suspended."""
    app = app_of(ctx)
    for obj in kustomizations(ctx, app) + helmreleases(ctx, app):
        live = obj.find()
        if live is None:
            raise CheckFailed(f"{obj} is not in the cluster")
        if flux.FluxStatus.of(live).suspended:
            raise CheckFailed(f"{obj} is suspended (an NFS outage maintenance?); resume it first: "
                              f"{obj.command('resume')}")
    return "its Kustomization and HelmRelease exist and are not suspended"


def present(ctx: Context) -> str:
    """Check: the app's Kustomizations and HelmReleases exist in the cluster (suspended or not)."""
    app = app_of(ctx)
    missing = [str(o) for o in kustomizations(ctx, app) + helmreleases(ctx, app) if o.find() is None]
    if missing:
        raise CheckFailed(f"not in the cluster: {', '.join(missing)}")
    return f"{len(app.kustomizations)} Kustomization(s), {len(app.helmreleases)} HelmRelease(s)"
