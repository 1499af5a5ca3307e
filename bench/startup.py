"""Start-up of the commands that print without a cluster, each against `python -c "import click"` in the same
run: `--help`, `list`, `show activate` and `apps` on the sample repository; target at most 1.5x each."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import MEDIAOPS, clean_env, side_by_side

TARGET = 1.5
SAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "home-ops")


def main(rounds: int = 20) -> dict[str, float]:
    commands = {"import click": [sys.executable, "-c", "import click"],
                "mediaops --help": [MEDIAOPS, "--help"],
                "mediaops list": [MEDIAOPS, "list"],
                "mediaops show activate": [MEDIAOPS, "show", "activate"],
                "mediaops apps (sample)": [MEDIAOPS, "--repo", SAMPLE, "apps"]}
    medians = side_by_side(commands, clean_env(COLUMNS="80"), rounds)
    anchor = medians["import click"]
    ratios = {name: value / anchor for name, value in medians.items() if name != "import click"}
    print(f"startup: python -c 'import click' {anchor * 1000:.1f} ms; " + "; ".join(
        f"{name} {medians[name] * 1000:.1f} ms ({ratio:.2f}x)" for name, ratio in ratios.items())
        + f" (target <= {TARGET}x each) over {rounds} interleaved rounds")
    return ratios


if __name__ == "__main__":
    main()
