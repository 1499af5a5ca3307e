"""Activate or deactivate an app of the media stack.

An app is active when its Flux Kustomization file is named ``ks.yaml`` **and** the namespace
``kustomization.yaml`` lists it; renaming ``ks.dis`` alone does nothing, because Flux's ``cluster-apps``
only creates the app's Kustomization from what that list names.
"""

from __future__ import annotations

from mediaops import clustersteps, gitops, gitsteps, velero
from mediaops.engine import CheckFailed, Param, Runbook
from mediaops.engine.context import Context

PARAMS = [
    Param("app", "the app folder name under kubernetes/apps/<namespace>/", complete="app", kind="name"),
    Param("namespace", "the app's namespace, when its name is not unique", required=False, kind="name"),
    Param("no_push", "commit but do not push", required=False, flag=True),
]


def _app(ctx: Context) -> gitops.App:
    return ctx.repo.app(ctx.params["app"], ctx.params.get("namespace"))


def _paths(ctx: Context) -> list[str]:
    return list(ctx.facts["paths"])


def _learn(ctx: Context, app: gitops.App) -> None:
    ctx.facts.update(
        app=app.name,
        ns=app.namespace,
        dir=app.directory,
        ns_file=ctx.repo.rel(ctx.repo.namespace_kustomization(app.namespace)),
        ks=", ".join(k.name for k in app.kustomizations),
        paths=[f"{app.directory}/ks.dis", f"{app.directory}/ks.yaml",
               ctx.repo.rel(ctx.repo.namespace_kustomization(app.namespace))],
    )


def _files_clean(ctx: Context) -> str:
    changed = gitsteps.foreign_changes(ctx, _paths(ctx))
    if changed:
        raise CheckFailed(f"uncommitted changes in {', '.join(changed)}; commit or stash them first")
    staged = sorted(set(ctx.git.staged()) - set(_paths(ctx)))
    if staged:
        raise CheckFailed(f"unrelated changes are staged ({', '.join(staged[:3])}); commit or unstage them first")
    return "clean"


def _variables_defined(ctx: Context) -> str:
    app = _app(ctx)
    findings = gitops.variable_findings(ctx.repo, app)
    errors = [f.what for f in findings if f.level == "error"]
    if errors:
        raise CheckFailed("; ".join(errors))
    for finding in findings:
        ctx.warn(finding.what)
    return f"{len(app.variables)} variable(s) substituted" if app.variables else "uses no variables"


def _dependencies_known(ctx: Context) -> str:
    app = _app(ctx)
    known = {k.ref for k in ctx.repo.flux_kustomizations()}
    missing = [str(d) for k in app.kustomizations for d in k.depends_on if d not in known]
    if missing:
        raise CheckFailed(f"dependsOn names Kustomizations that exist nowhere in the repository: {', '.join(missing)}")
    deps = [str(d) for k in app.kustomizations for d in k.depends_on]
    return ", ".join(deps) if deps else "no dependencies"


# -- activate --------------------------------------------------------------------------------------------
activate = Runbook(
    name="activate",
    summary="Activate a disabled app: ks.dis to ks.yaml, list it, commit and push",
    params=PARAMS,
    lock=lambda p: f"mediaops-activate-{p['app']}",
)


@activate.check("The app exists and is disabled (or already active)")
def app_is_disabled(ctx: Context) -> str:
    app = _app(ctx)
    if app.state in (gitops.INCONSISTENT, gitops.UNREADABLE):
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}: {'; '.join(app.reasons)}")
    if app.state == gitops.ARCHIVED:
        raise CheckFailed(f"{app.name} is archived under {app.directory}; move it back to kubernetes/apps first")
    _learn(ctx, app)
    return f"{app.namespace}/{app.name} is {app.state}"


activate.check("Its files have no uncommitted changes and nothing unrelated is staged")(_files_clean)
activate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)
activate.check("Every ${VAR} it uses is defined by a substitution source")(_variables_defined)
activate.check("The Kustomizations it dependsOn exist in the repository")(_dependencies_known)


@activate.check("What it dependsOn (Kustomizations, HelmReleases) is Ready in the cluster", needs_cluster=True)
def dependencies_ready(ctx: Context) -> str:
    return clustersteps.dependencies_ready(ctx, _app(ctx))


@activate.check("Every Secret it references exists, or an ExternalSecret of the app makes it from a Ready store",
                needs_cluster=True)
def secrets_available(ctx: Context) -> str:
    return clustersteps.secrets_available(ctx, _app(ctx))


@activate.check("Its nodeSelector matches at least one node", needs_cluster=True)
def node_matches(ctx: Context) -> str:
    return clustersteps.node_matches(ctx, _app(ctx))


@activate.step(
    "Rename ks.dis to ks.yaml and list it in the namespace kustomization",
    why="Flux's cluster-apps only creates the app's Kustomization once the namespace list names ks.yaml.",
    command="git mv {dir}/ks.dis {dir}/ks.yaml\n# and add ./{app}/ks.yaml under resources: in {ns_file}",
    edit=True,
)
def enable_in_repository(ctx: Context) -> object:
    return gitops.activation(ctx.repo, _app(ctx))


RECONCILE_APPS = "flux reconcile kustomization cluster-apps -n flux-system --with-source"
commit_activation = gitsteps.commit_step(
    activate, "Commit the activation", why="Flux deploys what is committed, not what is in this checkout.",
    message=lambda ctx: f"feat({ctx.facts['ns']}): activate {ctx.facts['app']}", paths=_paths,
    after=(enable_in_repository,), doc_message="feat({ns}): activate {app}")
push_activation = gitsteps.push_step(
    activate, why="The flux-system GitRepository follows the remote branch. Never forced.", after=(commit_activation,),
    undo_doc="push a commit that reverts the activation, then let Flux prune the app",
    undo=lambda ctx: _reconcile_revert(ctx), then=RECONCILE_APPS)


def _reconcile_revert(ctx: Context) -> None:
    if ctx.has_service("cluster") and ctx.facts.get("reverted"):
        clustersteps.reconcile_source(ctx)
        clustersteps.reconcile_cluster_apps(ctx)


@activate.step(
    "Reconcile the flux-system GitRepository",
    why="Flux fetches the pushed commit now instead of at its next interval.",
    command="flux reconcile source git flux-system -n flux-system",
    needs_cluster=True,
    after=(push_activation,),
    nothing_to_undo="undoing the push brings the cluster back",
)
def fetch_activation(ctx: Context) -> str:
    return clustersteps.reconcile_source(ctx)


@activate.step(
    "Reconcile cluster-apps",
    why="cluster-apps creates the app's Kustomization from what the namespace kustomization.yaml lists.",
    command="flux reconcile kustomization cluster-apps -n flux-system",
    needs_cluster=True,
    after=(fetch_activation,),
    nothing_to_undo="undoing the push brings the cluster back",
)
def apply_activation(ctx: Context) -> str:
    return clustersteps.reconcile_cluster_apps(ctx)


@activate.step(
    "Wait until the app's Kustomization exists and is Ready",
    why="Ready means its dependencies were Ready and everything it applies passed Flux's health checks.",
    command=clustersteps.wait_command("Kustomization", lambda ctx: [(k.name, k.namespace)
                                                                    for k in _app(ctx).kustomizations]),
    mutates=False,
    needs_cluster=True,
    after=(apply_activation,),
)
def wait_kustomization(ctx: Context) -> str:
    return clustersteps.wait_kustomizations(ctx, _app(ctx))


@activate.step(
    "Wait until its HelmRelease is Ready",
    why="The chart is installed and its workloads came up (Helm's --wait).",
    command=clustersteps.wait_command("HelmRelease", lambda ctx: [(h.name, h.namespace)
                                                                  for h in _app(ctx).helmreleases]),
    mutates=False,
    needs_cluster=True,
    after=(wait_kustomization,),
)
def wait_release(ctx: Context) -> str:
    return clustersteps.wait_helmreleases(ctx, _app(ctx))


@activate.step(
    "Wait until its pods are ready",
    why="What users reach: every Deployment and StatefulSet of the app rolled out.",
    command=clustersteps.rollout_status_command(_app),
    mutates=False,
    needs_cluster=True,
    after=(wait_release,),
)
def wait_pods(ctx: Context) -> str:
    return clustersteps.wait_pods(ctx, _app(ctx))


def _not_pushed(ctx: Context) -> str | None:
    return "--no-push: the cluster follows once the commit is pushed" if ctx.params.get("no_push") else None


for _step in (fetch_activation, apply_activation):
    _step.skip_when(lambda ctx: _not_pushed(ctx) or clustersteps.app_in_place(ctx, _app(ctx)))

for _step in (wait_kustomization, wait_release, wait_pods):
    _step.skip_when(_not_pushed)

check_scrape = activate.manual(
    "Check that Prometheus scrapes it",
    why="The app ships a ServiceMonitor; a target that is down or missing means no metrics and no alerts.",
    instructions="In Prometheus (Status > Targets) the target serviceMonitor/{ns}/{app}/0 must be UP. "
                 "From a terminal: kubectl -n observability port-forward svc/prometheus-operated 9090 and "
                 'query up{{namespace="{ns}", service="{app}"}} (1 means scraped).',
    blocking=False,
)


@check_scrape.skip_when
def no_service_monitor(ctx: Context) -> str | None:
    return None if _app(ctx).service_monitors else "the app has no ServiceMonitor"


# -- deactivate ------------------------------------------------------------------------------------------
deactivate = Runbook(
    name="deactivate",
    summary="Deactivate an app: ks.yaml back to ks.dis, unlist it, commit and push",
    params=PARAMS,
    lock=lambda p: f"mediaops-activate-{p['app']}",
)


@deactivate.check("The app exists and is active (or already disabled)")
def app_is_active(ctx: Context) -> str:
    app = _app(ctx)
    if app.state in (gitops.INCONSISTENT, gitops.ARCHIVED, gitops.UNREADABLE):
        raise CheckFailed(f"{app.namespace}/{app.name} is {app.state}: {'; '.join(app.reasons) or app.directory}")
    _learn(ctx, app)
    volumes = [f"{v.name} ({v.size or 'size unknown'})" for v in app.volumes]
    ctx.facts["volumes"] = ", ".join(volumes)
    ctx.facts["claims"] = [v.name for v in app.volumes]
    from datetime import UTC, datetime

    ctx.facts.setdefault("backup", f"pre-deactivate-{app.name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}")
    if volumes and app.state == gitops.ACTIVE:
        ctx.warn(f"deactivating {app.name} deletes its PersistentVolumeClaims: {', '.join(volumes)}")
    return f"{app.namespace}/{app.name} is {app.state}"


deactivate.check("Its files have no uncommitted changes and nothing unrelated is staged")(_files_clean)
deactivate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)
activate.check("The repository can take a commit and push it")(gitsteps.can_commit_and_push)


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
    if kube.find("Backup", name, velero.NAMESPACE) is None:
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
    present = clustersteps.app_in_place(ctx, _app(ctx), present=False)
    return present


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
    return gitops.deactivation(ctx.repo, _app(ctx))


commit_deactivation = gitsteps.commit_step(
    deactivate, "Commit the deactivation", why="Flux deploys what is committed.",
    message=lambda ctx: f"chore({ctx.facts['ns']}): deactivate {ctx.facts['app']}", paths=_paths,
    after=(disable_in_repository,), doc_message="chore({ns}): deactivate {app}")
push_deactivation = gitsteps.push_step(
    deactivate, why="Once pushed, Flux prunes the app from the cluster.", after=(commit_deactivation,),
    undo_doc="push a commit that reverts the deactivation, then let Flux bring the app back",
    undo=lambda ctx: _reconcile_revert(ctx), then=RECONCILE_APPS)


@deactivate.step(
    "Reconcile the flux-system GitRepository",
    why="Flux fetches the pushed commit now instead of at its next interval.",
    command="flux reconcile source git flux-system -n flux-system",
    needs_cluster=True,
    after=(push_deactivation,),
    nothing_to_undo="undoing the push brings the cluster back",
)
def fetch_deactivation(ctx: Context) -> str:
    return clustersteps.reconcile_source(ctx)


@deactivate.step(
    "Reconcile cluster-apps",
    why="cluster-apps no longer lists the app, so Flux prunes its Kustomization and everything it applied.",
    command="flux reconcile kustomization cluster-apps -n flux-system",
    needs_cluster=True,
    after=(fetch_deactivation,),
    nothing_to_undo="undoing the push brings the cluster back",
)
def prune_app(ctx: Context) -> str:
    return clustersteps.reconcile_cluster_apps(ctx)


@deactivate.step(
    "Wait until the app's Kustomization is gone",
    why="Gone means Flux pruned it, and with it the app's objects.",
    command=clustersteps.wait_command("Kustomization", lambda ctx: [(k.name, k.namespace)
                                                                    for k in _app(ctx).kustomizations],
                                      condition="delete"),
    mutates=False,
    needs_cluster=True,
    after=(prune_app,),
)
def wait_pruned(ctx: Context) -> str:
    return clustersteps.wait_gone(ctx, _app(ctx))


for _step in (fetch_deactivation, prune_app):
    _step.skip_when(lambda ctx: _not_pushed(ctx) or clustersteps.app_in_place(ctx, _app(ctx), present=False))
wait_pruned.skip_when(_not_pushed)
