"""`mediaops --help` against `python -c "import click"`: the CLI must start at most 1.5x slower."""

from __future__ import annotations

import sys

from bench.common import MEDIAOPS, clean_env, side_by_side

TARGET = 1.5


def main(rounds: int = 30) -> float:
    medians = side_by_side(
        {"import click": [sys.executable, "-c", "import click"], "mediaops --help": [MEDIAOPS, "--help"]},
        clean_env(), rounds,
    )
    ratio = medians["mediaops --help"] / medians["import click"]
    print(f"startup: python -c 'import click' {medians['import click'] * 1000:.1f} ms, "
          f"mediaops --help {medians['mediaops --help'] * 1000:.1f} ms, ratio {ratio:.2f}x "
          f"(target <= {TARGET}x) over {rounds} interleaved rounds")
    return ratio


if __name__ == "__main__":
    main()
