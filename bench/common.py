"""Helpers for the benchmarks: run commands side by side and report medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
MEDIAOPS = str(BIN / "mediaops")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAOPS_")}
    env.update(extra)
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def side_by_side(commands: dict[str, list[str]], env: dict[str, str], rounds: int,
                 cwd: str | None = None) -> dict[str, float]:
    """Median wall time of each command, run interleaved so machine noise hits all of them alike."""
    for cmd in commands.values():  # warm the page cache and any bytecode
        timed(cmd, env, cwd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env, cwd))
    return {name: statistics.median(values) for name, values in samples.items()}
