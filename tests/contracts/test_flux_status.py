"""How Flux's controllers write status, and how mediaops's waits read it, against the rehearsal.

Each test names the upstream source of the rule; each fails if the rehearsal's controllers or the wrapper go
back to a rule Flux does not follow.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from mediaops.cluster import flux, waits
from mediaops.cluster.waits import Verdict, WaitFailed
from tests.conftest import Cluster

HR = ("HelmRelease", "tautulli", "media")


def _cond(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _until(predicate: Any) -> Any:
    def judge(obj: dict[str, Any] | None) -> Verdict:
        return Verdict(done=obj is not None and bool(predicate(obj)), status="waiting")

    return judge


def _stalled(obj: dict[str, Any]) -> bool:
    return _cond(obj, "Stalled").get("status") == "True"


def _hold_release(cluster: Cluster) -> None:
    """Nothing re-applies the HelmRelease's spec under the test: its Kustomization is suspended."""
    flux.suspend(cluster.kube, "Kustomization", "tautulli", "media")


def _upgrade(cluster: Cluster, version: str, retries: int, **remediation: Any) -> dict[str, Any]:
    return cluster.kube.patch(*HR[:2], {"spec": {"chart": {"spec": {"version": version}},
                                                 "upgrade": {"remediation": {"retries": retries, **remediation}}}},
                              HR[2])


def test_an_upgrade_out_of_retries_is_stalled_and_not_tried_again(cluster: Cluster) -> None:
    """helm-controller internal/reconcile/atomic_release.go: with upgrade.remediation.retries 0 (and
    remediateLastFailure false) one failed upgrade is Stalled=True RetriesExceeded, Ready=False UpgradeFailed,
    observedGeneration set (a terminal error); a new request does not try again; forceAt does."""
    _hold_release(cluster)
    cluster.sim.set_fault("reconcile-fail", "HelmRelease/media/tautulli=pre-upgrade hooks failed: job failed")
    patched = _upgrade(cluster, "4.0.0", 0)
    obj = waits.until(cluster.kube, *HR[:2], HR[2], _until(_stalled), timeout=30)
    status = obj["status"]
    assert _cond(obj, "Stalled")["reason"] == "RetriesExceeded"
    assert _cond(obj, "Stalled")["message"] == "Failed to upgrade after 1 attempt(s)"
    assert _cond(obj, "Ready")["status"] == "False" and _cond(obj, "Ready")["reason"] == "UpgradeFailed"
    assert "pre-upgrade hooks failed: job failed" in _cond(obj, "Ready")["message"]
    assert not _cond(obj, "Reconciling")
    assert status["observedGeneration"] == patched["metadata"]["generation"]
    assert status["upgradeFailures"] == 1 and status["history"][0]["status"] == "failed"
    assert flux.kstatus(obj)[0] == "Failed"
    started = time.monotonic()
    with pytest.raises(WaitFailed, match="Stalled RetriesExceeded: Failed to upgrade after 1 attempt"):
        flux.reconcile(cluster.kube, *HR, timeout=30)
    assert time.monotonic() - started < 10
    again = cluster.kube.get(*HR[:2], HR[2])["status"]
    assert again["upgradeFailures"] == 1 and again["history"][0]["version"] == status["history"][0]["version"]
    # forceAt (equal to requestedAt) is one more attempt while out of retries: it fails and stalls again
    with pytest.raises(WaitFailed, match="Failed to upgrade after 2 attempt"):
        flux.reconcile(cluster.kube, *HR, force=True, timeout=30)
    assert cluster.kube.get(*HR[:2], HR[2])["status"]["upgradeFailures"] == 2


def test_reset_at_clears_the_failure_count(cluster: Cluster) -> None:
    """helm-controller internal/action/reset.go MustResetFailures and api/v2/annotations.go: a resetAt equal
    to requestedAt clears installFailures/upgradeFailures, so the release is tried again."""
    _hold_release(cluster)
    cluster.sim.set_fault("reconcile-fail", "HelmRelease/media/tautulli=upgrade failed")
    _upgrade(cluster, "4.0.0", 0)
    waits.until(cluster.kube, *HR[:2], HR[2], _until(_stalled), timeout=30)
    cluster.sim.set_fault("reconcile-fail", "HelmRelease/media/tautulli=off")
    stamp = flux.now_nano()
    cluster.kube.patch(*HR[:2], {"metadata": {"annotations": {flux.REQUESTED_AT: stamp,
                                                              "reconcile.fluxcd.io/resetAt": stamp}}}, HR[2])
    obj = waits.until(cluster.kube, *HR[:2], HR[2], flux.handled(None), timeout=30)
    assert obj["status"]["lastHandledResetAt"] == stamp
    assert not _cond(obj, "Stalled") and flux.FluxStatus.of(obj).revision == "4.0.0"
    assert obj["status"].get("upgradeFailures", 0) == 0


def test_a_failed_upgrade_rolls_back_then_stalls(cluster: Cluster) -> None:
    """atomic_release.go with upgrade retries 1 (remediateLastFailure defaults to retries > 0, strategy
    rollback): upgrade fails, rollback (Remediated=True RollbackSucceeded, which summarize makes Ready=False),
    requeue with Reconciling ProgressingWithRetry, upgrade fails again, rollback, Stalled RetriesExceeded.
    The previous chart version runs again, as a new history entry."""
    _hold_release(cluster)
    before = cluster.kube.get(*HR[:2], HR[2])["status"]["history"][0]
    cluster.sim.set_fault("reconcile-fail", "HelmRelease/media/tautulli=upgrade failed: boom")
    _upgrade(cluster, "4.0.0", 1)
    obj = waits.until(cluster.kube, *HR[:2], HR[2], _until(_stalled), timeout=30)
    status = obj["status"]
    assert _cond(obj, "Stalled")["message"] == "Failed to upgrade after 2 attempt(s)"
    assert (_cond(obj, "Ready")["status"], _cond(obj, "Ready")["reason"]) == ("False", "RollbackSucceeded")
    # the second rollback goes back to the first one's release (v+2), which runs the old chart
    assert _cond(obj, "Ready")["message"] == (f"Helm rollback to previous release media/tautulli.v"
                                              f"{before['version'] + 2} with chart app-template@"
                                              f"{before['chartVersion']} succeeded")
    assert _cond(obj, "Released")["reason"] == "UpgradeFailed"
    assert status["upgradeFailures"] == 2
    latest = status["history"][0]
    assert latest["status"] == "deployed" and latest["chartVersion"] == before["chartVersion"]
    assert latest["version"] == before["version"] + 4  # upgrade, rollback, upgrade, rollback
    assert flux.FluxStatus.of(obj).revision == before["chartVersion"]
    # the wrapper names both: the rollback Ready reports and the upgrade failure it remediated
    with pytest.raises(WaitFailed, match=r"Stalled RetriesExceeded: .*RollbackSucceeded: .*UpgradeFailed: .*boom"):
        waits.until(cluster.kube, *HR[:2], HR[2], flux.ready(), timeout=10)


def test_a_helmchart_that_cannot_be_pulled_is_retried_not_stalled(cluster: Cluster) -> None:
    """helm-controller helmrelease_controller.go: a HelmChart that is not ready is Ready=False SourceNotReady
    with the HelmChart's message (isReady), errWaitForChart: retried, no Stalled, Reconciling stays and
    observedGeneration keeps the last generation reconciled."""
    _hold_release(cluster)
    patched = _upgrade(cluster, "9.9.9", 0)
    obj = waits.until(cluster.kube, *HR[:2], HR[2], _until(
        lambda o: _cond(o, "Ready").get("reason") == "SourceNotReady" and "9.9.9" in _cond(o, "Ready")["message"]),
        timeout=30)
    assert "no 'app-template' chart with version matching '9.9.9'" in _cond(obj, "Ready")["message"]
    assert not _cond(obj, "Stalled") and _cond(obj, "Reconciling")["status"] == "True"
    assert obj["status"]["observedGeneration"] < patched["metadata"]["generation"]
    assert flux.kstatus(obj)[0] == "InProgress"  # what `flux reconcile` would wait out
    chart = cluster.kube.get("HelmChart", "media-tautulli", "flux-system")
    assert _cond(chart, "Ready")["reason"] == "ChartPullError" and not _cond(chart, "Stalled")
    with pytest.raises(WaitFailed, match=r"SourceNotReady: HelmChart 'flux-system/media-tautulli' is not ready"):
        flux.reconcile(cluster.kube, *HR, timeout=30)
    with pytest.raises(WaitFailed, match=r"no 'app-template' chart with version matching '9\.9\.9'"):
        waits.until(cluster.kube, *HR[:2], HR[2], flux.ready(), timeout=10)


def test_a_kustomization_retry_keeps_observed_generation(cluster: Cluster) -> None:
    """kustomize-controller kustomization_controller.go finalizeStatus: a retryable failure leaves
    observedGeneration, marks Reconciling ProgressingWithRetry; lastAttemptedRevision moves,
    lastAppliedRevision does not. kstatus calls it InProgress; mediaops's wait fails on it at once."""
    flux.suspend(cluster.kube, "Kustomization", "cluster-apps", "flux-system")
    ks = ("Kustomization", "tautulli", "media")
    applied = cluster.kube.get(*ks[:2], ks[2])["status"]["lastAppliedRevision"]
    cluster.sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=apply failed: boom")
    patched = cluster.kube.patch(*ks[:2], {"spec": {"timeout": "14m"}}, ks[2])
    # the failure at the patched generation: set_fault may already have failed a reconcile of the one before
    generation = patched["metadata"]["generation"]
    obj = waits.until(cluster.kube, *ks[:2], ks[2],
                      _until(lambda o: _cond(o, "Ready").get("status") == "False"
                             and _cond(o, "Ready").get("observedGeneration") == generation), timeout=30)
    status = obj["status"]
    assert status["observedGeneration"] == patched["metadata"]["generation"] - 1
    assert _cond(obj, "Ready")["observedGeneration"] == patched["metadata"]["generation"]
    assert (_cond(obj, "Reconciling")["status"], _cond(obj, "Reconciling")["reason"]) == ("True",
                                                                                          "ProgressingWithRetry")
    assert status["lastAttemptedRevision"] and status["lastAppliedRevision"] == applied
    assert flux.kstatus(obj)[0] == "InProgress"
    started = time.monotonic()
    with pytest.raises(WaitFailed, match="ReconciliationFailed: apply failed: boom"):
        waits.until(cluster.kube, *ks[:2], ks[2], flux.ready(), timeout=30)
    assert time.monotonic() - started < 10
    cluster.sim.set_fault("reconcile-fail", "Kustomization/media/tautulli=off")
    done = flux.reconcile(cluster.kube, *ks, timeout=30)
    assert done.ready == "True"
    after = cluster.kube.get(*ks[:2], ks[2])
    assert after["status"]["observedGeneration"] == patched["metadata"]["generation"]
    assert not _cond(after, "Reconciling")


def _obj(conditions: list[dict[str, Any]], generation: int = 2, observed: int = 2) -> dict[str, Any]:
    return {"kind": "HelmRelease", "metadata": {"name": "x", "namespace": "y", "generation": generation},
            "status": {"observedGeneration": observed, "conditions": conditions}}


def test_the_waits_tell_waiting_from_failing() -> None:
    """kstatus (fluxcd/cli-utils pkg/kstatus/status): Ready=False is InProgress; mediaops's failure():
    a new attempt (Reconciling Progressing), a dependency, a source not pulled yet wait; a retry of the
    current generation or a handled request with Ready=False fail."""
    retry = _obj([{"type": "Ready", "status": "False", "reason": "UpgradeFailed", "message": "m",
                   "observedGeneration": 2},
                  {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry", "message": "m"}],
                 observed=1)
    assert flux.kstatus(retry)[0] == "InProgress"
    assert flux.failure(retry, handled=False) == "UpgradeFailed: m"
    older = _obj([{"type": "Ready", "status": "False", "reason": "UpgradeFailed", "message": "m",
                   "observedGeneration": 1}], observed=1)
    assert flux.failure(older, handled=False) is None  # a verdict about the previous spec
    attempt = _obj([{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "m"},
                    {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "m"}])
    assert flux.failure(attempt, handled=False) is None
    pending = _obj([{"type": "Ready", "status": "False", "reason": "SourceNotReady",
                     "message": "HelmChart 'a/b' is not ready: latest generation of object has not been reconciled"}])
    assert flux.failure(pending, handled=True) is None
    dependency = _obj([{"type": "Ready", "status": "False", "reason": "DependencyNotReady", "message": "m"}])
    assert flux.failure(dependency, handled=True) is None
    assert flux.failure(older, handled=True) == "UpgradeFailed: m"
    never = {"kind": "Kustomization", "metadata": {"name": "x", "namespace": "y", "generation": 1}}
    assert flux.kstatus(never)[0] == "InProgress"
