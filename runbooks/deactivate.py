"""Deactivate an app of the media stack: the way back from activate.

Renaming ``ks.yaml`` to ``ks.dis`` and unlisting it makes Flux's ``cluster-apps`` prune the app's Kustomization,
and with ``prune: true`` everything it applied, the app's PersistentVolumeClaims and their data included (but a
claim labelled or annotated ``kustomize.toolkit.fluxcd.io/prune: disabled``, or kept by Helm's resource policy:
those stay, and the run says so); so the volumes that go are backed up first, with the system the cluster backs
up with (Velero, K8up or VolSync: mediaops/cluster/backups.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from mediaops.cluster import backups, velero
from mediaops.engine import CheckFailed, Concern, Live, Ops, Runbook, Step
from mediaops.engine.context import Context
from mediaops.repo import ACTIVE, ARCHIVED, INCONSISTENT, UNREADABLE, deactivation
from mediaops.repo.edits import edit_command
from mediaops.steps import activation as shared
from mediaops.steps import cluster as clustersteps
from mediaops.steps import git as gitsteps
from mediaops.steps.app import app_of

deactivate = Runbook(
    name="deactivate",
    summary="Deactivate an app: ks.yaml back to ks.dis, unlist it, commit and push",
    params=shared.PARAMS,
    lock=lambda p: f"mediaops-activate-{p['app']}",
    takes_down=lambda ctx: [(app_of(ctx).namespace, app_of(ctx).name)],
)


@deactivate.check("The app exists and is active (or already disabled)")
def app_is_active(ctx: Context) -> str:
    app = app_of(ctx)
    if app.state in (INCONSISTENT, ARCHIVED, UNREADABLE):
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}: {'; '.join(app.reasons) or app.directory}")
    shared.learn(ctx, app)
    # The claims the prune deletes: not one Flux is told to leave (prune disabled) or Helm keeps (retain).
    deleted = [v for v in app.volumes if not v.kept]
    volumes = [f"{v.name} ({v.size or 'size unknown'})" for v in deleted]
    ctx.facts["volumes"] = ", ".join(volumes)
    ctx.facts["claims"] = [v.name for v in deleted]
    ctx.facts.setdefault("backup", f"pre-deactivate-{app.name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}")
    if volumes and app.state == ACTIVE:
        ctx.warn(f"deactivating {app.name} deletes its PersistentVolumeClaims: {', '.join(volumes)}")
    kept = [v.name for v in app.volumes if v.kept]
    if kept and app.state == ACTIVE:
        ctx.warn(f"deactivating {app.name} leaves {', '.join(kept)} in the cluster (prune disabled or retained): "
                 "delete them by hand when their data may go")
    return f"{app.namespace}/{app.name} is {app.state}"


@deactivate.check("No active app depends on it")
def no_dependents(ctx: Context) -> str:
    """An active app whose Kustomization dependsOn one of this app's: once this one is pruned, Flux stops
    reconciling that one ('dependency … not found') until this app is back or the dependsOn goes."""
    app = app_of(ctx)
    mine = {("Kustomization", k.namespace, k.name) for k in app.kustomizations} | \
        {("HelmRelease", h.namespace, h.name) for h in app.helmreleases}
    others = [a for a in ctx.repo.apps() if a.state == ACTIVE and (a.namespace, a.name) != (app.namespace, app.name)]
    # a Kustomization's dependsOn names Kustomizations, a HelmRelease's HelmReleases (helm-controller then stops
    # too: "unable to get … dependency")
    dependents = sorted({f"{other.namespace}/{other.name} ({obj.name} dependsOn {dep})"
                         for other in others
                         for kind_name, objs in (("Kustomization", other.kustomizations),
                                                 ("HelmRelease", other.helmreleases))
                         for obj in objs for dep in obj.depends_on
                         if (kind_name, dep.namespace, dep.name) in mine})
    if dependents and app.state == ACTIVE:
        return Concern(f"{', '.join(dependents)}: Flux stops reconciling what depends on {app.name} once it is "
                       "pruned; deactivate those first, or take their dependsOn out")
    return "none does"


deactivate.check("Its files have no uncommitted changes and nothing unrelated is staged")(shared.files_clean)
deactivate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)


@deactivate.check("The backup system that would back up its claims", needs_cluster=True)
def backup_system(ctx: Context) -> str:
    app = app_of(ctx)
    if not ctx.facts.get("claims"):
        return "no claim to back up"
    try:
        choice = backups.choose(clustersteps.kube(ctx), app.namespace, claims=list(ctx.facts["claims"]))
    except backups.NoBackupSystem as exc:
        ctx.facts.update(system="none", no_backup=str(exc), k8up_backend=None, volsync_sources=None)
        return Concern(f"{exc}: the backup step will fail; skip it only if the data may go")
    ctx.facts.update(system=choice.system, k8up_backend=choice.backend, volsync_sources=choice.sources)
    return f"{choice.system}: {choice.why}"


def _backup(ctx: Context) -> list[backups.BackupOperation]:
    choice = backups.Choice(str(ctx.facts.get("system") or "velero"), str(ctx.facts.get("no_backup") or ""),
                            ctx.facts.get("k8up_backend"), ctx.facts.get("volsync_sources"))
    return backups.operations(clustersteps.kube(ctx), choice, name=ctx.facts["backup"], namespace=ctx.facts["ns"],
                              selector=f"app.kubernetes.io/name={ctx.facts['app']}", run_id=ctx.run_id)


backup_volumes = deactivate.add(Step(
    "Back up its volumes before the prune deletes them",
    why="With prune: true Flux deletes the app's PersistentVolumeClaims ({volumes}) and their data with them. "
        "Skip only if the data may go.",
    # velero.backup_command's line (braces of the policy doubled so the template keeps them), or K8up's Backup.
    ops=Ops(_backup, doc=velero.backup_command("{backup}", namespaces=["{ns}"],
                                               selector="app.kubernetes.io/name={app}").replace("{}", "{{}}")
            + "\n# with K8up: kubectl apply a k8up.io/v1 Backup with the namespace's backend, then "
              "kubectl wait --for=condition=Completed backup.k8up.io/{backup} -n {ns} --timeout=30m"
              "\n# with VolSync: each claim's ReplicationSource triggered by hand (spec.trigger.manual), waited for "
              "(status.lastManualSync), the trigger taken off again"),
    needs_cluster=True))


@backup_volumes.verifier("the backup holds the data of every claim (Velero: a completed PodVolumeBackup of each; "
                         "K8up: a snapshot of each taken by this backup)")
def backup_holds_the_claims(ctx: Context) -> None:
    name, system = ctx.facts["backup"], str(ctx.facts.get("system") or "velero")
    claims = list(ctx.facts.get("claims") or [])
    held = backups.held(clustersteps.kube(ctx), system, name, ctx.facts["ns"], claims)
    missing = [c for c in claims if c not in held]
    if missing:
        raise CheckFailed(f"backup {name} holds no data for {', '.join(missing)}")
    ctx.facts["backup_claims"] = sorted(held)


@backup_volumes.skip_when
def nothing_to_lose(ctx: Context) -> str | None:
    if not ctx.facts.get("volumes"):
        return "the app has no PersistentVolumeClaims to lose"
    return clustersteps.app_in_place(ctx, app_of(ctx), present=False)


@backup_volumes.undoer("nothing to undo: the backup stays until its TTL (720h)")
def keep_backup(ctx: Context) -> None:
    return None


@deactivate.step(
    "Remove it from the namespace kustomization (its ks.yaml renamed ks.dis, where it has one)",
    why="With prune: true, Flux deletes everything the app deployed, its PersistentVolumeClaims "
        "({volumes}) included, once this is pushed; a claim it is told to leave stays.",
    command=Live(lambda ctx: edit_command(ctx.repo, app_of(ctx), activate=False),
                 doc="git mv {dir}/ks.yaml {dir}/ks.dis\n# and remove ./{app}/ks.yaml from resources: in {ns_file}"),
    edit=True,
)
def disable_in_repository(ctx: Context) -> object:
    return deactivation(ctx.repo, app_of(ctx))


commit = deactivate.add(gitsteps.commit_step(
    "Commit the deactivation", why="Flux deploys what is committed.",
    message=lambda ctx: f"chore({ctx.facts['ns']}): deactivate {ctx.facts['app']}", paths=shared.paths,
    after=(disable_in_repository,), doc_message="chore({ns}): deactivate {app}"))
push = deactivate.add(gitsteps.push_step(
    why="Once pushed, Flux prunes the app from the cluster.", after=(commit,),
    undo_doc="push a commit that reverts the deactivation, then let Flux bring the app back",
    undo=shared.reconcile_revert, then=shared.RECONCILE_APPS))


def _pushed_and_not_gone(ctx: Context) -> str | None:
    return shared.not_pushed(ctx) or clustersteps.app_in_place(ctx, app_of(ctx), present=False)


UNDONE_BY_PUSH = "undoing the push brings the cluster back"
fetch = deactivate.add(clustersteps.reconcile_source_step(
    after=(push,), when=_pushed_and_not_gone, nothing_to_undo=UNDONE_BY_PUSH))
prune = deactivate.add(clustersteps.reconcile_cluster_apps_step(
    "cluster-apps no longer lists the app, so Flux prunes its Kustomization and everything it applied.",
    after=(fetch,), when=_pushed_and_not_gone, nothing_to_undo=UNDONE_BY_PUSH, disrupts=True))
deactivate.add(clustersteps.wait_pruned_step(app_of, after=(prune,), when=shared.not_pushed))
