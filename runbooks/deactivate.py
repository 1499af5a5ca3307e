"""Deactivate an app of the media stack: the way back from activate.

Renaming ``ks.yaml`` to ``ks.dis`` and unlisting it makes Flux's ``cluster-apps`` prune the app's Kustomization,
and with ``prune: true`` everything it applied, the app's PersistentVolumeClaims and their data included; so the
volumes are backed up with Velero first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mediaops.cluster import velero
from mediaops.engine import CheckFailed, Runbook
from mediaops.engine.context import Context
from mediaops.repo import ACTIVE, ARCHIVED, INCONSISTENT, UNREADABLE, deactivation
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
    volumes = [f"{v.name} ({v.size or 'size unknown'})" for v in app.volumes]
    ctx.facts["volumes"] = ", ".join(volumes)
    ctx.facts["claims"] = [v.name for v in app.volumes]
    ctx.facts.setdefault("backup", f"pre-deactivate-{app.name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}")
    if volumes and app.state == ACTIVE:
        ctx.warn(f"deactivating {app.name} deletes its PersistentVolumeClaims: {', '.join(volumes)}")
    return f"{app.namespace}/{app.name} is {app.state}"


deactivate.check("Its files have no uncommitted changes and nothing unrelated is staged")(shared.files_clean)
deactivate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)


@deactivate.step(
    "Back up its volumes with Velero before the prune deletes them",
    why="With prune: true Flux deletes the app's PersistentVolumeClaims ({volumes}) and their data with them. "
        "Skip only if the data may go.",
    # The command velero.backup_command writes (braces of the policy doubled so the template keeps them).
    command=velero.backup_command("{backup}", namespaces=["{ns}"],
                                  selector="app.kubernetes.io/name={app}").replace("{}", "{{}}"),
    needs_cluster=True,
)
def backup_volumes(ctx: Context) -> str:
    kube, app, ns = clustersteps.kube(ctx), ctx.facts["app"], ctx.facts["ns"]
    # Velero captures a claim's data only through a running pod that mounts it (file-system backup).
    problems = velero.volume_plan(kube, ns, f"app.kubernetes.io/name={app}").problems()
    if problems:
        raise velero.VeleroError("the backup would not hold the data of " + "; ".join(problems))
    name = ctx.facts["backup"]  # named by the first check, so the command shown names it too
    if not velero.exists(kube, "Backup", name):
        velero.backup(kube, name, namespaces=[ns], selector={"app.kubernetes.io/name": app})
    with ctx.waiting(f"Velero backup {name}") as waiting:
        outcome = velero.wait(kube, "Backup", name, waiting=waiting)
    held = sorted(velero.volume_backups(kube, name))
    missing = [c for c in ctx.facts.get("claims") or [] if c not in held]
    if missing:
        raise velero.VeleroError(f"backup {name} holds no data for {', '.join(missing)}")
    return (f"backup {name} {outcome.phase} ({outcome.items} items, data of {', '.join(held) or 'no claim'}); "
            f"restore: {velero.restore_command(name)}")


@backup_volumes.skip_when
def nothing_to_lose(ctx: Context) -> str | None:
    if not ctx.facts.get("volumes"):
        return "the app has no PersistentVolumeClaims to lose"
    return clustersteps.app_in_place(ctx, app_of(ctx), present=False)


@backup_volumes.undoer("nothing to undo: the backup stays until its TTL (720h)")
def keep_backup(ctx: Context) -> None:
    return None


@deactivate.step(
    "Rename ks.yaml to ks.dis and remove it from the namespace kustomization",
    why="With prune: true, Flux deletes everything the app deployed, its PersistentVolumeClaims "
        "({volumes}) included, once this is pushed.",
    command="git mv {dir}/ks.yaml {dir}/ks.dis\n# and remove ./{app}/ks.yaml from resources: in {ns_file}",
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
