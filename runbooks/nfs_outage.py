"""NFS outage maintenance: take the apps that mount the NAS out of service, wait for it, bring them back.

Order matters. Suspend each app's Kustomization, then its HelmRelease, so Flux does not undo the
scale-down; resume in the reverse order, because a Kustomization that health-checks a suspended
HelmRelease hangs until its timeout (fluxcd/kustomize-controller#1100). Replicas are remembered in
the run's journal and as an annotation on each workload, so another operator can see them.
"""

from __future__ import annotations

from mediaops import net
from mediaops.cluster import flux, workloads
from mediaops.engine import CheckFailed, Concern, Live, Ops, Param, Runbook, Step, render_ops
from mediaops.engine.context import Context
from mediaops.repo import ACTIVE, App
from mediaops.steps import cluster as clustersteps

runbook = Runbook(
    name="nfs-outage",
    summary="Put the apps that mount the NAS into maintenance, wait for the NAS, bring them back",
    takes_down=lambda ctx: [(a.namespace, a.name) for a in _apps(ctx)],
    params=[
        Param("app", "only this app (default: every active app mounting NFS from the NAS)", required=False,
              complete="app", kind="name"),
        Param("planned", "the NAS still answers but is about to go down (planned maintenance)", required=False,
              flag=True),
        Param("nas_timeout", "seconds to wait for the NAS before asking what to do", required=False,
              default="3600", kind="seconds"),
        Param("down_timeout", "with --planned: seconds to wait for the NAS to go down (needed with --yes)",
              required=False, kind="seconds"),
    ],
    lock=lambda p: f"mediaops-nfs-outage-{p.get('app') or 'all'}",
    validate=lambda p: ("--planned --yes needs --down-timeout: how long to wait for the NAS to go down"
                        if p.get("planned") and p.get("_unattended") and not p.get("down_timeout") else None),
)


def _apps(ctx: Context) -> list[App]:
    return [ctx.repo.app(name, namespace) for namespace, name in
            (entry.split("/", 1) for entry in ctx.facts["apps"])]


def _workloads(ctx: Context) -> list[workloads.Workload]:
    """Handles on every Deployment and StatefulSet of the apps."""
    kube = clustersteps.kube(ctx)
    return [w for app in _apps(ctx) for w in workloads.of_app(kube, app.namespace, app.name)]


def _flux_objects(ctx: Context, kind: str) -> list[tuple[str, str]]:
    found = []
    for app in _apps(ctx):
        items = app.kustomizations if kind == "Kustomization" else app.helmreleases
        found += [(i.namespace, i.name) for i in items]
    return found


@runbook.check("The apps that mount NFS from the NAS")
def nfs_apps(ctx: Context) -> str:
    repo = ctx.repo
    mounts = {(a.namespace, a.name): a for a in repo.apps() if a.nfs and a.state == ACTIVE}
    servers = sorted({n.server for a in mounts.values() for n in a.nfs})
    nas = ctx.config.get("nas_host") or (servers[0] if len(servers) == 1 else None)
    if nas is None:
        raise CheckFailed(f"the apps mount NFS from several servers ({', '.join(servers)}); set nas_host"
                          if servers else "no active app mounts NFS")
    chosen = [a for a in mounts.values() if any(n.server == nas for n in a.nfs)]
    if ctx.params.get("app"):
        app = repo.app(ctx.params["app"])
        if app not in chosen:
            raise CheckFailed(f"{app.namespace}/{app.name} does not mount NFS from {nas}")
        chosen = [app]
    if not chosen:
        raise CheckFailed(f"no active app mounts NFS from {nas}")
    # Asked where it answers: in a rehearsal, the rehearsal's NAS standing in for it (net.nas_address).
    ctx.facts.update(nas=net.nas_address(ctx.config, nas), apps=[f"{a.namespace}/{a.name}" for a in chosen],
                     names=", ".join(a.name for a in chosen), ns=chosen[0].namespace)
    mounts_text = "; ".join(f"{a.name}: {n.server}:{n.path}" for a in chosen for n in a.nfs)
    return mounts_text


def _port(ctx: Context) -> int:
    return int(ctx.config.get("nas_port") or net.NFS_PORT)


@runbook.check("Does the NAS answer on its NFS port?")
def nas_answers(ctx: Context) -> str:
    up, detail = net.tcp_open(ctx.facts["nas"], _port(ctx))
    ctx.facts.update(nas_up=up, port=_port(ctx))
    return detail if up else Concern(detail)


@runbook.check("Their Flux objects are in the cluster", needs_cluster=True)
def flux_objects_present(ctx: Context) -> str:
    """What the run leaves out (``_handles``): an object the repository has and the cluster has not."""
    kube = clustersteps.kube(ctx)
    missing = [f"{kind} {namespace}/{name}" for kind in ("Kustomization", "HelmRelease")
               for namespace, name in _flux_objects(ctx, kind) if kube.find(kind, name, namespace) is None]
    if missing:
        return Concern(f"not in the cluster, left out of the run: {', '.join(missing)}")
    return "all there"


@runbook.check("Pods with mount failures", needs_cluster=True)
def mount_failures(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    failing = []
    for app in _apps(ctx):
        pods = [p["metadata"]["name"] for p in workloads.pods(kube, app.namespace, app.name)]
        events = workloads.events(kube, app.namespace, pods)
        if any(e.get("reason") == "FailedMount" for e in events):
            failing.append(app.name)
    return Concern(f"mount failures in {', '.join(failing)}") if failing else "no mount-failure events"


def _healthy(ctx: Context) -> str | None:
    """For the maintenance steps: nothing to do while the NAS answers and the apps run normally."""
    if ctx.params.get("planned") or not ctx.facts.get("nas_up"):
        return None
    kube = clustersteps.kube(ctx)
    for kind in ("Kustomization", "HelmRelease"):
        for namespace, name in _flux_objects(ctx, kind):
            live = kube.find(kind, name, namespace)  # one not in the cluster neither runs nor needs holding off
            if live is not None and flux.FluxStatus.of(live).suspended:
                return None
    return (f"the NAS answers and {ctx.facts['names']} run normally: no maintenance needed "
            "(pass --planned before planned NAS maintenance)")


# -- the operations: what is shown is what runs ----------------------------------------------------------------
def _handles(ctx: Context, kind: str) -> list[flux.FluxObject]:
    """The apps' Flux objects of a kind that are in the cluster: one the repository has and the cluster has not
    (not applied yet, its source unreachable) is not running, and suspending it would stop the whole run."""
    kube = clustersteps.kube(ctx)
    handles = [flux.FluxObject(kube, kind, name, namespace) for namespace, name in _flux_objects(ctx, kind)]
    return [h for h in handles if h.find() is not None]


def _suspends(kind: str) -> Ops:
    def build(ctx: Context) -> list[flux.Suspend]:
        why = "NFS outage maintenance: the NAS is " + ("about to go down" if ctx.params.get("planned") else "gone")
        return [flux.Suspend(o, ctx.run_id, why) for o in _handles(ctx, kind)]

    return Ops(build, doc=f"flux suspend {flux.CLI_KIND[kind]} NAME -n {{ns}}  # each of {{names}}",
               empty=f"no {kind} to suspend")


def _resume_lines(kind: str) -> Live:
    return Live(lambda ctx: "\n".join(o.command("resume") for o in _handles(ctx, kind)),
                doc=f"flux resume {flux.CLI_KIND[kind]} NAME -n {{ns}}  # each of {{names}}")


def _resume(ctx: Context, kind: str) -> None:
    """Undo of a suspend: hand back to Flux what this run suspended, without waiting for health (mid-outage
    it cannot be healthy without the NAS). Ours: journaled as suspended by this run, or annotated so by it (a
    run stopped before its journal caught up still knows what it suspended)."""
    for obj in _handles(ctx, kind):
        live = obj.find()
        if live is None or not flux.FluxStatus.of(live).suspended:
            continue
        key = f"{kind}/{obj.namespace}/{obj.name}"
        if key in ctx.facts.get("suspended", []) or flux.suspended_by(live) == ctx.run_id:
            obj.unsuspend()


def _scale_downs(ctx: Context) -> list[workloads.Scale]:
    return [workloads.Scale(w, 0, previous=workloads.to_remember(w.get()), note=ctx.run_id) for w in _workloads(ctx)]


def _scale_backs(ctx: Context) -> list[workloads.Scale]:
    """Back to the counts remembered: in the run's journal, else on each workload (mediaops.io/previous-replicas);
    a workload already at its count with nothing remembered on it is left alone."""
    kube = clustersteps.kube(ctx)
    counts = dict(ctx.facts.get("replicas") or {})
    for workload in _workloads(ctx):
        kept = workloads.remembered(workload.get())
        if kept is not None:
            counts.setdefault(workload.key, kept)
    found = []
    for key, replicas in counts.items():
        workload = workloads.Workload.of_key(kube, key)
        obj = workload.find()
        if obj is None or (workloads.replicas_of(obj) == int(replicas) and workloads.remembered(obj) is None):
            continue
        found.append(workloads.Scale(workload, int(replicas)))
    return found


SCALE_BACK_DOC = ("kubectl annotate deployment/NAME -n {ns} mediaops.io/previous-replicas- mediaops.io/scaled-by- "
                  "&& kubectl scale deployment/NAME -n {ns} --replicas=N  # each, to its remembered count")


def _scale_back(ctx: Context) -> None:
    for op in _scale_backs(ctx):
        op.run(ctx)


# -- maintenance ---------------------------------------------------------------------------------------------
suspend_kustomizations = runbook.add(Step(
    "Suspend their Kustomizations",
    why="First the Kustomization, so Flux does not re-apply the HelmRelease while we work.",
    ops=_suspends("Kustomization"), needs_cluster=True, when=_healthy))
suspend_kustomizations.undoer("resume the Kustomizations this run suspended (without waiting for health)",
                              command=_resume_lines("Kustomization"))(lambda ctx: _resume(ctx, "Kustomization"))

suspend_releases = runbook.add(Step(
    "Suspend their HelmReleases",
    why="Then the HelmRelease, so helm-controller does not scale the workloads back up.",
    ops=_suspends("HelmRelease"), needs_cluster=True, when=_healthy))
suspend_releases.undoer("resume the HelmReleases this run suspended (without waiting for health)",
                        command=_resume_lines("HelmRelease"))(lambda ctx: _resume(ctx, "HelmRelease"))

scale_down = runbook.add(Step(
    "Scale their workloads to 0, remembering the replicas",
    why="Pods stuck on a dead NFS mount hang in D state and flood events; with none running, nothing does.",
    ops=Ops(_scale_downs, doc="kubectl annotate deployment/NAME -n {ns} mediaops.io/previous-replicas=N "
                              "mediaops.io/scaled-by=RUN --overwrite && kubectl scale deployment/NAME -n {ns} "
                              "--replicas=0  # each Deployment and StatefulSet",
            empty="no Deployment or StatefulSet to scale"),
    disrupts=True, needs_cluster=True, when=_healthy))
scale_down.undoer("scale back to the remembered replicas",
                  command=Live(lambda ctx: render_ops(_scale_backs(ctx)), doc=SCALE_BACK_DOC))(_scale_back)


# -- waiting -------------------------------------------------------------------------------------------------
@runbook.step(
    "Wait for the NAS to go down",
    why="Planned maintenance: the apps are out of service; waiting for the NAS to come back only means "
        "something once it has gone.",
    command="while nc -z {nas} {port}; do sleep 5; done",
    mutates=False,
)
def wait_for_down(ctx: Context) -> str:
    nas, limit = ctx.facts["nas"], float(ctx.params.get("down_timeout") or 86400)
    with ctx.waiting(f"the NAS {nas} to stop answering on TCP {_port(ctx)}") as waiting:
        try:
            detail = net.wait_tcp(nas, _port(ctx), up=False, timeout=limit, waiting=waiting)
        except net.NotYet:
            raise CheckFailed(f"the NAS still answers after {limit:.0f}s; when its maintenance has begun, "
                              "retry, or skip this step") from None
    ctx.facts["went_down"] = True
    return f"the NAS stopped answering ({detail})"


@wait_for_down.skip_when
def unplanned(ctx: Context) -> str | None:
    if not ctx.params.get("planned"):
        return "an outage, not planned maintenance" + ("" if ctx.facts.get("nas_up") else ": the NAS is already down")
    if ctx.facts.get("went_down"):
        return "the NAS already went down"
    return None


@runbook.step(
    "Wait for the NAS to answer again",
    why="Bringing the apps back before the export is there only repeats the outage.",
    command="until nc -z {nas} {port}; do sleep 5; done",
    mutates=False,
)
def wait_for_nas(ctx: Context) -> str:
    nas, limit = ctx.facts["nas"], float(ctx.params.get("nas_timeout") or 3600)
    with ctx.waiting(f"the NAS {nas} to answer on TCP {_port(ctx)}") as waiting:
        try:
            return net.wait_tcp(nas, _port(ctx), up=True, timeout=limit, waiting=waiting)
        except net.NotYet as exc:
            raise CheckFailed(f"the NAS still does not answer after {limit:.0f}s ({exc}); when you know it is "
                              "back, skip this step") from None


# -- recovery ------------------------------------------------------------------------------------------------
def _nothing_scaled(ctx: Context) -> str | None:
    if ctx.facts.get("replicas"):
        return None
    for workload in _workloads(ctx):
        if workloads.remembered(workload.get()) is not None:
            return None
    return "nothing is scaled down"


runbook.add(Step(
    "Scale back to the remembered replicas",
    why="The counts this run saw before scaling down (also on each workload as mediaops.io/previous-replicas).",
    ops=Ops(_scale_backs, doc=SCALE_BACK_DOC, empty="nothing is scaled down"),
    needs_cluster=True, when=_nothing_scaled, nothing_to_undo="this brings the apps back to normal"))


def _nothing_to_restart(ctx: Context) -> str | None:
    if ctx.facts.get("replicas") or ctx.facts.get("suspended"):
        return None
    return _healthy(ctx)


runbook.add(Step(
    "Rollout restart them",
    why="Fresh pods mount the NFS export anew; a pod that survived the outage may hold a stale handle.",
    ops=Ops(lambda ctx: [op for w in _workloads(ctx) for op in (workloads.RolloutRestart(w),
                                                                 workloads.RolloutStatus(w))],
            doc="kubectl rollout restart deployment/NAME -n {ns}\n"
                "kubectl rollout status deployment/NAME -n {ns} --timeout=5m  # each Deployment and StatefulSet",
            empty="no Deployment or StatefulSet to restart"),
    needs_cluster=True, when=_nothing_to_restart, nothing_to_undo="this brings the apps back to normal"))


def _suspended(ctx: Context, kind: str) -> list[flux.Resume]:
    return [flux.Resume(o) for o in _handles(ctx, kind) if flux.FluxStatus.of(o.get()).suspended]


runbook.add(Step(
    "Resume their HelmReleases",
    why="HelmReleases first: the Kustomization health-checks them, and would hang on a suspended one.",
    ops=Ops(lambda ctx: _suspended(ctx, "HelmRelease"), doc="flux resume helmrelease NAME -n {ns}  # each of {names}",
            empty="no HelmRelease of theirs is suspended"),
    needs_cluster=True, nothing_to_undo="this brings the apps back to normal"))
runbook.add(Step(
    "Resume their Kustomizations",
    why="Flux manages the apps again; resume waits until each is Ready.",
    ops=Ops(lambda ctx: _suspended(ctx, "Kustomization"),
            doc="flux resume kustomization NAME -n {ns}  # each of {names}",
            empty="no Kustomization of theirs is suspended"),
    needs_cluster=True, nothing_to_undo="this brings the apps back to normal"))


@runbook.step(
    "Check their ingress answers as Gatus would",
    why="The last word: the app answers its users (200, or 401 behind auth, or what a Gatus endpoint's conditions "
        "on the status say).",
    command=Live(lambda ctx: " ; ".join(net.http_check_command(host, path, ctx.config.get("ingress_base_url"))
                                        for host, path, _ in _ingress_hosts(ctx)) or "# no ingress to check",
                 doc="curl -s -o /dev/null -w '%{{http_code}}' -H 'Host: HOST' https://HOST/PATH  # each host"),
    mutates=False,
    needs_cluster=True,
)
def check_ingress(ctx: Context) -> str:
    base = ctx.config.get("ingress_base_url")
    results, failed = [], []
    for host, path, endpoint in _ingress_hosts(ctx):
        check = net.http_check(host, path, base, expect=net.expected_status(endpoint))
        results.append(f"{host}: {check.note}")
        if not check.ok:
            failed.append(f"{host}: {check.note}")
    if failed:
        raise CheckFailed("; ".join(failed))
    return "; ".join(results) if results else "no ingress to check"


def _ingress_hosts(ctx: Context) -> list[tuple[str, str, str]]:
    """(host, path, Gatus endpoint) of the hosts of the apps' Ingresses and HTTPRoutes, as the ingress-hosts check
    finds them (what their Kustomizations and HelmReleases applied)."""
    from mediaops.checks.ingress_hosts import hosts
    from mediaops.checks.probe import Probe

    probe = Probe(ctx.config, ctx.repo, clustersteps.kube(ctx))
    return [found for app in _apps(ctx) for found in hosts(probe, app)]


def _left_behind(ctx: Context) -> list[str]:
    if not ctx.has_service("cluster") or not ctx.facts.get("apps"):
        return []
    kube = clustersteps.kube(ctx)
    lines = []
    for kind in ("Kustomization", "HelmRelease"):
        for namespace, name in _flux_objects(ctx, kind):
            if flux.status(kube, kind, name, namespace).suspended:
                lines.append(f"{kind} {namespace}/{name} is still SUSPENDED: Flux does not manage it "
                             f"(flux resume {flux.CLI_KIND[kind]} {name} -n {namespace})")
    for workload in _workloads(ctx):
        previous = workloads.remembered(workload.get())
        if previous is not None:
            lines.append(f"{workload} is still scaled down (was {previous})")
    return lines


runbook.epilogue = _left_behind
