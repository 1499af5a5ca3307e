"""Re-authenticate Plex Trakt Sync with Trakt.

plex-trakt-sync keeps its Trakt login in its config PVC (``/app/config/.pytrakt.json``). When Trakt
revokes it, the ``watch`` Deployment logs "not logged in" and the daily sync does nothing. The login
is interactive (a device code to confirm in a browser), so a human runs it: in a pod that mounts the
config volume, while the watch Deployment is stopped so nothing writes the login file meanwhile.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mediaops.cluster import workloads
from mediaops.engine import CheckFailed, Live, Ops, Param, Runbook, Step
from mediaops.engine.context import Context
from mediaops.steps import cluster as clustersteps

APP = "plex-trakt-sync"
LOGIN_LABEL = "mediaops.io/login-for"

runbook = Runbook(
    name="trakt-reauth",
    summary="Log plex-trakt-sync in to Trakt again, then run one sync",
    params=[Param("namespace", "where plex-trakt-sync runs", required=False, default="media"),
            Param("force", "log in again even if it says it is logged in", required=False, flag=True)],
    lock=lambda p: f"mediaops-trakt-reauth-{APP}",
    apps=[APP],
)


def _watch(ctx: Context) -> workloads.Workload:
    """The watch Deployment (found by the first check)."""
    return workloads.Workload(clustersteps.kube(ctx), "Deployment", ctx.facts["deployment"], ctx.facts["ns"])


@runbook.check("Its watch Deployment exists", needs_cluster=True)
def deployment_exists(ctx: Context) -> str:
    namespace = ctx.params.get("namespace") or "media"
    found = [w for w in workloads.workloads(clustersteps.kube(ctx), namespace, APP) if w["kind"] == "Deployment"]
    if not found:
        raise CheckFailed(f"no Deployment of {APP} in {namespace}; is it active? (mediaops run activate {APP})")
    deployment = found[0]
    containers = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or [{}]
    ctx.facts.update(ns=namespace, deployment=deployment["metadata"]["name"],
                     watch_replicas=workloads.to_remember(deployment),
                     login_pod=f"{deployment['metadata']['name']}-login", container=containers[0].get("name", ""))
    return f"Deployment {namespace}/{deployment['metadata']['name']} ({ctx.facts['watch_replicas']} replica(s))"


@runbook.check("Its config PVC is Bound", needs_cluster=True)
def pvc_bound(ctx: Context) -> str:
    claims = _watch(ctx).claims()
    if not claims:
        raise CheckFailed("the Deployment mounts no PersistentVolumeClaim: where would the login go?")
    phase = workloads.pvc_phase(clustersteps.kube(ctx), ctx.facts["ns"], claims[0])
    if phase != "Bound":
        raise CheckFailed(f"PVC {claims[0]} is {phase}")
    ctx.facts["claim"] = claims[0]
    return f"PVC {claims[0]} Bound"


@runbook.check("The sync CronJob and its last run", needs_cluster=True)
def last_sync(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    found = workloads.cronjobs(kube, ctx.facts["ns"], APP)
    if not found:
        raise CheckFailed(f"no CronJob of {APP} in {ctx.facts['ns']}")
    cronjob = found[0]
    ctx.facts["cronjob"] = cronjob["metadata"]["name"]
    ctx.facts.setdefault("job", f"{cronjob['metadata']['name']}-manual-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}")
    runs = workloads.runs(kube, ctx.facts["cronjob"], ctx.facts["ns"])
    if not runs:
        return f"CronJob {ctx.facts['cronjob']} ({cronjob['spec'].get('schedule')}): no run yet"
    last = runs[-1]
    state = "succeeded" if (last.get("status") or {}).get("succeeded") else "did not succeed"
    return f"CronJob {ctx.facts['cronjob']}: last run {last['metadata']['name']} {state}"


def _watch_login_line(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    pods = [p for p in workloads.pods(kube, ctx.facts["ns"], APP) if LOGIN_LABEL not in p["metadata"].get(
        "labels", {}) and not p["metadata"]["labels"].get("job-name") and workloads.pod_ready(p)]
    for pod in pods:
        container = pod["spec"]["containers"][0]["name"]
        text = workloads.logs(kube, ctx.facts["ns"], pod["metadata"]["name"], container=container, tail=50)
        line = next((raw for raw in text.splitlines() if "logged in" in raw.lower()), "")
        if line:
            return line.split(" ", 1)[-1].strip()
    return "no login line in its log"


@runbook.check("What its log says about Trakt", needs_cluster=True)
def login_state(ctx: Context) -> str:
    line = _watch_login_line(ctx)
    ctx.facts["logged_in"] = "logged in as" in line.lower() and "not logged in" not in line.lower()
    return line


def _logged_in(ctx: Context) -> str | None:
    if ctx.params.get("force") or not ctx.facts.get("logged_in"):
        return None
    return "it is logged in to Trakt already (pass --force to log in again)"


def _count(ctx: Context) -> int:
    """The watch's replicas to come back to: as this run remembered them, else as the Deployment does
    (mediaops.io/previous-replicas), else as the first check saw them."""
    watch = _watch(ctx)
    kept = (ctx.facts.get("replicas") or {}).get(watch.key)
    if kept is None:
        kept = workloads.remembered(watch.get())
    return int(kept if kept is not None else ctx.facts.get("watch_replicas", 1))


def _start_watch(ctx: Context) -> workloads.Scale:
    return workloads.Scale(_watch(ctx), _count(ctx))


stop_watch = runbook.add(Step(
    "Stop the watch Deployment",
    why="So nothing writes the login file while the login runs.",
    ops=Ops(lambda ctx: [workloads.Scale(_watch(ctx), 0, previous=workloads.to_remember(_watch(ctx).get()),
                                         note=ctx.run_id)],
            doc="kubectl annotate deployment/{deployment} -n {ns} mediaops.io/previous-replicas=N "
                "mediaops.io/scaled-by=RUN --overwrite && kubectl scale deployment/{deployment} -n {ns} --replicas=0"),
    needs_cluster=True, when=_logged_in))
stop_watch.undoer("start the watch Deployment again", command=Live(
    lambda ctx: _start_watch(ctx).render(),
    doc="kubectl annotate deployment/{deployment} -n {ns} mediaops.io/previous-replicas- mediaops.io/scaled-by- "
        "&& kubectl scale deployment/{deployment} -n {ns} --replicas=N"))(lambda ctx: _start_watch(ctx).run(ctx))


def _login_pod(ctx: Context) -> workloads.RunPod:
    """The login pod: the watch Deployment's pod spec (image, volumes, mounts), idle until the login runs."""
    deployment = _watch(ctx).get()
    spec = dict(deployment["spec"]["template"]["spec"])
    main = dict(spec["containers"][0])
    main.update(command=["sleep", "infinity"], args=[])
    return workloads.RunPod(clustersteps.kube(ctx), {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": ctx.facts["login_pod"], "namespace": ctx.facts["ns"], "labels": {LOGIN_LABEL: APP}},
        "spec": {**spec, "containers": [main], "restartPolicy": "Never"}})


def _delete_login_pod(ctx: Context) -> workloads.DeletePod:
    return workloads.DeletePod(clustersteps.kube(ctx), ctx.facts["login_pod"], ctx.facts["ns"])


start_login_pod = runbook.add(Step(
    "Start a login pod with the config volume",
    why="A pod of the same image mounting the config PVC, doing nothing until the login runs in it.",
    ops=Ops(lambda ctx: [_login_pod(ctx)],
            doc="kubectl run {login_pod} -n {ns} --image=IMAGE --restart=Never --overrides='SPEC' && "
                "kubectl wait --for=condition=Ready pod/{login_pod} -n {ns} --timeout=5m  "
                "# IMAGE and SPEC: the watch Deployment's, its volumes mounted, the container idle"),
    needs_cluster=True, when=_logged_in))
start_login_pod.undoer("delete the login pod", command=Live(lambda ctx: _delete_login_pod(ctx).render(),
                                                             doc="kubectl delete pod {login_pod} -n {ns}"))(
    lambda ctx: _delete_login_pod(ctx).run(ctx))


@runbook.step(
    "Log in to Trakt in the login pod",
    why="plextraktsync asks for your Trakt username and shows a code to confirm in a browser; answer it here.",
    command=Live(lambda ctx: workloads.exec_command(ctx.facts["ns"], ctx.facts["login_pod"],
                                                    ["plextraktsync", "login"], container=ctx.facts["container"],
                                                    context=clustersteps.kube(ctx).context,
                                                    kubeconfig=ctx.config.get("kubeconfig") or ""),
                 doc="kubectl --context CONTEXT exec -it -n {ns} {login_pod} -c {container} -- plextraktsync login"),
    needs_cluster=True,
    needs_terminal=True,
    nothing_to_undo="a new login replaces the old one",
)
def login(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    workloads.exec_interactive(ctx.facts["ns"], ctx.facts["login_pod"], ["plextraktsync", "login"],
                               container=ctx.facts["container"], context=kube.context,
                               kubeconfig=ctx.config.get("kubeconfig") or "")
    _, _, code = workloads.exec_in(kube, ctx.facts["ns"], ctx.facts["login_pod"],
                                   ["test", "-f", "/app/config/.pytrakt.json"], container=ctx.facts["container"])
    if code != 0:
        raise CheckFailed("the login did not write /app/config/.pytrakt.json; run the step again")
    return "logged in (the login file is on the config volume)"


runbook.add(Step(
    "Delete the login pod and start the watch Deployment again",
    why="The watch picks up the new login when it starts.",
    ops=Ops(lambda ctx: [_delete_login_pod(ctx), _start_watch(ctx), workloads.RolloutStatus(_watch(ctx))],
            doc="kubectl delete pod {login_pod} -n {ns}\nkubectl annotate deployment/{deployment} -n {ns} "
                "mediaops.io/previous-replicas- mediaops.io/scaled-by- && kubectl scale deployment/{deployment} "
                "-n {ns} --replicas=N\nkubectl rollout status deployment/{deployment} -n {ns} --timeout=5m"),
    needs_cluster=True, when=_logged_in, nothing_to_undo="the app is back as it was"))


@runbook.step(
    "Verify from its logs that it is logged in",
    why="The watch says who it is logged in as when it starts; anything else means the login did not take.",
    command="kubectl logs deployment/{deployment} -n {ns} | grep -i 'logged in'",
    mutates=False,
    needs_cluster=True,
)
def verify_logs(ctx: Context) -> str:
    line = _watch_login_line(ctx)
    if "logged in as" not in line.lower() or "not logged in" in line.lower():
        raise CheckFailed(f"the watch says: {line}")
    return line


runbook.add(Step(
    "Run the sync CronJob once and wait for it",
    why="Proves the whole chain (Plex, Trakt, the login) instead of waiting for tonight's run.",
    # The Job is named by the check, so a resumed run waits for the Job it made.
    ops=Ops(lambda ctx: [workloads.RunJobFrom(clustersteps.kube(ctx), ctx.facts["cronjob"], ctx.facts["job"],
                                              ctx.facts["ns"])],
            doc="kubectl create job {job} -n {ns} --from=cronjob/{cronjob} && "
                "kubectl wait --for=condition=Complete job/{job} -n {ns} --timeout=5m"),
    needs_cluster=True, when=_logged_in, nothing_to_undo="one more sync is harmless"))


login.skip_when(_logged_in)
