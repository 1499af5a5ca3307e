"""Back up an app, its volumes' data included, then upgrade it: bump the chart or an image tag, push,
reconcile, wait.

The backup is taken with the system the cluster backs up with (mediaops/cluster/backups.py: Velero, K8up or
VolSync, or the one --backup-with names). It comes first and must succeed (a Velero backup PartiallyFailed
stops the run unless --accept-partial) and hold the data of every claim the app mounts (Velero: file-system
backup through the node agent, NFS shares left to the NAS, unless --objects-only; K8up: a restic snapshot of
each claim's folder; VolSync: a manual sync of each claim's ReplicationSource). If the upgrade goes wrong, the
way back restores the app as the backup holds it: Flux held off the app, its workloads stopped, then Velero:
its claims deleted and the backup restored (a real Velero restore skips what exists, so restoring onto the
running app would bring back nothing: mediaops/cluster/velero.py); K8up and VolSync: each claim's snapshot
restored into it and the replicas put back; Flux resumed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mediaops.cluster import backups, flux, velero, volsync, waits, workloads
from mediaops.engine import Changes, CheckFailed, FileChange, Live, Operation, Ops, Param, Runbook, Step, render_ops
from mediaops.engine.context import Context
from mediaops.errors import UsageError
from mediaops.repo import ACTIVE, App
from mediaops.repo.yamlfiles import YamlError, set_scalar
from mediaops.steps import cluster as clustersteps
from mediaops.steps import git as gitsteps

runbook = Runbook(
    name="backup-before-upgrade",
    summary="Back up an app (Velero, K8up or VolSync), then bump its chart or image tag, push, reconcile and wait",
    takes_down=lambda ctx: [(_app(ctx).namespace, _app(ctx).name)],
    params=[
        Param("app", "the app folder name under kubernetes/apps/NAMESPACE/", complete="app", kind="name"),
        Param("chart_version", "the chart version to upgrade to", required=False, kind="semver"),
        Param("image_tag", "the image tag to upgrade to: TAG (the first container) or CONTAINER=TAG",
              required=False, kind="image-tag"),
        Param("namespace_wide", "back up the whole namespace, not only the app's objects", required=False,
              flag=True),
        Param("accept_partial", "go on when the backup ends PartiallyFailed", required=False, flag=True),
        Param("objects_only", "back up the app's objects without its volumes' data", required=False, flag=True),
        Param("ttl", "how long Velero keeps the backup", required=False, default="720h", kind="duration"),
        Param("backup_with", "the backup system to use (default: the one whose routine backups cover the "
              "namespace, else Velero if it can, else K8up)", required=False, choices=backups.SYSTEMS),
        Param("no_push", "commit the bump but do not push (and do not reconcile)", required=False, flag=True),
    ],
    lock=lambda p: f"mediaops-upgrade-{p['app']}",
    validate=lambda p: None if p.get("chart_version") or p.get("image_tag") else (
        "nothing to upgrade to: give --chart-version or --image-tag"),
)


def _app(ctx: Context) -> App:
    return ctx.repo.app(ctx.params["app"])


@runbook.check("The app exists and is active")
def app_active(ctx: Context) -> str:
    app = _app(ctx)
    if app.state != ACTIVE:
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}, not active"
                          + (f" ({'; '.join(app.reasons)})" if app.reasons else ""))
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    ctx.facts.setdefault("backup", f"pre-{app.name}-{stamp}")
    ctx.facts.update(app=app.name, ns=app.namespace, ks=", ".join(k.name for k in app.kustomizations),
                     hr=", ".join(h.name for h in app.helmreleases),
                     selector="" if ctx.params.get("namespace_wide") else f"app.kubernetes.io/name={app.name}")
    return f"{app.namespace}/{app.name}"


@runbook.check("What the repository and the cluster run now")
def versions(ctx: Context) -> str:
    app = _app(ctx)
    repo = "; ".join([f"chart {h.chart or h.chart_ref} {h.version}".rstrip() for h in app.helmreleases]
                     + [f"{c.name} {c.image}:{c.tag}" for c in app.images])
    if not ctx.has_service("cluster"):
        return f"repository: {repo}"
    live = []
    for hr in clustersteps.helmreleases(ctx, app):
        obj = hr.find()
        live.append(f"chart {flux.FluxStatus.of(obj).revision if obj else 'not installed'}")
    live += [f"{container} {image}" for container, image in workloads.images(
        clustersteps.kube(ctx), app.namespace, app.name, kinds=("Deployment", "StatefulSet", "CronJob"))]
    return f"repository: {repo} | cluster: {'; '.join(live)}"


@runbook.check("The new version can be written in the repository")
def bump_possible(ctx: Context) -> str:
    # Planned before anything happens, so a container or chart that cannot be bumped stops the run here,
    # before a backup is taken (the step writes the very changes planned here).
    changes = _bump(ctx)
    return changes.summary + (f" in {', '.join(c.path for c in changes.files)}" if changes.files else "")


runbook.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)


@runbook.check("A backup system can back up the app's namespace", needs_cluster=True)
def system_chosen(ctx: Context) -> str:
    app, kube = _app(ctx), clustersteps.kube(ctx)
    claims = sorted({v.name for v in app.volumes} | set(app.claims))
    try:
        choice = backups.choose(kube, app.namespace, str(ctx.params.get("backup_with") or ""), claims)
    except backups.NoBackupSystem as exc:
        raise CheckFailed(f"{exc}; {exc.hint}" if exc.hint else str(exc)) from None
    ctx.facts.update(system=choice.system, k8up_backend=choice.backend, volsync_sources=choice.sources)
    return f"{choice.system}: {choice.why}"


@runbook.check("The backup can capture the app's volume data", needs_cluster=True)
def volumes_capturable(ctx: Context) -> str:
    app, kube = _app(ctx), clustersteps.kube(ctx)
    selector = f"app.kubernetes.io/name={app.name}"
    plan = velero.volume_plan(kube, app.namespace, "" if ctx.params.get("namespace_wide") else selector)
    ctx.facts["claims"] = plan.claims
    if ctx.params.get("objects_only"):
        return f"--objects-only: the backup leaves out {', '.join(plan.claims) or 'no claims'}"
    if ctx.facts.get("system") == "volsync":
        return "VolSync synchronizes " + ", ".join(f"{c} ({s})" for c, s in sorted(
            (ctx.facts.get("volsync_sources") or {}).items()))
    if ctx.facts.get("system") == "k8up":
        # K8up's job mounts each claim itself: a stopped app's data is backed up too; NFS is the NAS's.
        left_out = backups.k8up_skipped(kube, app.namespace, plan.claims)
        if left_out:
            raise CheckFailed("a K8up backup would leave out " + "; ".join(left_out))
        return f"K8up backs up {', '.join(plan.claims) or 'no claim'} (a restic snapshot each)"
    problems = plan.problems()
    if problems:
        raise CheckFailed("the backup would not hold the data of " + "; ".join(problems)
                          + "; start the app, or give --objects-only to back up its objects alone")
    return plan.describe()


def _choice(ctx: Context) -> backups.Choice:
    return backups.Choice(str(ctx.facts.get("system") or "velero"), "", ctx.facts.get("k8up_backend"),
                          ctx.facts.get("volsync_sources"))


def _backups(ctx: Context) -> list[backups.BackupOperation]:
    """The backup, as the chosen system's operations render and run it: for Velero, no --selector with
    --namespace-wide, no volume data (nor its policy ConfigMap) with --objects-only."""
    app = _app(ctx)
    return backups.operations(clustersteps.kube(ctx), _choice(ctx), name=ctx.facts["backup"], namespace=app.namespace,
                              selector="" if ctx.params.get("namespace_wide") else f"app.kubernetes.io/name={app.name}",
                              ttl=str(ctx.params.get("ttl")), volumes=not ctx.params.get("objects_only"),
                              accept_partial=bool(ctx.params.get("accept_partial")), run_id=ctx.run_id)


def _volsync_restores(ctx: Context, restore_name: str) -> list[Operation]:
    """Each claim's snapshot of this run's sync written back (restoreAsOf that sync), the one-off
    ReplicationDestinations deleted after."""
    kube, namespace = clustersteps.kube(ctx), _app(ctx).namespace
    synced = dict(ctx.facts.get("volsync_synced") or {})
    ops: list[Operation] = []
    destinations = []
    for claim, source_name in sorted((ctx.facts.get("volsync_sources") or {}).items()):
        source = kube.get(volsync.SOURCE, source_name, namespace)
        name = f"{source_name}-undo"[:63]
        destinations.append(name)
        ops.append(volsync.Restore(kube, namespace, name, source_name, claim, restore_name,
                                   volsync.restic_settings(source), as_of=str(synced.get(claim) or "")))
    return ops + [volsync.DeleteDestination(kube, namespace, name) for name in destinations]


def _restores(ctx: Context) -> list[Operation]:
    """The way back, in its order: Flux held off the app, its workloads stopped (a plain scale: the restore puts
    the replicas back, and a remembered count would outlive it), their pods gone (a claim is released only when
    no pod uses it: kubernetes.io/pvc-protection), the claims whose data the backup holds deleted (a real Velero
    restore skips what exists), the restore, the source reconciled (the revert is on the branch by now), the
    HelmReleases unsuspended, then the Kustomizations resumed, which apply the reverted releases."""
    kube, app = clustersteps.kube(ctx), _app(ctx)
    backup_name = ctx.facts["backup"]
    restore_name = f"{backup_name}-restore"
    ks, hr = clustersteps.kustomizations(ctx, app), clustersteps.helmreleases(ctx, app)
    ops: list[Operation] = [flux.Suspend(o, ctx.run_id, "undoing an upgrade") for o in ks + hr]
    if ctx.facts.get("system") in ("k8up", "volsync"):
        # K8up and VolSync write each snapshot back into its claim (the files overwritten); the objects are left
        # as they are, so the replicas are put back by hand (remembered on each workload) before Flux takes over.
        stopped = workloads.of_app(kube, app.namespace, app.name)
        counts = [workloads.to_remember(w.get()) for w in stopped]
        ops += [workloads.Scale(w, 0, previous=n, note=ctx.run_id) for w, n in zip(stopped, counts, strict=True)]
        ops.append(workloads.PodsGone(kube, app.namespace, app.name))
        if ctx.facts.get("system") == "k8up":
            ops += backups.restore_into_claims(kube, namespace=app.namespace, name=restore_name,
                                               snapshots=dict(ctx.facts.get("k8up_snapshots") or {}),
                                               backend=dict(ctx.facts.get("k8up_backend") or {}))
        else:
            ops += _volsync_restores(ctx, restore_name)
        ops += [workloads.Scale(w, n) for w, n in zip(stopped, counts, strict=True)]
        ops.append(flux.Reconcile(clustersteps.source(ctx)))
        return ops + [flux.Resume(o, wait=False) for o in hr] + [flux.Resume(o) for o in ks]
    if not velero.exists(kube, "Restore", restore_name):  # a resumed undo goes on with the restore it made
        ops += [workloads.Scale(w, 0, remember=False) for w in workloads.of_app(kube, app.namespace, app.name)]
        ops.append(workloads.PodsGone(kube, app.namespace, app.name))
        ops += [workloads.DeleteClaim(kube, c, app.namespace) for c in ctx.facts.get("backup_claims") or []]
    ops.append(velero.Restore(kube, backup_name, restore_name))
    ops.append(flux.Reconcile(clustersteps.source(ctx)))
    ops += [flux.Resume(o, wait=False) for o in hr] + [flux.Resume(o) for o in ks]
    return ops


backup = runbook.add(Step(
    "Back up the app, its volumes' data included",
    why="The way back if the upgrade breaks the app or migrates its data badly. Velero captures a volume's "
        "data only through file-system backup (or snapshots), never by default; K8up snapshots each claim.",
    ops=Ops(_backups, doc=velero.backup_command("{backup}", namespaces=["{ns}"],
                                                selector="app.kubernetes.io/name={app}", ttl="{ttl}").replace(
                                                    "{}", "{{}}")
            + "  # without --selector with --namespace-wide; only the velero line with --objects-only\n"
              "# with K8up: kubectl apply a k8up.io/v1 Backup with the namespace's backend, then "
              "kubectl wait --for=condition=Completed backup.k8up.io/{backup} -n {ns} --timeout=30m\n"
              "# with VolSync: each claim's ReplicationSource triggered by hand (spec.trigger.manual), waited for "
              "(status.lastManualSync), the trigger taken off again"),
    needs_cluster=True, when=lambda ctx: _already_running(ctx)))


@backup.verifier("the backup holds the data of every claim the app mounts (Velero: a completed PodVolumeBackup of "
                 "each, unless --objects-only; K8up: a snapshot of each taken by this backup)")
def backup_holds_the_data(ctx: Context) -> None:
    name, system, app = ctx.facts["backup"], str(ctx.facts.get("system") or "velero"), _app(ctx)
    claims = list(ctx.facts.get("claims") or [])
    held = {} if ctx.params.get("objects_only") and system == "velero" else backups.held(
        clustersteps.kube(ctx), system, name, app.namespace, claims)
    ctx.facts.update(backup_done=True, backup_claims=sorted(held),
                     k8up_snapshots={c: i for c, i in held.items()} if system == "k8up" else {},
                     volsync_synced={c: t for c, t in held.items()} if system == "volsync" else {})
    if ctx.params.get("objects_only") and system == "velero":
        return
    missing = [c for c in claims if c not in held]
    if missing:
        see = {"velero": f"`velero backup describe {name} --details{velero.in_namespace(clustersteps.kube(ctx))}`",
               "k8up": f"`kubectl describe backup.k8up.io/{name} -n {app.namespace}` and its job's logs"}.get(
            system, f"`kubectl get replicationsources -n {app.namespace} -o yaml` (status.latestMoverStatus)")
        raise CheckFailed(f"backup {name} holds no data for {', '.join(missing)}; see {see}")


RESTORE_DOC = ("flux suspend kustomization KUSTOMIZATION -n {ns}\nflux suspend helmrelease HELMRELEASE -n {ns}\n"
               "kubectl scale deployment/NAME -n {ns} --replicas=0  # each Deployment and StatefulSet of {app}\n"
               "kubectl wait --for=delete pod -n {ns} -l app.kubernetes.io/name={app} --timeout=5m\n"
               "kubectl delete pvc CLAIM -n {ns} --wait  # each claim the backup holds data of\n"
               + velero.restore_command("{backup}", "{backup}-restore") + "\n"
               + flux.command(*clustersteps.SOURCE) + "\n"
               "flux resume helmrelease HELMRELEASE -n {ns} --wait=false\n"
               "flux resume kustomization KUSTOMIZATION -n {ns}\n"
               "# with K8up or VolSync: no claim deleted; a k8up.io/v1 Restore of each claim's snapshot into it, or "
               "a one-off ReplicationDestination restoring the sync this run made, then the replicas scaled back, "
               "before the source is reconciled")


@backup.undoer("if the new version reached the cluster: restore the app from the backup, data included "
               "(Flux held off, workloads stopped, claims deleted, restore, Flux resumed)",
               command=Live(lambda ctx: render_ops(_restores(ctx)), doc=RESTORE_DOC))
def restore(ctx: Context) -> None:
    if not ctx.facts.get("deployed"):
        return  # the upgrade never reached the cluster: the backup stays for its TTL, nothing to restore
    ops = _restores(ctx)  # the hold-off again: an undo run later (mediaops undo) may find Flux running the app
    for op in ops:
        op.run(ctx)
    if ctx.facts.get("system") == "velero" or not ctx.facts.get("system"):  # K8up, VolSync: their waits judged it
        # What came back: each claim made again by this restore, with its data.
        restore_name = f"{ctx.facts['backup']}-restore"
        restored = velero.volume_restores(clustersteps.kube(ctx), restore_name)
        lost = [c for c in ctx.facts.get("backup_claims") or [] if c not in restored]
        if lost:
            raise velero.VeleroError(f"restore {restore_name} did not bring back the data of {', '.join(lost)}")
    app = _app(ctx)
    clustersteps.wait_helmreleases(ctx, app)
    clustersteps.wait_pods(ctx, app)
    ctx.facts["restored"] = True


def _already_running(ctx: Context) -> str | None:
    """Nothing to back up or reconcile when the cluster already runs what was asked for."""
    version, tag = ctx.params.get("chart_version"), ctx.params.get("image_tag")
    if not (version or tag) or not ctx.has_service("cluster"):
        return None
    app = _app(ctx)
    if version:
        for hr in clustersteps.helmreleases(ctx, app):
            obj = hr.find()
            if obj is None or flux.FluxStatus.of(obj).revision != version or flux.FluxStatus.of(obj).ready != "True":
                return None
    if tag:
        wanted = str(tag).rpartition("=")[2]
        images = [image for _, image in workloads.images(clustersteps.kube(ctx), app.namespace, app.name)]
        if not any(image.endswith(f":{wanted}") for image in images):
            return None
    return f"{app.name} already runs {' and '.join(filter(None, [version and f'chart {version}', tag]))}"



def _bump(ctx: Context) -> Changes:
    app, repo = _app(ctx), ctx.repo
    files: dict[str, tuple[str, str]] = {}

    def edit(rel: str, path: list[str | int], value: str, document: tuple[str, str] | None = None) -> bool:
        before, current = files.get(rel, (None, None))
        if before is None:
            before = current = (repo.root / rel).read_text(encoding="utf-8")
        try:
            after = set_scalar(str(current), path, value, rel, document)
        except YamlError:
            return False
        files[rel] = (str(before), after)
        return True

    version = ctx.params.get("chart_version")
    if version:
        for hr in app.helmreleases:
            if not hr.chart_ref:
                edit(hr.file, ["spec", "chart", "spec", "version"], str(version), ("HelmRelease", hr.name))
                continue
            # chartRef: the version is the OCIRepository's ref.tag; bump it when this release is the only user of
            # the file that defines it.
            if not hr.source_file:
                raise UsageError(f"{hr.name} takes its chart from {hr.chart_ref}, which is not in the repository",
                                 hint="use --image-tag")
            # Users of the same file: one OCIRepository, or a component's that every namespace listing the
            # component gets a copy of (bumping the file bumps them all).
            source = (hr.source_file, hr.chart_ref.rpartition("/")[2])  # a file may define several sources
            others = sorted({f"{a.namespace}/{h.name}" for a in repo.apps() for h in a.helmreleases
                             if (h.source_file, h.chart_ref.rpartition("/")[2]) == source}
                            - {f"{app.namespace}/{hr.name}"})
            if others:
                named = ", ".join(others[:6]) + (f" and {len(others) - 6} more" if len(others) > 6 else "")
                raise UsageError(f"{hr.name} takes its chart from {hr.chart_ref} ({hr.source_file}), which "
                                 f"{len(others)} other release{'s use' if len(others) > 1 else ' uses'} too: {named}",
                                 hint=f"bump it in {hr.source_file} for all of them, or use --image-tag")
            if not edit(hr.source_file, ["spec", "ref", "tag"], str(version),
                        ("OCIRepository", hr.chart_ref.rpartition("/")[2])):
                raise UsageError(f"{hr.source_file}: {hr.chart_ref} has no spec.ref.tag to bump",
                                 hint="edit it by hand")
    tag = ctx.params.get("image_tag")
    if tag:
        container, _, value = str(tag).rpartition("=")
        targets = [c for c in app.images if not container or c.name == container] or []
        if not app.images:
            raise UsageError(f"{app.name}'s values name no image mediaops can read (app-template's controllers "
                             "or top-level image, a chart's image)", hint="edit the tag by hand")
        if not targets:
            raise UsageError(f"{app.name} has no container {container!r}",
                             hint=f"containers: {', '.join(c.name for c in app.images)}")
        target = targets[0]
        # The values files, then the HelmReleases' own files, whatever they are called (helmrelease.yaml,
        # helm-release.yaml in tyriis/home-ops, release.yaml …): the release's spec.values there.
        releases = {hr.file: hr.name for hr in app.helmreleases}
        spec_values: list[str | int] = ["spec", "values"]
        candidates: list[tuple[str, list[str | int], tuple[str, str] | None]] = [
            (f, [], None) for f in app.files if f.endswith(("values.yaml", "values.yml")) and f not in releases]
        candidates += [(f, spec_values, ("HelmRelease", name)) for f, name in releases.items()]
        # bjw-s app-template's place for it, else the top-level image.tag of any other chart (apptemplate.py reads
        # the image from the same two places)
        places: list[list[str | int]] = [["controllers", target.controller, "containers", target.name, "image", "tag"],
                                         ["image", "tag"]]
        if not any(edit(f, [*prefix, *where], value, document)
                   for where in places for f, prefix, document in candidates):
            raise UsageError(f"could not find the image tag of {target.controller}/{target.name} in {app.name}'s "
                             "values", hint="edit it by hand")
    return Changes(repo.root, tuple(FileChange(rel, before, after) for rel, (before, after) in files.items()),
                   summary="bumped " + ", ".join(filter(None, [f"chart {version}" if version else "",
                                                               f"image {tag}" if tag else ""])))


@runbook.step(
    "Bump the version in the repository",
    why="The upgrade is a change in git like any other: reviewed as a diff, committed, pushed.",
    command=Live(lambda ctx: f"# {_bump(ctx).summary} in {', '.join(_bump(ctx).paths)} (the diff below)",
                 doc="# set the chart version or the image tag of {app} in its files (the diff below)"),
    edit=True,
)
def bump(ctx: Context) -> Changes:
    changes = _bump(ctx)
    ctx.facts["paths"] = changes.paths
    return changes


@bump.skip_when
def no_version(ctx: Context) -> str | None:
    if ctx.params.get("chart_version") or ctx.params.get("image_tag"):
        return None
    return "no --chart-version or --image-tag given: only the backup was asked for"


def _commit_message(ctx: Context) -> str:
    what = ", ".join(filter(None, [f"chart {ctx.params.get('chart_version')}" if ctx.params.get("chart_version")
                                   else "", f"image {ctx.params.get('image_tag')}" if ctx.params.get("image_tag")
                                   else ""]))
    return f"feat({ctx.facts['ns']}): upgrade {ctx.facts['app']} ({what})"


commit = runbook.add(gitsteps.commit_step(
    "Commit the upgrade", why="Flux deploys what is committed.", message=_commit_message,
    paths=lambda ctx: list(ctx.facts.get("paths") or _bump(ctx).paths), after=(bump,),
    doc_message="feat({ns}): upgrade {app} (chart VERSION, image TAG)"))
push = runbook.add(gitsteps.push_step(why="Flux follows the remote branch.", after=(commit,),
                                      undo_doc="push a commit that reverts the upgrade"))


def _reconciles(ctx: Context) -> list[flux.Reconcile]:
    app = _app(ctx)
    return ([flux.Reconcile(o, with_source=True) for o in clustersteps.kustomizations(ctx, app)]
            + [flux.Reconcile(o) for o in clustersteps.helmreleases(ctx, app)])


class _Deploys(flux.Reconcile, frozen=True):
    """The first reconcile: from here the new version may reach the cluster (what the backup's undo asks)."""

    def run(self, ctx: Context) -> str:
        ctx.facts["deployed"] = True
        return super().run(ctx)


def _first_deploys(ctx: Context) -> list[flux.Reconcile]:
    ops = _reconciles(ctx)
    return [_Deploys(ops[0].obj, with_source=ops[0].with_source), *ops[1:]] if ops else []


def _hold_offs(ctx: Context) -> list[flux.Suspend]:
    app = _app(ctx)
    return [flux.Suspend(o, ctx.run_id, "undoing an upgrade")
            for o in clustersteps.kustomizations(ctx, app) + clustersteps.helmreleases(ctx, app)]


reconcile = runbook.add(Step(
    "Reconcile the app with source",
    why="Flux fetches the commit and applies it now, then the HelmRelease upgrades.",
    ops=Ops(_first_deploys, doc="flux reconcile kustomization KUSTOMIZATION -n {ns} --with-source\n"
                                "flux reconcile helmrelease HELMRELEASE -n {ns}"),
    disrupts=True, needs_cluster=True, after=(push,),
    when=lambda ctx: "--no-push: left for Flux's next interval once pushed" if ctx.params.get("no_push")
    else _already_running(ctx)))


@reconcile.undoer("hold Flux off the app (suspend its Kustomizations and HelmReleases) until its data is restored",
                  command=Live(lambda ctx: render_ops(_hold_offs(ctx)),
                               doc="flux suspend kustomization KUSTOMIZATION -n {ns}\n"
                                   "flux suspend helmrelease HELMRELEASE -n {ns}"))
def hold_off(ctx: Context) -> None:
    # Undone before the commit is reverted: nothing may run the old version on the new version's data
    # until the restore (the backup step's undo) has put the data back.
    for op in _hold_offs(ctx):
        op.run(ctx)


@runbook.step(
    "Wait until the HelmRelease is Ready on the new version",
    why="Ready on the version asked for, with its workloads rolled out.",
    command=clustersteps.wait_command("HelmRelease", lambda ctx: [(h.name, h.namespace)
                                                                  for h in _app(ctx).helmreleases], timeout="10m"),
    mutates=False,
    needs_cluster=True,
    after=(reconcile,),
)
def wait_upgraded(ctx: Context) -> str:
    app, kube = _app(ctx), clustersteps.kube(ctx)
    wanted = ctx.params.get("chart_version")
    for hr in app.helmreleases:
        with ctx.waiting(f"HelmRelease {hr.namespace}/{hr.name} Ready") as waiting:
            obj = waits.until(kube, "HelmRelease", hr.name, hr.namespace, flux.ready(), timeout=clustersteps.TIMEOUT,
                            waiting=waiting)
        running = flux.FluxStatus.of(obj).revision
        if wanted and running != wanted:
            raise CheckFailed(f"HelmRelease {hr.name} is Ready on {running}, not {wanted}")
    clustersteps.wait_pods(ctx, app)
    ctx.facts["upgraded"] = True
    return f"{app.name} Ready" + (f" on chart {wanted}" if wanted else "")


@wait_upgraded.skip_when
def not_pushed(ctx: Context) -> str | None:
    return "--no-push: nothing reaches the cluster until the commit is pushed" if ctx.params.get("no_push") else None


def _way_back(ctx: Context) -> list[str]:
    if ctx.facts.get("deployed") and not ctx.facts.get("upgraded") and not ctx.facts.get("restored"):
        return ["the upgrade did not finish; to go back, revert the commit, then restore the app from the backup, "
                "in this order: " + " ; ".join(op.render() for op in _restores(ctx))]
    return []


runbook.epilogue = _way_back
