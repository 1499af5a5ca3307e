"""Run every benchmark and print its figure (recorded by hand in bench/RESULTS.md)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import api, cluster, inventory, startup


def main() -> None:
    startup.main()
    inventory.main()
    cluster.startup()
    cluster.reaction()
    cluster.status()
    api.main()


if __name__ == "__main__":
    main()
