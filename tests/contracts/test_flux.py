"""Flux's contracts as the upstream sources state them, exercised against the rehearsal.

Each test fails if mediaops's wrapper goes back to a rule Flux does not follow.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from mediaops.cluster import flux, waits
from mediaops.cluster.kinds import kind
from mediaops.cluster.waits import WaitFailed
from mediaops.sim import flux as flux_sim
from tests.conftest import Cluster

SOURCE = ("GitRepository", "flux-system", "flux-system")


def test_a_reconcile_is_handled_when_a_webhook_receiver_asks_in_between(cluster: Cluster) -> None:
    """fluxcd/flux2 cmd/flux/reconcile.go reconciliationHandled: handled = lastHandledReconcileAt moved
    past its value at the request, not equal to our own stamp (a Receiver may write a newer one first)."""
    cluster.sim.set_fault("receiver", "1")  # every request is answered by the Receiver's own first
    before = cluster.kube.get(*SOURCE[:2], SOURCE[2])["status"].get("lastHandledReconcileAt")
    started = time.monotonic()
    state = flux.reconcile(cluster.kube, *SOURCE, timeout=20)
    assert state.ready == "True" and time.monotonic() - started < 10
    after = cluster.kube.get(*SOURCE[:2], SOURCE[2])
    handled = after["status"]["lastHandledReconcileAt"]
    assert handled != before
    assert handled == after["metadata"]["annotations"][flux.REQUESTED_AT]  # the Receiver's, not ours


def _set_conditions(cluster: Cluster, name: str, conditions: list[dict[str, str]]) -> None:
    def change(obj: dict) -> None:
        obj.setdefault("status", {})["conditions"] = conditions
        obj["status"]["observedGeneration"] = obj["metadata"].get("generation", 1)

    cluster.sim.manager.stop()  # nothing rewrites the status under the test
    cluster.sim.store.update(kind("Kustomization"), "media", name, change, subresource="status")


def test_stalled_is_failed_at_once(cluster: Cluster) -> None:
    """kstatus (fluxcd/cli-utils pkg/kstatus/status): Stalled=True is Failed whatever Ready says."""
    _set_conditions(cluster, "tautulli", [
        {"type": "Ready", "status": "Unknown", "reason": "Progressing", "message": "retrying"},
        {"type": "Stalled", "status": "True", "reason": "InvalidPath", "message": "path not found"}])
    started = time.monotonic()
    with pytest.raises(WaitFailed, match="Stalled InvalidPath: path not found"):
        waits.until(cluster.kube, "Kustomization", "tautulli", "media", flux.ready(), timeout=10)
    assert time.monotonic() - started < 5


def test_reconciling_is_in_progress_not_failed(cluster: Cluster) -> None:
    """kstatus: Reconciling=True is InProgress, even with Ready=False from the previous attempt."""
    _set_conditions(cluster, "tautulli", [
        {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "previous attempt"},
        {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "building"}])
    obj = cluster.kube.get("Kustomization", "tautulli", "media")
    assert flux.kstatus(obj) == ("InProgress", "Reconciling Progressing: building")
    with pytest.raises(WaitFailed, match="timed out"):
        waits.until(cluster.kube, "Kustomization", "tautulli", "media", flux.ready(), timeout=0.5)


def test_a_generation_not_yet_observed_is_in_progress(cluster: Cluster) -> None:
    """kstatus: observedGeneration behind generation is InProgress: a Ready=True from before is not success."""
    cluster.sim.manager.stop()
    cluster.kube.patch("Kustomization", "tautulli", {"spec": {"interval": "2h"}}, "media")
    obj = cluster.kube.get("Kustomization", "tautulli", "media")
    assert obj["status"]["conditions"][0]["status"] == "True"
    assert flux.kstatus(obj)[0] == "InProgress"


def test_ocirepository_is_spoken_at_the_version_the_cluster_serves(cluster: Cluster,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """source-controller v1.8 serves OCIRepository at v1 only; older ones at v1beta2 only: the client asks."""
    from mediaops.cluster import kinds
    from mediaops.cluster.client import Kube

    assert kind("OCIRepository").version == "v1"
    assert cluster.kube.version(kind("OCIRepository")) == "v1"
    old = kinds.Resource("source.toolkit.fluxcd.io", "v1beta2", "OCIRepository", "ocirepositories",
                         subresources=("status",))
    served = [r for r in kinds.RESOURCES if r.kind != "OCIRepository"] + [old]
    monkeypatch.setattr(kinds, "RESOURCES", served)  # the rehearsal now serves what Flux 2.5 served
    monkeypatch.setitem(kinds.BY_PLURAL, ("source.toolkit.fluxcd.io", "ocirepositories"), old)
    import mediaops.sim.server as server

    monkeypatch.setattr(server, "RESOURCES", served)
    monkeypatch.setattr(server, "BY_PLURAL", kinds.BY_PLURAL)
    older = Kube(str(cluster.kubeconfig), backoff=0.01)
    assert older.version(kind("OCIRepository")) == "v1beta2"
    assert older.list("OCIRepository", "flux-system")[0] is not None


def test_with_source_reconciles_the_helmchart_of_a_chart_spec_release(cluster: Cluster) -> None:
    """fluxcd/flux2 cmd/flux/reconcile_helmrelease.go getSource: the HelmChart <namespace>-<name> in the
    HelmRepository's namespace, not the HelmRepository (an OCI HelmRepository never reconciles)."""
    release = cluster.kube.get("HelmRelease", "calibre-web", "media")
    assert flux.source_of(release) == ("HelmChart", "media-calibre-web", "flux-system")
    chart = cluster.kube.get("HelmChart", "media-calibre-web", "flux-system")
    assert chart["spec"]["version"] == release["spec"]["chart"]["spec"]["version"]
    before = (chart.get("status") or {}).get("lastHandledReconcileAt")
    state = flux.reconcile(cluster.kube, "HelmRelease", "calibre-web", "media", with_source=True, timeout=30)
    assert state.ready == "True"
    handled = cluster.kube.get("HelmChart", "media-calibre-web", "flux-system")["status"]["lastHandledReconcileAt"]
    assert handled and handled != before


def test_health_waits_take_the_objects_own_timeouts() -> None:
    """kustomize-controller api/v1 GetTimeout and helm-controller api/v2 GetTimeout, in seconds."""
    import dataclasses

    from mediaops.sim.cluster import STEADY
    from mediaops.sim.flux import _go_duration, kustomization_timeout, release_timeout
    from mediaops.sim.manager import Timing

    assert kustomization_timeout({"interval": "1h"}) == 3570  # the interval less 30 s
    assert kustomization_timeout({"interval": "10m", "timeout": "5m"}) == 300
    assert kustomization_timeout({"interval": "30s"}) == 30  # never below 30 s
    assert [_go_duration(s) for s in (3570, 300, 30, 3600)] == ["59m30s", "5m0s", "30s", "1h0m0s"]
    assert release_timeout({}, "upgrade") == 300
    assert release_timeout({"timeout": "10m", "upgrade": {"timeout": "2m"}}, "upgrade") == 120
    assert release_timeout({"timeout": "10m", "upgrade": {"timeout": "2m"}}, "install") == 600
    fast, normal = Timing.fast(), Timing()
    assert fast.health_wait(3570) == fast.health_timeout and fast.health_wait(36000) == pytest.approx(60)
    assert normal.health_wait(3570) == pytest.approx(59.5) and normal.health_wait(300) == normal.health_timeout
    settling = dataclasses.replace(normal, **STEADY)  # while a rehearsal settles, a failing check fails fast
    assert settling.health_wait(3570) == settling.health_wait(1800) == STEADY["health_timeout"]


def test_a_health_checks_clock_stops_while_the_rehearsal_is_behind() -> None:
    """The timeouts are scaled down to seconds; on a cluster their minutes cover the time the controllers take to
    get to an app. A wait counts only the time the other controllers were up to date: nothing queued, no timer due
    (79 releases installed at once on two cores failed four with "context deadline exceeded" whose pods were
    waiting on a secret store another Kustomization had not been applied yet). The waiting controller's own queue
    does not stop it (its polls keep it full), and ten times the wait on the clock ends it whatever happens."""
    import heapq
    import types

    from mediaops.sim.manager import Manager, Waited, _Timer
    from mediaops.sim.store import Store

    manager = Manager(Store())
    for name in ("pods", "helm-controller"):
        manager.add(types.SimpleNamespace(name=name))  # type: ignore[arg-type]  # no worker: what is queued stays
    waited = Waited()
    waited.last -= 5  # five seconds ago
    manager.enqueue("pods", ("media", "tautulli-0"))
    assert manager.behind() and manager.behind(besides="helm-controller") and not manager.behind(besides="pods")
    assert waited.check(manager, besides="helm-controller") == 0.0  # behind: the five seconds do not count
    manager.queues["pods"].clear()
    manager.enqueue("helm-controller", ("media", "tautulli"))  # the waiter's own polls
    heapq.heappush(manager.timers, _Timer(waited.last + 60, 1, "pods", ("media", "tautulli-0")))  # to come
    assert not manager.behind(besides="helm-controller")
    waited.last -= 5
    assert waited.check(manager, besides="helm-controller") == pytest.approx(5, abs=1)
    heapq.heappush(manager.timers, _Timer(waited.last - 1, 2, "pods", ("media", "tautulli-0")))  # due already
    assert manager.behind(besides="helm-controller")
    waited.last -= 5
    assert waited.check(manager, besides="helm-controller") == pytest.approx(5, abs=1)
    stuck = Waited()  # always behind: only the clock ends it
    stuck.started -= 25
    assert not stuck.expired(manager, 3.0, besides="helm-controller")
    stuck.started -= 10
    assert stuck.expired(manager, 3.0, besides="helm-controller") and stuck.seconds < 3.0


def test_a_release_waiting_on_its_workloads_names_its_actions_timeout(cluster: Cluster) -> None:
    """helm-controller says which timeout an action runs with (atomic_release.go): the upgrade's own."""
    flux.suspend(cluster.kube, "Kustomization", "tautulli", "media")  # the release as patched here, not as in git
    cluster.sim.set_fault("crashloop", "media/tautulli")

    def down(obj: dict[str, Any] | None) -> waits.Verdict:  # the upgrade must find its pods not Ready
        return waits.Verdict(done=not ((obj or {}).get("status") or {}).get("readyReplicas"))

    waits.until(cluster.kube, "Deployment", "tautulli", "media", down, timeout=20)
    cluster.kube.patch("HelmRelease", "tautulli", {"spec": {"upgrade": {"timeout": "2m"},
                                                            "values": {"podAnnotations": {"rev": "2"}}}}, "media")

    def running(obj: dict[str, Any] | None) -> waits.Verdict:
        ready = [c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
        message = ready[0].get("message", "") if ready else ""
        return waits.Verdict(done="Running 'upgrade' action with timeout of 2m0s" in message, status=message)

    waits.until(cluster.kube, "HelmRelease", "tautulli", "media", running, timeout=20)


def test_values_from_a_target_path_land_where_it_says(cluster: Cluster) -> None:
    """fluxcd/pkg chartutil/values.go ChartValuesFromReferences: a valuesFrom entry with targetPath puts the key's
    value at that path as `helm --set` does (tscibilia/home-ops sets an OAuth client id so; the rehearsal's
    helm-controller failed on it)."""
    import base64

    flux.suspend(cluster.kube, "Kustomization", "tautulli", "media")  # the release as patched here
    cluster.kube.create("Secret", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tautulli-tag"},
                                   "data": {"tag": base64.b64encode(b"2.99.0").decode()}}, "media")
    refs = cluster.kube.get("HelmRelease", "tautulli", "media")["spec"]["valuesFrom"]
    target = {"kind": "Secret", "name": "tautulli-tag", "valuesKey": "tag",
              "targetPath": "controllers.tautulli.containers.main.image.tag"}
    cluster.kube.patch("HelmRelease", "tautulli", {"spec": {"valuesFrom": [*refs, target]}}, "media")

    def tagged(obj: dict[str, Any] | None) -> waits.Verdict:
        containers = (((obj or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
        images = [c.get("image", "") for c in containers]
        return waits.Verdict(done=any(i.endswith(":2.99.0") for i in images), status=", ".join(images))

    waits.until(cluster.kube, "Deployment", "tautulli", "media", tagged, timeout=20)
    assert cluster.sim.manager.errors == []


def test_a_target_path_is_read_as_helms_set_reads_it() -> None:
    """Helm pkg/strvals (parser.go typedVal, list indices, escaped dots), as chartutil.ReplacePathValue calls it."""
    from mediaops.sim.flux import set_path

    values: dict[str, Any] = {"a": {"kept": 1}}
    for path, value in (("a.b", "true"), ("a.n", "42"), ("a.zero", "007"), ("a.quoted", '"42"'), ("a.none", "null"),
                        ("a.negative", "-5"), ("a.dashes", "--5"), ("a.huge", "9" * 20),
                        ("list[1].k", "v"), (r"file\.yml.content", "x")):
        set_path(values, path, value)
    set_path(values, "raw", "a,b=c", literal=True)
    assert values == {"a": {"kept": 1, "b": True, "n": 42, "zero": "007", "quoted": "42", "none": None,
                            "negative": -5, "dashes": "--5", "huge": "9" * 20},
                      "list": [None, {"k": "v"}], "file.yml": {"content": "x"}, "raw": "a,b=c"}
    with pytest.raises(ValueError, match="a list index is a number"):
        set_path(values, "list[x]", "v")


def test_the_mutating_webhook_adds_the_cluster_config_to_every_kustomization_it_admits() -> None:
    """xunholy's kustomize-mutating-webhook (main.go handleMutate), as the rehearsal runs it for a repository that
    installs it: postBuild and substitute added where missing, every key of its ConfigMaps and Secrets added, a key
    the Kustomization has replaced (a JSON patch add), on create and on update; other kinds pass untouched."""
    import base64
    import functools

    from mediaops.sim.cluster import substitute_cluster_config
    from mediaops.sim.store import Store

    store = Store()
    store.create(kind("Namespace"), {"metadata": {"name": "flux-system"}})
    store.create(kind("ConfigMap"), {"metadata": {"name": "cluster-config", "namespace": "flux-system"},
                                     "data": {"SECRET_DOMAIN": "example.invalid", "TIMEZONE": "UTC"}})
    store.create(kind("Secret"), {"metadata": {"name": "cluster-secrets", "namespace": "flux-system"},
                                  "data": {"TOKEN": base64.b64encode(b"s3cret").decode()}})
    store.mutators.append(functools.partial(substitute_cluster_config, store, ["cluster-config", "cluster-secrets"]))
    ks, cm = kind("Kustomization"), kind("ConfigMap")
    bare = store.create(ks, {"metadata": {"name": "bare", "namespace": "flux-system"}, "spec": {"path": "./a"}})
    assert bare["spec"]["postBuild"] == {"substitute": {"SECRET_DOMAIN": "example.invalid", "TIMEZONE": "UTC",
                                                        "TOKEN": "s3cret"}}
    own = store.create(ks, {"metadata": {"name": "own", "namespace": "flux-system"}, "spec": {
        "path": "./b", "postBuild": {"substitute": {"APP": "own", "TIMEZONE": "Europe/Amsterdam"},
                                     "substituteFrom": [{"kind": "ConfigMap", "name": "extra"}]}}})
    assert own["spec"]["postBuild"]["substitute"] == {"APP": "own", "TIMEZONE": "UTC", "SECRET_DOMAIN":
                                                      "example.invalid", "TOKEN": "s3cret"}
    assert own["spec"]["postBuild"]["substituteFrom"] == [{"kind": "ConfigMap", "name": "extra"}]
    updated = store.update(ks, "flux-system", "bare", lambda o: o["spec"].pop("postBuild"))
    assert updated["spec"]["postBuild"]["substitute"]["TOKEN"] == "s3cret"
    other = store.create(cm, {"metadata": {"name": "plain", "namespace": "flux-system"}, "data": {"a": "b"}})
    assert "spec" not in other



def test_a_health_check_polls_what_it_applied_without_applying_it_again(cluster: Cluster) -> None:
    """kustomize-controller applies once per reconcile, then polls the applied objects' health until they are ready
    or its timeout (kustomization_controller.go checkHealth, fluxcd/pkg ssa ResourceManager.WaitForSet): an applied
    object changed while the check runs stays changed until the next reconcile applies again."""
    sim = cluster.sim
    sim.manager.stop()  # the controllers reconcile here, one call at a time
    controller = sim.manager.controllers["kustomize-controller"]
    release, ks = kind("HelmRelease"), kind("Kustomization")

    def ready(state: str) -> Any:
        def change(obj: dict[str, Any]) -> None:
            for condition in obj["status"]["conditions"]:
                if condition["type"] == "Ready":
                    condition["status"] = state
        return change

    def request(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})[flux.REQUESTED_AT] = flux.now_nano()

    def interval(obj: dict[str, Any]) -> None:
        obj["spec"]["interval"] = "7m"

    in_git = sim.store.get(release, "media", "tautulli")["spec"]["interval"]
    sim.store.update(release, "media", "tautulli", ready("Unknown"), subresource="status")
    sim.store.update(ks, "media", "tautulli", request)
    assert controller.reconcile("media", "tautulli") == sim.timing.poll  # applied; the release is not ready
    messages = [c["message"] for c in sim.store.get(ks, "media", "tautulli")["status"]["conditions"]]
    assert any(m.startswith("Running health checks") and "HelmRelease/media/tautulli" in m for m in messages)
    sim.store.update(release, "media", "tautulli", interval)  # changed while the check runs
    assert controller.reconcile("media", "tautulli") == sim.timing.poll  # polled, not applied again
    assert sim.store.get(release, "media", "tautulli")["spec"]["interval"] == "7m"
    sim.store.update(release, "media", "tautulli", ready("True"), subresource="status")
    sim.store.update(release, "media", "tautulli", lambda o: o["status"].update(
        observedGeneration=o["metadata"]["generation"]), subresource="status")
    assert controller.reconcile("media", "tautulli") != sim.timing.poll  # healthy: the reconcile ends
    assert sim.store.get(release, "media", "tautulli")["spec"]["interval"] == "7m"
    assert flux.kstatus(sim.store.get(ks, "media", "tautulli"))[0] == "Current"
    sim.store.update(ks, "media", "tautulli", request)  # the next reconcile applies what git says
    controller.reconcile("media", "tautulli")
    assert sim.store.get(release, "media", "tautulli")["spec"]["interval"] == in_git != "7m"
    # the polls read cluster-wide objects too (onedr0p/home-ops's flux-operator waits on a ClusterRoleBinding)
    binding = sim.store.create(kind("ClusterRoleBinding"), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "flux-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": []})
    assert flux_sim.object_ready(sim, flux_sim.reference(binding)) == (True, "")


def test_a_reconcile_that_stops_early_ends_the_health_check_and_the_next_waits_afresh(cluster: Cluster) -> None:
    """kustomization_controller.go: every reconcile that gets as far applies, then checks health with the whole
    timeout (a new ResourceManager.WaitForSet each time): one that stops before (an injected failure here) ends the
    check under way, and the next applies again; a new attempt does not inherit the old one's clock."""
    sim = cluster.sim
    sim.manager.stop()
    controller = sim.manager.controllers["kustomize-controller"]
    release, ks = kind("HelmRelease"), kind("Kustomization")

    def unready(obj: dict[str, Any]) -> None:
        for condition in obj["status"]["conditions"]:
            if condition["type"] == "Ready":
                condition["status"] = "Unknown"

    def request(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})[flux.REQUESTED_AT] = flux.now_nano()

    in_git = sim.store.get(release, "media", "tautulli")["spec"]["interval"]
    sim.store.update(release, "media", "tautulli", unready, subresource="status")
    sim.store.update(ks, "media", "tautulli", request)
    assert controller.reconcile("media", "tautulli") == sim.timing.poll  # applied; waiting for the release
    sim.store.update(release, "media", "tautulli", lambda o: o["spec"].update(interval="7m"))
    sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=boom")
    assert controller.reconcile("media", "tautulli") == sim.timing.retry
    sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=off")
    assert controller.reconcile("media", "tautulli") == sim.timing.poll  # the same request, applied again
    assert sim.store.get(release, "media", "tautulli")["spec"]["interval"] == in_git
    waited = controller.health_since[("media", "tautulli")]
    waited.started -= 3600  # an hour into this attempt's wait
    waited.last -= 3600
    sim.store.update(ks, "media", "tautulli", request)  # a new attempt
    assert controller.reconcile("media", "tautulli") == sim.timing.poll  # waits again, not timed out
    messages = " ".join(c["message"] for c in sim.store.get(ks, "media", "tautulli")["status"]["conditions"])
    assert "Running health checks" in messages and "timeout waiting for" not in messages


def test_kustomizations_are_enqueued_as_kustomize_controllers_watches_enqueue_them(cluster: Cluster) -> None:
    """kustomize-controller internal/controller/kustomization_manager.go: a Kustomization is reconciled for a new
    generation or a reconcile request, not for its own status; a source's event enqueues those following it only
    when the artifact's revision changed, and not those Ready that already attempted it (kustomization_indexers.go
    requestsForRevisionChangeOf); an object it applied enqueues it only while its health check polls."""
    from mediaops.sim.store import WatchEvent

    sim = cluster.sim
    sim.manager.stop()
    controller = sim.manager.controllers["kustomize-controller"]
    ks, source, release = kind("Kustomization"), kind("GitRepository"), kind("HelmRelease")

    def event(res: Any, obj: dict[str, Any]) -> list[Any]:
        return controller.keys_for(WatchEvent(0, "MODIFIED", res, obj))

    tautulli = sim.store.get(ks, "media", "tautulli")
    event(ks, tautulli)  # seen as it is
    status_only = {**tautulli, "status": {**tautulli["status"], "lastHandledReconcileAt": "elsewhen"}}
    assert ("media", "tautulli") not in event(ks, status_only)
    requested = {**tautulli, "metadata": {**tautulli["metadata"], "annotations": {flux.REQUESTED_AT: "now"}}}
    assert ("media", "tautulli") in event(ks, requested)
    edited = {**tautulli, "metadata": {**tautulli["metadata"], "generation": tautulli["metadata"]["generation"] + 1}}
    assert ("media", "tautulli") in event(ks, edited)
    controller.keys_for(WatchEvent(0, "DELETED", ks, edited))  # pruned, then made again as it was: a new object
    assert ("media", "tautulli") in controller.keys_for(WatchEvent(0, "ADDED", ks, edited))

    repo = sim.store.get(source, "flux-system", "flux-system")
    event(source, repo)
    assert event(source, {**repo, "status": {**repo["status"], "lastHandledReconcileAt": "elsewhen"}}) == []
    artifact = {**repo["status"]["artifact"], "revision": "main@sha1:" + "0" * 40}
    following = event(source, {**repo, "status": {**repo["status"], "artifact": artifact}})
    assert ("media", "tautulli") in following and ("flux-system", "cluster-apps") in following
    ready = [(k["metadata"]["namespace"], k["metadata"]["name"]) for k in sim.store.scan(ks)
             if flux.kstatus(k)[0] == "Current" and k["status"].get("lastAttemptedRevision") == repo["status"][
                 "artifact"]["revision"]]
    assert ready and not set(ready) & set(event(source, repo))  # back to the revision they attempted

    applied = sim.store.get(release, "media", "tautulli")
    owner = (applied["metadata"]["labels"][flux_sim.KS_NAMESPACE], applied["metadata"]["labels"][flux_sim.KS_NAME])
    assert owner == ("media", "tautulli") and event(release, applied) == []
    controller.checking[owner] = ((), [])
    assert event(release, applied) == [owner]


def test_releases_are_enqueued_as_helm_controllers_watches_enqueue_them(cluster: Cluster) -> None:
    """helm-controller internal/controller/helmrelease_manager.go: a HelmRelease is reconciled for a new generation
    or a reconcile request, not for its own status; a workload it installed enqueues it only while a Helm action
    waits for it (Helm's wait polls it; helm-controller watches no Deployment)."""
    from mediaops.sim.store import WatchEvent

    sim = cluster.sim
    sim.manager.stop()
    controller = sim.manager.controllers["helm-controller"]
    release, deployment = kind("HelmRelease"), kind("Deployment")

    def event(res: Any, obj: dict[str, Any]) -> list[Any]:
        return controller.keys_for(WatchEvent(0, "MODIFIED", res, obj))

    tautulli = sim.store.get(release, "media", "tautulli")
    event(release, tautulli)  # seen as it is
    assert event(release, {**tautulli, "status": {**tautulli["status"], "lastHandledReconcileAt": "then"}}) == []
    requested = {**tautulli, "metadata": {**tautulli["metadata"], "annotations": {flux.REQUESTED_AT: "now"}}}
    assert event(release, requested) == [("media", "tautulli")]
    workload = sim.store.get(deployment, "media", "tautulli")
    assert workload["metadata"]["labels"][flux_sim.HR_NAME] == "tautulli"
    assert event(deployment, workload) == []
    controller.runs[("media", "tautulli")] = {}
    assert event(deployment, workload) == [("media", "tautulli")]
    # its values ConfigMap keeps its name (disableNameSuffixHash): a change in place is seen only when it carries
    # the label --watch-configs-label-selector selects (helmrelease_manager.go, docs/spec/v2/helmreleases.md)
    config = kind("ConfigMap")
    named = [v["name"] for v in tautulli["spec"].get("valuesFrom") or [] if v.get("kind", "ConfigMap") == "ConfigMap"]
    assert named, tautulli["spec"]
    values = sim.store.get(config, "media", named[0])
    assert event(config, values) == []
    labelled = {**values, "metadata": {**values["metadata"], "labels": {
        **(values["metadata"].get("labels") or {}), flux_sim.WATCH_LABEL: "Enabled"}}}
    assert event(config, labelled) == [("media", "tautulli")]
