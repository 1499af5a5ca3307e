"""Cluster benchmarks against the rehearsal cluster (127.0.0.1 only).

- reaction: from the emulator changing a status to `Kube.wait` returning; target median <= 0.1 s
  (the flux CLI polls every 2 s).
- status: `mediaops status --json` over a generated repository of 200 apps, side by side with
  `kubectl get ks,hr,deploy,sts -A -o json` (what it reads, with kubectl's discovery cache warm); targets at
  most 12 API requests and at most 1.2x kubectl.
- startup: the rehearsal from the sample and from generated 100- and 200-app repositories to its steady state, cold
  (every `kubectl kustomize` runs) with the normal and the fast delays side by side, from the builds a process
  before left on disk, and warm (the same content started again in the process); targets, cold: 3 s, 15 s and 5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import MEDIAOPS, clean_env
from bench.inventory import generate
from mediaops.cluster import waits


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


def _git_repo(root: Path, apps: int | None) -> Path:
    """The sample (apps=None) or a generated repository, committed in a git checkout of its own."""
    import shutil

    from bench.inventory import SAMPLE

    if apps is None:
        repo = root / "sample"
        shutil.copytree(SAMPLE, repo)
    else:
        repo = generate(root, apps)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "generated")
    return repo


STARTUP = {"sample": (None, 3.0), "100 apps": (100, 15.0), "200 apps": (200, 5.0)}  # apps, target (seconds)


def startup(rounds: int = 3, sizes: tuple[str, ...] = tuple(STARTUP)) -> dict[str, float]:
    """Rehearsal start-up to the steady state (``Rehearsal.start``), from the sample and from generated 100- and
    200-app repositories. Cold, with the normal and the fast delays side by side, rounds interleaved: start-up pays
    for the objects, not for the delays, and every `kubectl kustomize` runs (the builds the process keeps,
    flux.SharedBuilds, are forgotten before each round, and each round has a cache directory of its own). From disk:
    the builds forgotten by the process but found in the cache directory, as a new `mediaops --sim` process finds
    them. Warm: the same content started again in the same process, as a test worker starts one rehearsal after
    another (those builds are not run again). Targets, cold: sample 3 s,
    100 apps 15 s, 200 apps 5 s."""
    from mediaops.cluster.kinds import kind
    from mediaops.sim import flux
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    def start(repo: Path, workdir: Path, timing: Timing, cold: bool, disk: bool = False) -> tuple[float, int, int]:
        if cold or disk:  # forgotten by the process; cold: none on disk either (a cache directory of its own)
            with flux.BUILDS.lock:
                flux.BUILDS.results.clear()
        if cold:
            os.environ["MEDIAOPS_CACHE_DIR"] = tempfile.mkdtemp(dir=workdir.parent, prefix="cache-")
        sim = Rehearsal(repo, timing=timing, workdir=workdir, nas_port=0)
        started = time.perf_counter()
        sim.start(timeout=600)
        elapsed = time.perf_counter() - started
        objects, ready = len(sim.store.objects), len(list(sim.store.all_of(kind("Kustomization"))))
        sim.stop()
        return elapsed, objects, ready

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label in sizes:
            apps, target = STARTUP[label]
            repo = _git_repo(Path(scratch) / label.replace(" ", "-"), apps)
            samples: dict[str, list[float]] = {"normal": [], "fast": [], "disk": [], "warm": []}
            for index in range(rounds):
                for timing_name, timing in (("normal", Timing), ("fast", Timing.fast)):
                    elapsed, objects, ready = start(repo, Path(scratch) / f"w-{label}-{timing_name}{index}", timing(),
                                                    cold=True)
                    samples[timing_name].append(elapsed)
            for index in range(rounds):  # a new process: the builds the last cold round left on disk
                samples["disk"].append(start(repo, Path(scratch) / f"w-{label}-disk{index}", Timing.fast(),
                                             cold=False, disk=True)[0])
            for index in range(rounds):  # the last cold round left the builds of this content in the process
                samples["warm"].append(start(repo, Path(scratch) / f"w-{label}-warm{index}", Timing.fast(),
                                             cold=False)[0])
            for name, values in samples.items():
                figures[f"{label} {name}"] = statistics.median(values)
            print(f"rehearsal start-up, {label} ({objects} objects, {ready} Kustomizations): "
                  f"{figures[label + ' normal'] * 1000:.0f} ms with the normal delays, "
                  f"{figures[label + ' fast'] * 1000:.0f} ms with the fast ones (cold, median of {rounds}; target "
                  f"{target:.0f} s); builds on disk (a new process) {figures[label + ' disk'] * 1000:.0f} ms; warm "
                  f"{figures[label + ' warm'] * 1000:.0f} ms")
    return figures


def reaction(rounds: int = 30) -> float:
    from mediaops.cluster.client import Kube
    from mediaops.cluster.kinds import kind
    from mediaops.cluster.waits import Verdict

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

            waits.until(kube, "Deployment", name, namespace, judge, timeout=30)
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
        kubectl = [str(Path(MEDIAOPS).parent / "kubectl"), "get", "ks,hr,deploy,sts", "-A", "-o", "json"]
        env["HOME"] = scratch  # kubectl's discovery cache, warmed by the first run
        subprocess.run(kubectl, env=env, check=True, capture_output=True)
        times, anchor, counts = [], [], []
        for _ in range(rounds):  # interleaved, so machine noise hits both alike
            before = len(sim.server.requests)  # type: ignore[attr-defined]
            started = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
            counts.append(len(sim.server.requests) - before)  # type: ignore[attr-defined]
            started = time.perf_counter()
            subprocess.run(kubectl, env=env, check=True, capture_output=True)
            anchor.append(time.perf_counter() - started)
        sim.stop()  # type: ignore[attr-defined]
    median, kubectl_median = statistics.median(times), statistics.median(anchor)
    print(f"status: mediaops status --json over {apps} apps ({active} active, {ready} of them Ready with their "
          f"pods): {max(counts)} API requests, {median * 1000:.0f} ms vs `kubectl get ks,hr,deploy,sts -A -o json` "
          f"{kubectl_median * 1000:.0f} ms, {median / kubectl_median:.2f}x (medians of {rounds}; targets <= 12 "
          "requests, <= 1.2x)")
    return max(counts), median


if __name__ == "__main__":
    startup()
    reaction()
    status()
