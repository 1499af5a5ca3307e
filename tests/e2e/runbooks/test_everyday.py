"""reconcile and restart end to end against the rehearsal cluster."""

from __future__ import annotations

from tests.conftest import HomeOps, Mediaops, kubectl, read


def test_reconcile_picks_up_a_pushed_change_then_has_nothing_to_do(sim: Mediaops,
                                                                    home_ops: HomeOps) -> None:
    values = home_ops.path / "kubernetes/apps/media/tautulli/app/values.yaml"
    values.write_text(values.read_text().replace("tag: 2.15.1", "tag: 2.15.2"))
    home_ops.git("commit", "--quiet", "-am", "feat(media): tautulli 2.15.2")
    home_ops.git("push", "--quiet")
    result = sim.run("run", "reconcile", "tautulli", "--yes")
    assert result.returncode == 0, result.stdout[-2000:]
    deployment = read(sim, "get", "deployment", "tautulli", "-n", "media", "-o", "json")
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert "ghcr.io/onedr0p/tautulli:2.15.2" in images
    again = sim.run("run", "reconcile", "tautulli", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_reconcile_refuses_a_suspended_app(sim: Mediaops, home_ops: HomeOps) -> None:
    kubectl(sim, "patch", "helmrelease", "tautulli", "-n", "media", "--type=merge", "-p", '{"spec":{"suspend":true}}')
    result = sim.run("run", "reconcile", "tautulli", "--yes")
    assert result.returncode == 3
    assert "HelmRelease media/tautulli is suspended" in result.stdout


def test_reconcile_reports_a_failing_release(sim: Mediaops, home_ops: HomeOps) -> None:
    # the fault first: pushed first, the rehearsal's Flux (fast intervals) may upgrade before the fault is set
    sim.run("sim", "fault", "reconcile-fail", "HelmRelease/media/tautulli=upgrade failed: pre-upgrade hook")
    values = home_ops.path / "kubernetes/apps/media/tautulli/app/values.yaml"
    values.write_text(values.read_text().replace("tag: 2.15.1", "tag: 2.15.3"))
    home_ops.git("commit", "--quiet", "-am", "feat(media): tautulli 2.15.3")
    home_ops.git("push", "--quiet")
    result = sim.run("run", "reconcile", "tautulli", "--yes")
    assert result.returncode == 1 and "pre-upgrade hook" in result.stdout, result.stdout


def test_restart_replaces_pods_and_a_second_run_waits(sim: Mediaops, home_ops: HomeOps) -> None:
    before = kubectl(sim, "get", "pods", "-n", "media", "-l", "app.kubernetes.io/name=tautulli", "-o", "name").stdout
    result = sim.run("run", "restart", "tautulli", "--yes")
    assert result.returncode == 0, result.stdout[-2000:]
    after = kubectl(sim, "get", "pods", "-n", "media", "-l", "app.kubernetes.io/name=tautulli", "-o", "name").stdout
    assert before.strip() and after.strip() and before != after
    report = sim.run("runs", "show", "last", "--markdown").stdout
    # The commands the run's operations rendered, journaled before they ran: the report lists them as run.
    assert "Commands run:" in report and "kubectl rollout restart deployment/tautulli -n media" in report, report
    again = sim.run("run", "restart", "tautulli", "--yes")
    assert "nothing to do" in again.stdout and "restarted less than two minutes ago" in again.stdout
    forced = sim.run("run", "restart", "tautulli", "--yes", "--force")
    assert forced.returncode == 0 and "nothing to do" not in forced.stdout
    disabled = sim.run("run", "restart", "overseerr", "--yes")
    assert disabled.returncode == 3 and "is disabled, not active" in disabled.stdout


def test_reconcile_force_insists_when_all_is_ready(sim: Mediaops, home_ops: HomeOps) -> None:
    calm = sim.run("run", "reconcile", "tautulli", "--yes")
    assert calm.returncode == 0 and "nothing to do" in calm.stdout
    forced = sim.run("run", "reconcile", "tautulli", "--force", "--yes")
    assert forced.returncode == 0, forced.stdout[-2000:]
    assert "flux reconcile helmrelease tautulli -n media --force" in forced.stdout
    hr = read(sim, "get", "helmrelease", "tautulli", "-n", "media", "-o", "json")
    assert hr["status"].get("lastHandledForceAt")  # helm-controller ran the forced upgrade
