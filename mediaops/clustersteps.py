"""Bodies of cluster steps several runbooks share: ask Flux to catch up, wait for an app, check what it needs.

Facts used: ``app``, ``ns`` (the app's namespace), ``ks`` (its Kustomization names).
"""

from __future__ import annotations

from collections.abc import Callable

from mediaops import flux, workloads
from mediaops.engine import CheckFailed, Live
from mediaops.engine.context import Context
from mediaops.gitops import App
from mediaops.kube import Kube

TIMEOUT = 300.0
SOURCE = ("GitRepository", "flux-system", "flux-system")
CLUSTER_APPS = ("Kustomization", "cluster-apps", "flux-system")


def kube(ctx: Context) -> Kube:
    cluster: Kube = ctx.cluster
    return cluster


def reconcile(ctx: Context, kind: str, name: str, namespace: str, *, force: bool = False) -> str:
    with ctx.waiting(f"{kind} {namespace}/{name} to reconcile") as waiting:
        state = flux.reconcile(kube(ctx), kind, name, namespace, force=force, timeout=TIMEOUT, waiting=waiting)
    return f"{kind} {namespace}/{name}: {state.message or 'Ready'}"


def reconcile_source(ctx: Context) -> str:
    result = reconcile(ctx, *SOURCE)
    revision = flux.status(kube(ctx), *SOURCE).revision
    ctx.facts["revision"] = revision
    return result


def reconcile_cluster_apps(ctx: Context) -> str:
    return reconcile(ctx, *CLUSTER_APPS)


def app_in_place(ctx: Context, app: App, *, present: bool = True) -> str | None:
    """For ``skip_when``: the cluster already runs (or no longer runs) the app at the repository's HEAD."""
    if not ctx.has_service("cluster"):
        return None
    head = ctx.git.head()
    source = flux.status(kube(ctx), *SOURCE)
    if not source.revision.endswith(head):
        return None
    for ks in app.kustomizations:
        live = kube(ctx).find("Kustomization", ks.name, ks.namespace)
        if present and (live is None or flux.FluxStatus.of(live).ready != "True"):
            return None
        if not present and live is not None:
            return None
    word = "runs" if present else "no longer has"
    return f"the cluster already {word} {app.name} at {head[:10]}"


def wait_kustomizations(ctx: Context, app: App) -> str:
    for ks in app.kustomizations:
        with ctx.waiting(f"Kustomization {ks.namespace}/{ks.name} Ready") as waiting:
            kube(ctx).wait("Kustomization", ks.name, ks.namespace, flux.ready(), timeout=TIMEOUT, waiting=waiting)
    return ", ".join(f"{k.namespace}/{k.name}" for k in app.kustomizations) + " Ready"


def wait_gone(ctx: Context, app: App) -> str:
    for ks in app.kustomizations:
        with ctx.waiting(f"Kustomization {ks.namespace}/{ks.name} to be pruned") as waiting:
            kube(ctx).wait_deleted("Kustomization", ks.name, ks.namespace, timeout=TIMEOUT, waiting=waiting)
    return "removed from the cluster"


def wait_helmreleases(ctx: Context, app: App) -> str:
    for hr in app.helmreleases:
        with ctx.waiting(f"HelmRelease {hr.namespace}/{hr.name} Ready") as waiting:
            kube(ctx).wait("HelmRelease", hr.name, hr.namespace, flux.ready(), timeout=TIMEOUT, waiting=waiting)
    return ", ".join(f"{h.name}" for h in app.helmreleases) + " Ready" if app.helmreleases else "no HelmRelease"


def wait_pods(ctx: Context, app: App) -> str:
    found = workloads.workloads(kube(ctx), app.namespace, app.name)
    for item in found:
        name = item["metadata"]["name"]
        with ctx.waiting(f"{item['kind']} {app.namespace}/{name} rolled out") as waiting:
            workloads.wait_rollout(kube(ctx), item["kind"], name, app.namespace, timeout=TIMEOUT, waiting=waiting)
    return f"{len(found)} workload(s) ready" if found else "no Deployment or StatefulSet to wait for"


# -- preflight checks ---------------------------------------------------------------------------------------
def dependencies_ready(ctx: Context, app: App) -> str:
    problems, names = [], []
    for ks in app.kustomizations:
        for dep in ks.depends_on:
            names.append(str(dep))
            live = kube(ctx).find("Kustomization", dep.name, dep.namespace)
            state = flux.FluxStatus.of(live) if live else None
            if state is None:
                problems.append(f"Kustomization {dep} does not exist in the cluster")
            elif state.ready != "True":
                problems.append(f"Kustomization {dep} is not Ready ({state.reason}: {state.message})")
    for hr in app.helmreleases:
        for dep in hr.depends_on:
            names.append(f"HelmRelease {dep}")
            live = kube(ctx).find("HelmRelease", dep.name, dep.namespace)
            state = flux.FluxStatus.of(live) if live else None
            if state is None:
                problems.append(f"HelmRelease {dep} does not exist in the cluster")
            elif state.ready != "True":
                problems.append(f"HelmRelease {dep} is not Ready ({state.reason}: {state.message})")
    if problems:
        raise CheckFailed("; ".join(problems))
    return ", ".join(names) + " Ready" if names else "no dependencies"


def secrets_available(ctx: Context, app: App) -> str:
    made = {es.target: es for es in app.external_secrets}
    problems, seen = [], []
    for name in app.secrets:
        seen.append(name)
        if name in made:
            es = made[name]
            store = kube(ctx).find(es.store_kind, es.store.name, None if es.store_kind == "ClusterSecretStore"
                                   else app.namespace)
            ready = flux.FluxStatus.of(store).ready if store else None
            if ready != "True":
                problems.append(f"Secret {name} comes from ExternalSecret {es.name}, whose {es.store_kind} "
                                f"{es.store.name} is {'missing' if store is None else 'not Ready'}")
        elif kube(ctx).find("Secret", name, app.namespace) is None:
            problems.append(f"Secret {app.namespace}/{name} does not exist and nothing in the app makes it")
    if problems:
        raise CheckFailed("; ".join(problems))
    return ", ".join(seen) if seen else "references no Secret"


def node_matches(ctx: Context, app: App) -> str:
    if not app.node_selectors:
        return "no nodeSelector"
    nodes = workloads.node_labels(kube(ctx))
    wanted = app.node_selectors
    if not any(all(labels.get(k) == v for k, v in wanted.items()) for labels in nodes):
        shown = ", ".join(f"{k}={v}" for k, v in wanted.items())
        raise CheckFailed(f"no node has {shown} (nodes: {len(nodes)})")
    return ", ".join(f"{k}={v}" for k, v in wanted.items()) + " matches a node"



# -- the commands the shared waits amount to, written from the same objects --------------------------------
def rollout_status_command(app_of: Callable[[Context], App]) -> Live:
    """``kubectl rollout status`` for each Deployment and StatefulSet of the app, as ``wait_pods`` waits."""
    def lines(ctx: Context) -> str:
        app = app_of(ctx)
        found = workloads.workloads(kube(ctx), app.namespace, app.name) if ctx.has_service("cluster") else []
        return " && ".join(workloads.rollout_command("status", w["kind"], w["metadata"]["name"], app.namespace)
                           for w in found) or f"# {app.name} has no Deployment or StatefulSet to wait for"

    return Live(lines, doc="kubectl rollout status deployment/NAME -n {ns} --timeout=5m  "
                           "# each Deployment and StatefulSet of {app}")


def wait_command(kind: str, items_of: Callable[[Context], list[tuple[str, str]]], condition: str = "condition=Ready",
                 timeout: str = "5m") -> Live:
    """``kubectl wait`` for each object (name, namespace) of a kind: one line per object, never a list."""
    resource = kind.lower()

    def lines(ctx: Context) -> str:
        return " && ".join(f"kubectl wait --for={condition} {resource}/{name} -n {namespace} --timeout={timeout}"
                           for name, namespace in items_of(ctx))

    return Live(lines, doc=f"kubectl wait --for={condition} {resource}/NAME -n {{ns}} --timeout={timeout}  # each")
