"""Cluster steps several runbooks share, declared once: ask Flux to catch up, wait for an app, restart it; and
the preflight checks that say whether the app can come up at all.

Each declaration's operations (``flux.Reconcile``, ``flux.WaitReady``, ``workloads.RolloutStatus`` …) are
what the preview shows and what runs. Facts used: ``app``, ``ns`` (the app's namespace).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mediaops.cluster import flux, waits, workloads
from mediaops.cluster.client import Kube
from mediaops.engine import CheckFailed, Live, Ops, Step
from mediaops.engine.context import Context
from mediaops.engine.model import Condition, Operation
from mediaops.repo import App

TIMEOUT = waits.TIMEOUT
AppOf = Callable[[Context], App]
# What `flux bootstrap` names them; the repository's entry says otherwise where it does (entry()).
SOURCE = ("GitRepository", "flux-system", "flux-system")
CLUSTER_APPS = ("Kustomization", "cluster-apps", "flux-system")


def entry(ctx: Context) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The repository's entry Kustomization (Repository.entry_kustomization: the one pointing at the apps' folder,
    else the first) and the GitRepository it follows, as (kind, name, namespace) each: a flux-operator's FluxInstance
    names its source after ``sync.name``, else after its namespace as `flux bootstrap` does (flux-operator docs,
    instance/sync.md; kashalls/home-cluster's is home-kubernetes), and older layouts name the entry otherwise.
    SOURCE and CLUSTER_APPS when the repository does not say."""
    found = ctx.facts.get("_entry")
    if found is None:
        doc = ctx.repo.entry_kustomization()
        found = [list(SOURCE), list(CLUSTER_APPS)]
        if (doc.get("metadata") or {}).get("name"):
            meta, ref = doc["metadata"], (doc.get("spec") or {}).get("sourceRef") or {}
            namespace = str(meta.get("namespace") or "flux-system")
            found[1] = ["Kustomization", str(meta["name"]), namespace]
            if ref.get("kind", "GitRepository") == "GitRepository" and ref.get("name"):
                found[0] = ["GitRepository", str(ref["name"]), str(ref.get("namespace") or namespace)]
        ctx.facts["_entry"] = found
    source_ref, apps_ref = found
    return (source_ref[0], source_ref[1], source_ref[2]), (apps_ref[0], apps_ref[1], apps_ref[2])


def kube(ctx: Context) -> Kube:
    cluster: Kube = ctx.cluster
    return cluster


def reconcile(ctx: Context, kind: str, name: str, namespace: str, *, force: bool = False) -> str:
    """For a step body that reconciles as part of more work: the same operation the shared steps run."""
    return flux.Reconcile(flux.FluxObject(kube(ctx), kind, name, namespace), force=force).run(ctx)


def reconcile_source(ctx: Context) -> str:
    return reconcile(ctx, *entry(ctx)[0])


def reconcile_cluster_apps(ctx: Context) -> str:
    return reconcile(ctx, *entry(ctx)[1])


def app_in_place(ctx: Context, app: App, *, present: bool = True) -> str | None:
    """For ``skip_when``: the cluster already runs (or no longer runs) the app at the repository's HEAD."""
    if not ctx.has_service("cluster"):
        return None
    head = ctx.git.head()
    source = flux.status(kube(ctx), *entry(ctx)[0])
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


def wait_helmreleases(ctx: Context, app: App) -> str:
    for op in [flux.WaitReady(o) for o in helmreleases(ctx, app)]:
        op.run(ctx)
    return ", ".join(f"{h.name}" for h in app.helmreleases) + " Ready" if app.helmreleases else "no HelmRelease"


def wait_pods(ctx: Context, app: App) -> str:
    found = app_workloads(ctx, app)
    for op in [workloads.RolloutStatus(w) for w in found]:
        op.run(ctx)
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
def wait_command(kind: str, items_of: Callable[[Context], list[tuple[str, str]]], condition: str = "condition=Ready",
                 timeout: str = "5m") -> Live:
    """``kubectl wait`` for each object (name, namespace) of a kind: one line per object, never a list."""
    resource = kind.lower()

    def lines(ctx: Context) -> str:
        return " && ".join(f"kubectl wait --for={condition} {resource}/{name} -n {namespace} --timeout={timeout}"
                           for name, namespace in items_of(ctx))

    return Live(lines, doc=f"kubectl wait --for={condition} {resource}/NAME -n {{ns}} --timeout={timeout}  # each")


# -- handles on an app's objects -----------------------------------------------------------------------------
def source(ctx: Context) -> flux.FluxObject:
    return flux.FluxObject(kube(ctx), *entry(ctx)[0])


def cluster_apps(ctx: Context) -> flux.FluxObject:
    return flux.FluxObject(kube(ctx), *entry(ctx)[1])


def kustomizations(ctx: Context, app: App) -> list[flux.FluxObject]:
    return [flux.FluxObject(kube(ctx), "Kustomization", k.name, k.namespace) for k in app.kustomizations]


def helmreleases(ctx: Context, app: App) -> list[flux.FluxObject]:
    return [flux.FluxObject(kube(ctx), "HelmRelease", h.name, h.namespace) for h in app.helmreleases]


def app_workloads(ctx: Context, app: App) -> list[workloads.Workload]:
    return workloads.of_app(kube(ctx), app.namespace, app.name) if ctx.has_service("cluster") else []


# -- shared step declarations --------------------------------------------------------------------------------
def _step(title: str, why: str, build: Callable[[Context], Sequence[Operation]], doc: str, *, mutates: bool,
          after: tuple[Step, ...], when: Condition | None, empty: str = "nothing to act on",
          nothing_to_undo: str = "", offline: Callable[[Context], str] | None = None) -> Step:
    step = Step(title, why, mutates=mutates, needs_cluster=True, after=after, ops=Ops(build, doc, empty, offline),
                nothing_to_undo=nothing_to_undo)
    step.when = when
    return step


REAPPLIES = "a reconcile only applies what the repository says"


def reconcile_source_step(*, after: tuple[Step, ...] = (), when: Condition | None = None,
                          nothing_to_undo: str = REAPPLIES) -> Step:
    """Reconcile the GitRepository the entry Kustomization follows (``entry``; flux-system in most repositories):
    Flux fetches the pushed commit now."""
    return _step("Reconcile Flux's GitRepository",
                 "Flux fetches the pushed commit now instead of at its next interval.",
                 lambda ctx: [flux.Reconcile(source(ctx))], flux.command(*SOURCE), mutates=True, after=after,
                 when=when, nothing_to_undo=nothing_to_undo, offline=lambda ctx: flux.command(*entry(ctx)[0]))


def reconcile_cluster_apps_step(why: str, *, after: tuple[Step, ...] = (), when: Condition | None = None,
                                nothing_to_undo: str = REAPPLIES, disrupts: bool = False) -> Step:
    """Reconcile cluster-apps, the Kustomization that creates (or prunes: ``disrupts``) the apps' Kustomizations."""
    step = _step("Reconcile cluster-apps", why, lambda ctx: [flux.Reconcile(cluster_apps(ctx))],
                 flux.command(*CLUSTER_APPS), mutates=True, after=after, when=when, nothing_to_undo=nothing_to_undo,
                 offline=lambda ctx: flux.command(*entry(ctx)[1]))
    step.disrupts = disrupts
    return step


def wait_kustomizations_step(app_of: AppOf, title: str, why: str, *, after: tuple[Step, ...] = (),
                             when: Condition | None = None) -> Step:
    """Wait until each of the app's Kustomizations is Ready (kstatus: a terminal failure fails at once)."""
    return _step(title, why, lambda ctx: [flux.WaitReady(o) for o in kustomizations(ctx, app_of(ctx))],
                 "kubectl wait --for=condition=Ready kustomization/NAME -n {ns} --timeout=5m  # each",
                 mutates=False, after=after, when=when, empty="the app has no Kustomization")


def wait_helmreleases_step(app_of: AppOf, *, after: tuple[Step, ...] = (), when: Condition | None = None) -> Step:
    """Wait until each of the app's HelmReleases is Ready."""
    return _step("Wait until its HelmRelease is Ready", "The chart is installed and its workloads came up "
                 "(Helm's --wait).", lambda ctx: [flux.WaitReady(o) for o in helmreleases(ctx, app_of(ctx))],
                 "kubectl wait --for=condition=Ready helmrelease/NAME -n {ns} --timeout=5m  # each",
                 mutates=False, after=after, when=when, empty="the app has no HelmRelease")


def wait_pruned_step(app_of: AppOf, *, after: tuple[Step, ...] = (), when: Condition | None = None) -> Step:
    """Wait until the app's Kustomizations are gone: Flux pruned them and what they applied."""
    return _step("Wait until the app's Kustomization is gone", "Gone means Flux pruned it, and with it the app's "
                 "objects.", lambda ctx: [flux.WaitGone(o) for o in kustomizations(ctx, app_of(ctx))],
                 "kubectl wait --for=delete kustomization/NAME -n {ns} --timeout=5m  # each",
                 mutates=False, after=after, when=when, empty="the app has no Kustomization")


def wait_rolled_out_step(app_of: AppOf, title: str = "Wait until its pods are ready",
                         why: str = "What users reach: every Deployment and StatefulSet of the app rolled out.", *,
                         after: tuple[Step, ...] = (), when: Condition | None = None) -> Step:
    """Wait until every Deployment and StatefulSet of the app has rolled out (``kubectl rollout status``)."""
    return _step(title, why, lambda ctx: [workloads.RolloutStatus(w) for w in app_workloads(ctx, app_of(ctx))],
                 "kubectl rollout status deployment/NAME -n {ns} --timeout=5m  # each Deployment and StatefulSet "
                 "of {app}", mutates=False, after=after, when=when,
                 empty="no Deployment or StatefulSet to wait for")


def rollout_restart_step(app_of: AppOf, *, when: Condition | None = None) -> Step:
    """Restart every Deployment and StatefulSet of the app (``kubectl rollout restart``)."""
    return _step("Rollout restart its workloads", "New pods, same spec: the way to pick up a changed NFS mount, "
                 "Secret or config file.",
                 lambda ctx: [workloads.RolloutRestart(w) for w in app_workloads(ctx, app_of(ctx))],
                 "kubectl rollout restart deployment/NAME -n {ns}  # each Deployment and StatefulSet of {app}",
                 mutates=True, after=(), when=when, empty="no Deployment or StatefulSet to restart",
                 nothing_to_undo="the pods were replaced with the same spec")
