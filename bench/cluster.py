"""Cluster benchmarks against the rehearsal cluster (127.0.0.1 only).

- reaction: from the emulator changing a status to `Kube.wait` returning; target median <= 0.1 s
  (the flux CLI polls every 2 s).
- status: `mediaops status --json` over a generated repository of 200 apps; targets at most 12 API
  requests and at most 1 s for the whole process.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import MEDIAOPS, clean_env
from bench.inventory import generate


def _git(cwd: Path, *args: str) -> None:
    env = clean_env(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
                    GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _rehearsal(root: Path, apps: int) -> tuple[object, Path, Path]:
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    repo = generate(root, apps)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "generated")
    sim = Rehearsal(repo, timing=Timing.fast(), workdir=root / "work", nas_port=0)
    sim.start(timeout=600)
    return sim, repo, sim.kubeconfig(root / "kubeconfig")


def reaction(rounds: int = 30) -> float:
    from mediaops.kinds import kind
    from mediaops.kube import Kube, Verdict

    with tempfile.TemporaryDirectory() as scratch:
        sim, _, kubeconfig = _rehearsal(Path(scratch), 6)
        kube = Kube(str(kubeconfig))
        deployment = next(iter(sim.store.all_of(kind("Deployment"))))  # type: ignore[attr-defined]
        namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        samples = []
        for round_ in range(rounds):
            changed_at: list[float] = []
            watching = threading.Event()

            def change(value: str = str(round_), watching: threading.Event = watching,
                       changed_at: list[float] = changed_at) -> None:
                watching.wait(5)
                time.sleep(0.05)  # let the watch open: the measured span starts at the change itself
                changed_at.append(time.perf_counter())
                sim.store.update(kind("Deployment"), namespace, name,  # type: ignore[attr-defined]
                                 lambda o: o.setdefault("status", {}).update(bench=value), subresource="status")

            threading.Thread(target=change, daemon=True).start()

            def judge(obj: dict | None, value: str = str(round_), watching: threading.Event = watching) -> Verdict:
                watching.set()
                return Verdict(done=((obj or {}).get("status") or {}).get("bench") == value)

            kube.wait("Deployment", name, namespace, judge, timeout=30)
            samples.append(time.perf_counter() - changed_at[0])
        sim.stop()  # type: ignore[attr-defined]
    median = statistics.median(samples)
    print(f"reaction: status change -> wait returns, median {median * 1000:.1f} ms, "
          f"max {max(samples) * 1000:.1f} ms over {rounds} rounds (target median <= 100 ms)")
    return median


def status(apps: int = 200, rounds: int = 5) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as scratch:
        sim, repo, kubeconfig = _rehearsal(Path(scratch), apps)
        env = clean_env(KUBECONFIG=str(kubeconfig))
        cmd = [MEDIAOPS, "--repo", str(repo), "status", "--json"]
        import json

        rows = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)  # warm
        ready = sum(1 for r in rows if r["kustomization"] == "Ready" and r["replicas"] not in ("-", "0/1"))
        active = sum(1 for r in rows if r["state"] == "active")
        times, counts = [], []
        for _ in range(rounds):
            before = len(sim.server.requests)  # type: ignore[attr-defined]
            started = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
            counts.append(len(sim.server.requests) - before)  # type: ignore[attr-defined]
        sim.stop()  # type: ignore[attr-defined]
    median = statistics.median(times)
    print(f"status: mediaops status --json over {apps} apps ({active} active, {ready} of them Ready with their "
          f"pods): {max(counts)} API requests, {median * 1000:.0f} ms median of {rounds} "
          "(targets <= 12 requests, <= 1000 ms)")
    return max(counts), median


if __name__ == "__main__":
    reaction()
    status()
