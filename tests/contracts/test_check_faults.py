"""Faults that let the checks fail, each seen through the real kubectl as on a cluster: a crash-looping app
(kubelet's CrashLoopBackOff, restartCount, lastState), a git-sync sidecar that cannot fetch (git-sync v4's JSON log
lines, kubernetes/git-sync main.go and funcr), and a CronJob whose Jobs fail (`kubectl create job --from=cronjob`,
sent as protobuf; the Job's Failed condition, reason BackoffLimitExceeded)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.contracts.conftest import Rehearsed

CRONJOB = "plex-trakt-sync-sync"


def until(what: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(c for c in pod["status"]["containerStatuses"] if c["name"] == name))


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def pod_when(rehearsed: Rehearsed, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The app's pod once ``test`` holds for it (None if it never does)."""

    def found() -> dict[str, Any] | None:
        pod = rehearsed.pod("tautulli")
        return pod if test(pod) else None

    pod: dict[str, Any] | None = until(found)
    return pod


def waiting(pod: dict[str, Any], name: str) -> str:
    return str(container(pod, name).get("state", {}).get("waiting", {}).get("reason", ""))


def test_crashloop_shows_in_the_pod_status(rehearsed: Rehearsed) -> None:
    name = rehearsed.pod("tautulli")["metadata"]["name"]
    assert rehearsed.sim.set_fault("crashloop", "media/tautulli") == "crashloop: media/tautulli"
    crashing = pod_when(rehearsed, lambda p: waiting(p, "main") == "CrashLoopBackOff")
    assert crashing, "the main container never reached CrashLoopBackOff"
    main = container(crashing, "main")
    assert main["ready"] is False and main["restartCount"] >= 1
    assert main["state"]["waiting"]["message"].startswith("back-off ")
    assert f"restarting failed container=main pod={name}_media(" in main["state"]["waiting"]["message"]
    assert main["lastState"]["terminated"]["reason"] == "Error" and main["lastState"]["terminated"]["exitCode"] == 1
    assert container(crashing, "jbops")["ready"] is True  # the sidecar runs on
    assert not ready(crashing) and crashing["status"]["phase"] == "Running"
    grown = until(lambda: container(rehearsed.pod("tautulli"), "main")["restartCount"] > main["restartCount"])
    assert grown, "restartCount did not grow"
    table = rehearsed.kubectl("get", "pod", name, "-n", "media")
    assert "CrashLoopBackOff" in table.stdout and "1/2" in table.stdout, table.stdout
    events = rehearsed.json("get", "events", "-n", "media", "--field-selector", f"involvedObject.name={name}")
    assert any(e["reason"] == "BackOff" and e["type"] == "Warning" for e in events["items"])
    logs = rehearsed.kubectl("logs", name, "-n", "media", "-c", "main")
    assert "exited with status 1" in logs.stdout

    before = container(rehearsed.pod("tautulli"), "main")["restartCount"]
    assert rehearsed.sim.set_fault("crashloop", "media/tautulli=off") == "crashloop: off"
    healed = pod_when(rehearsed, ready)
    assert healed and container(healed, "main")["restartCount"] >= before  # a kubelet keeps counting
    assert "running" in container(healed, "main")["state"]
    with pytest.raises(ValueError):
        rehearsed.sim.set_fault("crashloop", "tautulli")


def log_lines(rehearsed: Rehearsed, pod: str, name: str) -> list[dict[str, Any]]:
    result = rehearsed.kubectl("logs", pod, "-n", "media", "-c", name)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_git_sync_fail_shows_in_its_logs_and_restarts(rehearsed: Rehearsed) -> None:
    pod = rehearsed.pod("tautulli")
    name = pod["metadata"]["name"]
    sidecar = next(c for c in pod["spec"]["containers"] if "git-sync" in c["image"])["name"]  # jbops
    normal = log_lines(rehearsed, name, sidecar)
    assert [line["msg"] for line in normal] == ["starting up", "update required", "updated successfully"]
    assert normal[-1]["ref"] == "master" and normal[-1]["syncCount"] == 1 and len(normal[-1]["remote"]) == 40
    assert all(line["level"] == 0 and "error" not in line and line["caller"]["file"] == "main.go" for line in normal)

    assert rehearsed.sim.set_fault("git-sync-fail", "media/tautulli") == "git-sync-fail: media/tautulli"
    failing = log_lines(rehearsed, name, sidecar)
    errors = [line for line in failing if "error" in line]
    assert len(errors) == 1 and errors[0]["msg"] == "too many failures, aborting" and errors[0]["failCount"] == 1
    assert "level" not in errors[0]  # funcr's FormatError writes none
    assert errors[0]["error"].startswith("Run(git fetch https://github.com/blacktwin/JBOPS master ")
    assert "Could not resolve host: github.com" in errors[0]["error"]
    assert set(errors[0]) >= {"logger", "ts", "caller", "msg", "error"}
    restarting = pod_when(rehearsed, lambda p: container(p, sidecar)["restartCount"] >= 2)
    assert restarting, "the git-sync container was not restarted"
    assert container(restarting, sidecar)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container(restarting, "main")["ready"] is True

    assert rehearsed.sim.set_fault("git-sync-fail", "off") == "git-sync-fail: off"
    assert until(lambda: ready(rehearsed.pod("tautulli")))
    assert log_lines(rehearsed, name, sidecar)[-1]["msg"] == "updated successfully"


def without_empty(value: Any) -> Any:
    """An object without its empty structs: a real API server stores both through Go structs (``resources: {}`` on
    every container); the rehearsal keeps a JSON body as sent and a protobuf one as Go would write it."""
    if isinstance(value, dict):
        return {k: without_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [without_empty(v) for v in value]
    return value


def job(rehearsed: Rehearsed, name: str) -> dict[str, Any]:
    return dict(rehearsed.json("get", "job", name, "-n", "media"))


def condition(found: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in (found.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


def test_job_fail_fails_the_jobs_of_that_cronjob(rehearsed: Rehearsed) -> None:
    cronjob = rehearsed.json("get", "cronjob", CRONJOB, "-n", "media")
    assert rehearsed.sim.set_fault("job-fail", f"media/{CRONJOB}") == f"job-fail: media/{CRONJOB}"
    created = rehearsed.kubectl("create", "job", "sync-failing", "-n", "media", f"--from=cronjob/{CRONJOB}")
    assert created.returncode == 0, created.stderr  # kubectl sends it as protobuf
    made = job(rehearsed, "sync-failing")
    assert made["metadata"]["ownerReferences"][0] | {"uid": ""} == {
        "apiVersion": "batch/v1", "kind": "CronJob", "name": CRONJOB, "uid": "", "controller": True}
    assert made["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    template = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert without_empty(made["spec"]["template"]["spec"]) == without_empty(template)

    waited = rehearsed.kubectl("wait", "--for=condition=Failed", "job/sync-failing", "-n", "media", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    failed = job(rehearsed, "sync-failing")
    assert failed["status"]["failed"] >= 1 and not failed["status"].get("succeeded")
    expected = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit"}
    assert expected.items() <= (condition(failed, "Failed") or {}).items()
    pods = rehearsed.json("get", "pod", "-n", "media", "-l", "job-name=sync-failing")["items"]
    assert pods and all(p["status"]["phase"] == "Failed" for p in pods)
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1 and terminated["reason"] == "Error"

    # a Job no CronJob owns is not touched by the fault
    assert rehearsed.kubectl("create", "job", "plain", "-n", "media", "--image=busybox:1.37").returncode == 0
    plain = rehearsed.kubectl("wait", "--for=condition=Complete", "job/plain", "-n", "media", "--timeout=30s")
    assert plain.returncode == 0, plain.stderr

    assert rehearsed.sim.set_fault("job-fail", f"media/{CRONJOB}=off") == "job-fail: off"
    assert rehearsed.kubectl("create", "job", "sync-again", "-n", "media", f"--from=cronjob/{CRONJOB}").returncode == 0
    again = rehearsed.kubectl("wait", "--for=condition=Complete", "job/sync-again", "-n", "media", "--timeout=30s")
    assert again.returncode == 0, again.stderr
    assert condition(job(rehearsed, "sync-failing"), "Failed") is not None  # a failed Job stays failed


def test_kubectl_generators_that_send_protobuf_are_read(rehearsed: Rehearsed) -> None:
    made = rehearsed.kubectl("create", "configmap", "from-kubectl", "-n", "media", "--from-literal=a=1",
                             "--from-literal=b=two")
    assert made.returncode == 0, made.stderr
    assert rehearsed.json("get", "configmap", "from-kubectl", "-n", "media")["data"] == {"a": "1", "b": "two"}
    secret = rehearsed.kubectl("create", "secret", "generic", "from-kubectl", "-n", "media", "--from-literal=k=v")
    assert secret.returncode == 0, secret.stderr
    found = rehearsed.json("get", "secret", "from-kubectl", "-n", "media")
    assert found["data"] == {"k": "dg=="}  # []byte values: base64, as JSON has them
    scheduled = rehearsed.kubectl("create", "cronjob", "nightly", "-n", "media", "--image=busybox:1.37",
                                  "--schedule=0 3 * * *", "--", "true")
    assert scheduled.returncode == 0, scheduled.stderr
    nightly = rehearsed.json("get", "cronjob", "nightly", "-n", "media")
    assert nightly["spec"]["schedule"] == "0 3 * * *"
    assert nightly["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["true"]
    made = rehearsed.kubectl("create", "deployment", "web", "-n", "media", "--image=nginx")
    assert made.returncode == 0, made.stderr  # read like any built-in kind (tests/contracts/test_kubectl_protobuf.py)
