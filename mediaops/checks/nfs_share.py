"""Does the NAS serve the app's NFS shares?

An NFS share that is gone leaves the app's pods hanging in their mounts, while Flux and the Deployments stay
Ready. Each NFS server the app mounts (or the `nas_host` setting) is asked on its NFS port (`nas_port`, 2049):
a TCP connection is ok, none fails; the `nfs-outage` runbook takes the apps out of service and back.

By hand: `nc -zv HOST PORT`.
"""

from __future__ import annotations

from collections.abc import Iterator

from mediaops.checks import FAIL, OK, Check, Result
from mediaops.checks.probe import Probe
from mediaops.repo import ACTIVE, App


def run(probe: Probe, app: App) -> Iterator[Result]:
    from mediaops import net

    where = f"{app.namespace}/{app.name}"
    port = int(probe.setting("nas_port") or net.NFS_PORT)
    servers = [probe.setting("nas_host")] if probe.setting("nas_host") else [m.server for m in app.nfs]
    for server in dict.fromkeys(servers):
        answers, detail = net.tcp_open(server, port)
        shares = ", ".join(m.path for m in app.nfs if m.server == server or probe.setting("nas_host"))
        yield Result("nfs-share", where, OK if answers else FAIL, f"{detail} (shares {shares})",
                     f"nc -zv {server} {port}")


CHECK = Check("nfs-share", "The NAS answers on its NFS port for every share the app mounts",
              applies=lambda app: app.state == ACTIVE and bool(app.nfs), run=run, needs_cluster=False)
