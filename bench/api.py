"""The rehearsal's API server, this tree against an earlier commit, side by side in one run (127.0.0.1 only).

For each tree a fresh rehearsal is built from the sample repository (in a child process importing that
tree), then timed: start-up to the steady state, `GET /version`, a LIST of ConfigMaps, a create and delete
of a ConfigMap (a validated write: the schema check and its first import included in the first round), and a
Deployment `get` as kubectl asks for it (a server-side Table). Medians of interleaved rounds.

    python -m bench.api [REVISION]      # default: the commit before the API server's schema validation
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import clean_env

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "bff0a43"  # before Velero's phases, Flux remediation and the API server's validation

WORKER = r"""
import http.client, json, statistics, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mediaops.sim.cluster import Rehearsal
from mediaops.sim.manager import Timing

repo, work, rounds = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
started = time.perf_counter()
sim = Rehearsal(repo, timing=Timing.fast(), workdir=work, nas_port=0)
sim.start(timeout=120)
startup = time.perf_counter() - started
host, port = sim.server.server_address[:2]
conn = http.client.HTTPConnection(host, port)

def timed(method, path, body=None, headers=None):
    began = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    response.read()
    assert response.status < 300, (method, path, response.status)
    return (time.perf_counter() - began) * 1000

figures = {"version": [], "list": [], "write": [], "table": []}
for i in range(rounds):
    figures["version"].append(timed("GET", "/version"))
    figures["list"].append(timed("GET", "/api/v1/namespaces/media/configmaps"))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"bench-{i}", "namespace": "media"},
            "data": {"a": "b"}}
    write = timed("POST", "/api/v1/namespaces/media/configmaps", body)
    write += timed("DELETE", f"/api/v1/namespaces/media/configmaps/bench-{i}")
    figures["write"].append(write)
    figures["table"].append(timed("GET", "/apis/apps/v1/namespaces/media/deployments/tautulli",
                                  headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}))
sim.stop()
print(json.dumps({"startup": startup * 1000, "first_write": figures["write"][0],
                  **{k: statistics.median(v[1:]) for k, v in figures.items()}}))
"""


def _sample_repo(root: Path) -> Path:
    repo = root / "home-ops"
    shutil.copytree(ROOT / "examples" / "home-ops", repo)
    env = clean_env(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
                    GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    for args in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"], ["commit", "--quiet", "-m", "s"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def measure(tree: Path, repo: Path, work: Path, rounds: int) -> dict[str, float]:
    shutil.rmtree(work, ignore_errors=True)
    result = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(repo), str(work), str(rounds)],
                            capture_output=True, text=True, timeout=300, env=clean_env())
    if result.returncode != 0:
        raise SystemExit(f"bench/api.py: {tree}: {result.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(revision: str = BASELINE, repeats: int = 3, rounds: int = 40) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="mediaops-bench-api-") as tmp:
        root = Path(tmp)
        before = root / "before"
        subprocess.run(["git", "worktree", "add", "--quiet", "--detach", str(before), revision], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            repo = _sample_repo(root)
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for _ in range(repeats):  # interleaved, so both share the machine's noise
                runs["before"].append(measure(before, repo, root / "work", rounds))
                runs["after"].append(measure(ROOT, repo, root / "work", rounds))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)
    import statistics

    medians = {side: {key: statistics.median(r[key] for r in results) for key in results[0]}
               for side, results in runs.items()}
    print(f"{'ms (median)':<14}{'before ' + revision:>16}{'after':>10}{'ratio':>8}")
    for key in medians["after"]:
        b, a = medians["before"][key], medians["after"][key]
        print(f"{key:<14}{b:>16.2f}{a:>10.2f}{a / b:>8.2f}x")
    return medians


if __name__ == "__main__":
    main(*sys.argv[1:2])
