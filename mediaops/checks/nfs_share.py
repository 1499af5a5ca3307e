"""Does the NAS serve the app's NFS shares?

An NFS share that is gone leaves the app's pods hanging in their mounts, while Flux and the Deployments stay
Ready. Each NFS server the app mounts (or the `nas_host` setting) is asked on its NFS port (`nas_port`, 2049):
a TCP connection is ok, none fails; the `nfs-outage` runbook takes the apps out of service and back. In a
rehearsal its NAS on 127.0.0.1 is asked instead, standing in for every NFS server of the repository.

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
        address = net.nas_address(probe.config, server)
        answers, detail = net.tcp_open(address, port)
        shares = ", ".join(m.path for m in app.nfs if m.server == server or probe.setting("nas_host"))
        standing_in = f", standing in for {server}" if address != server else ""
        yield Result("nfs-share", where, OK if answers else FAIL, f"{detail} (shares {shares}{standing_in})",
                     f"nc -zv {address} {port}")


CHECK = Check("nfs-share", "The NAS answers on its NFS port for every share the app mounts",
              applies=lambda app: app.state == ACTIVE and bool(app.nfs), run=run, needs_cluster=False)
