"""Re-authenticate Plex Trakt Sync with Trakt.

plex-trakt-sync keeps its Trakt login in its config PVC (``/app/config/.pytrakt.json``). When Trakt
revokes it, the ``watch`` Deployment logs "not logged in" and the daily sync does nothing. The login
is interactive (a device code to confirm in a browser), so a human runs it: in a pod that mounts the
config volume, while the watch Deployment is stopped so nothing writes the login file meanwhile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mediaops.cluster import workloads
from mediaops.engine import CheckFailed, Live, Param, Runbook
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
                     replicas=int((deployment.get("spec") or {}).get("replicas", 1)),
                     login_pod=f"{deployment['metadata']['name']}-login", container=containers[0].get("name", ""))
    return f"Deployment {namespace}/{deployment['metadata']['name']} ({ctx.facts['replicas']} replica(s))"


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


@runbook.step(
    "Stop the watch Deployment",
    why="So nothing writes the login file while the login runs.",
    command=Live(lambda ctx: workloads.scale_command(
        "Deployment", ctx.facts["deployment"], ctx.facts["ns"], 0, note=ctx.run_id,
        previous=workloads.to_remember(_watch(ctx).get())),
        doc="kubectl scale deployment/{deployment} -n {ns} --replicas=0  # its replicas remembered first"),
    needs_cluster=True,
)
def stop_watch(ctx: Context) -> str:
    previous = _watch(ctx).scale(0, note=ctx.run_id)
    ctx.facts["replicas"] = previous
    return f"scaled to 0 (was {previous})"


@stop_watch.undoer("start the watch Deployment again", command="kubectl scale deployment {deployment} -n {ns} "
                   "--replicas={replicas}")
def undo_stop_watch(ctx: Context) -> None:
    _watch(ctx).scale(int(ctx.facts["replicas"]))


@runbook.step(
    "Start a login pod with the config volume",
    why="A pod of the same image mounting the config PVC, doing nothing until the login runs in it.",
    command=Live(lambda ctx: _login_pod_command(ctx),
                 doc="kubectl run {deployment}-login -n {ns} --image=IMAGE --restart=Never --overrides='SPEC' "
                     "-- sleep infinity  # IMAGE and SPEC: the watch Deployment's, its volumes mounted"),
    needs_cluster=True,
)
def start_login_pod(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    name, body = _login_pod(ctx)
    ctx.facts.update(login_pod=name, container=body["spec"]["containers"][0]["name"])
    workloads.create_pod(kube, body)  # a resumed run keeps the pod it made
    with ctx.waiting(f"pod {name} running") as waiting:
        workloads.wait_pod_ready(kube, name, ctx.facts["ns"], timeout=clustersteps.TIMEOUT, waiting=waiting)
    return f"pod {name} running"


def _login_pod(ctx: Context) -> tuple[str, dict[str, Any]]:
    """The login pod: the watch Deployment's pod spec (image, volumes, mounts), idle until the login runs."""
    deployment = _watch(ctx).get()
    spec = dict(deployment["spec"]["template"]["spec"])
    main = dict(spec["containers"][0])
    main.update(command=["sleep", "infinity"], args=[])
    name = f"{ctx.facts['deployment']}-login"
    return name, {"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": name, "namespace": ctx.facts["ns"], "labels": {LOGIN_LABEL: APP}},
                  "spec": {**spec, "containers": [main], "restartPolicy": "Never"}}


def _login_pod_command(ctx: Context) -> str:
    import json

    name, body = _login_pod(ctx)
    image = body["spec"]["containers"][0].get("image", "")
    overrides = json.dumps({"apiVersion": "v1", "metadata": {"labels": body["metadata"]["labels"]},
                            "spec": body["spec"]}, separators=(",", ":"))
    return (f"kubectl run {name} -n {ctx.facts['ns']} --image={image} --restart=Never --overrides='{overrides}' "
            "-- sleep infinity")


@start_login_pod.undoer("delete the login pod", command="kubectl delete pod {login_pod} -n {ns}")
def delete_login_pod(ctx: Context) -> None:
    workloads.delete_pod(clustersteps.kube(ctx), ctx.facts.get("login_pod", ""), ctx.facts["ns"])


@runbook.step(
    "Log in to Trakt in the login pod",
    why="plextraktsync asks for your Trakt username and shows a code to confirm in a browser; answer it here.",
    command="kubectl exec -it -n {ns} {login_pod} -c {container} -- plextraktsync login",
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


@runbook.step(
    "Delete the login pod and start the watch Deployment again",
    why="The watch picks up the new login when it starts.",
    command="kubectl delete pod {login_pod} -n {ns} && kubectl scale deployment {deployment} -n {ns} "
            "--replicas={replicas} && kubectl rollout status deployment/{deployment} -n {ns}",
    needs_cluster=True,
    nothing_to_undo="the app is back as it was",
)
def restart_watch(ctx: Context) -> str:
    delete_login_pod(ctx)
    watch = _watch(ctx)
    watch.scale(int(ctx.facts["replicas"]))
    with ctx.waiting(f"Deployment {ctx.facts['deployment']} rolled out") as waiting:
        watch.wait_rolled_out(timeout=clustersteps.TIMEOUT, waiting=waiting)
    return f"watch running again ({ctx.facts['replicas']} replica(s))"


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


@runbook.step(
    "Run the sync CronJob once and wait for it",
    why="Proves the whole chain (Plex, Trakt, the login) instead of waiting for tonight's run.",
    command="kubectl create job {job} -n {ns} --from=cronjob/{cronjob} && "
            "kubectl wait --for=condition=Complete job/{job} -n {ns}",
    needs_cluster=True,
    nothing_to_undo="one more sync is harmless",
)
def sync_once(ctx: Context) -> str:
    kube = clustersteps.kube(ctx)
    name = ctx.facts["job"]  # named by the check, so the command shown names it too
    workloads.run_job_from(kube, ctx.facts["cronjob"], name, ctx.facts["ns"])  # a resumed run waits for its Job
    with ctx.waiting(f"Job {name} to complete") as waiting:
        workloads.wait_job_complete(kube, name, ctx.facts["ns"], timeout=clustersteps.TIMEOUT, waiting=waiting)
    return f"Job {name} completed"


for _step in (stop_watch, start_login_pod, login, restart_watch, sync_once):
    _step.skip_when(_logged_in)
