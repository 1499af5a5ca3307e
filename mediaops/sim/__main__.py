"""``python -m mediaops.sim``: serve a rehearsal cluster until SIGTERM (what ``mediaops sim up`` starts).

It writes its kubeconfig and a state file (pid, API URL, kubeconfig path, the ingress, NAS, DNS, Alertmanager
and Overseerr addresses, Overseerr's API key, ready) into the given directory, so
``mediaops sim down|status|fault`` can find it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from mediaops.errors import MediaopsError
from mediaops.sim.background import serve
from mediaops.sim.cluster import Rehearsal
from mediaops.sim.manager import Timing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mediaops.sim")
    parser.add_argument("--repo", required=True, type=Path)
    parser.add_argument("--cluster", default="", help="the cluster, in a repository of one tree per cluster")
    parser.add_argument("--dir", required=True, type=Path, help="where the state file and kubeconfig go")
    parser.add_argument("--timing", choices=["normal", "fast"], default="normal")
    parser.add_argument("--nas-port", type=int, default=2049, help="0 picks a free port")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the steady state")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        rehearsal = Rehearsal(args.repo, timing=Timing.fast() if args.timing == "fast" else Timing(),
                              nas_port=args.nas_port, cluster=args.cluster)
    except MediaopsError as exc:  # the parent shows the last line of the log
        print(exc.line(), file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        serve(rehearsal, args.dir, args.timeout)
        stop.wait()
    except MediaopsError as exc:  # the parent shows the last line of the log
        print(exc.message, file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    finally:
        rehearsal.stop()
        (args.dir / "state.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
