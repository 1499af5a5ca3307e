"""`make demo`: the main job, rehearsed: activate plex-exporter with --yes on a simulated cluster.

A temporary copy of the sample repository (a real git repository with a bare "origin" beside it)
drives a rehearsal cluster started in the background, as an operator would with `mediaops sim up`.
The activation commits, pushes and waits on the cluster for real; `mediaops status` shows the result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "home-ops"
MEDIAOPS = str(Path(sys.executable).parent / "mediaops")


def sh(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def show(*args: str, cwd: Path, env: dict[str, str]) -> None:
    print(f"\n\033[1m$ mediaops {' '.join(args)}\033[0m", flush=True)
    code = subprocess.run([MEDIAOPS, *args], cwd=cwd, env=env).returncode
    if code != 0:
        sys.exit(f"demo: `mediaops {' '.join(args)}` exited {code}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mediaops-demo-") as scratch:
        root = Path(scratch)
        repo, origin = root / "home-ops", root / "home-ops.git"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAOPS_")}
        env.update(MEDIAOPS_STATE_DIR=str(root / "state"), MEDIAOPS_CONFIG=str(root / "none.yaml"),
                   GIT_AUTHOR_NAME="mediaops demo", GIT_AUTHOR_EMAIL="demo@example.invalid",
                   GIT_COMMITTER_NAME="mediaops demo", GIT_COMMITTER_EMAIL="demo@example.invalid")
        shutil.copytree(SAMPLE, repo)
        sh("git", "init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=root, env=env)
        sh("git", "init", "--quiet", "--initial-branch=main", cwd=repo, env=env)
        sh("git", "add", "--all", cwd=repo, env=env)
        sh("git", "commit", "--quiet", "-m", "initial import", cwd=repo, env=env)
        sh("git", "remote", "add", "origin", str(origin), cwd=repo, env=env)
        sh("git", "push", "--quiet", "-u", "origin", "main", cwd=repo, env=env)
        print(f"sample repository copied to {repo} (origin: {origin})")
        show("sim", "up", cwd=repo, env=env)
        env["KUBECONFIG"] = str(root / "state" / "sim" / "kubeconfig")
        try:
            show("run", "activate", "plex-exporter", "--dry-run", cwd=repo, env=env)
            show("run", "activate", "plex-exporter", "--yes", cwd=repo, env=env)
            show("status", "--namespace", "media", cwd=repo, env=env)
            show("runs", cwd=repo, env=env)
        finally:
            subprocess.run([MEDIAOPS, "sim", "down"], cwd=repo, env=env, check=False)


if __name__ == "__main__":
    main()
