"""Views of the journal and of runbooks for people: tables, a run report, the docs pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `apps` and `status` draw their tables without the engine's model
    from mediaops.engine.journal import RunRecord
    from mediaops.engine.model import Runbook


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if v not in (None, False, ""))


def runs_table(records: list[RunRecord]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # The run ID is what `resume` and `runs show` need: it is never cut; the parameters give way first.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("RUN", no_wrap=True, min_width=len(records[0].run_id) if records else 3)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("STARTED", no_wrap=True)
    table.add_column("RUNBOOK", overflow="fold")
    table.add_column("PARAMS", overflow="fold", ratio=1)
    for r in records:
        style = {"done": "green", "dry-run": "blue", "running": "yellow", "abandoned": "magenta"}.get(r.status, "red")
        table.add_row(Text(r.run_id), Text(r.status, style=style), Text(r.started[:16].replace("T", " ")),
                      Text(r.runbook), Text(_params(r.params)))
    if not records:
        table.caption = "no runs recorded yet"
    return table


def run_view(record: RunRecord) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text()
    head.append(f"{record.run_id}\n", style="bold")
    head.append(f"runbook  {record.runbook} {_params(record.params)}\n")
    head.append(f"operator {record.user}@{record.host}\n")
    for key, value in record.target.items():
        head.append(f"{key:<8} {value}\n")
    head.append(f"started  {record.started}\nended    {record.ended or '—'}\n")
    head.append(f"status   {record.status} (exit {record.exit_code})")
    table = Table(show_edge=False)
    for column in ("#", "step", "outcome", "time", "note"):
        table.add_column(column)
    for index, step in sorted(record.steps.items()):
        outcome = step.outcome + (", undone" if step.undone else "")
        duration = f"{step.duration:.1f}s" if step.duration is not None else ""
        table.add_row(str(index + 1), Text(step.title), outcome, duration, Text(step.error or step.summary or ""))
    return Group(head, table)


def run_markdown(record: RunRecord) -> str:
    lines = [
        f"### mediaops {record.runbook} {_params(record.params)}".rstrip(),
        "",
        f"- run: `{record.run_id}`",
        f"- operator: {record.user}@{record.host}",
        *[f"- {key}: {value}" for key, value in record.target.items()],
        f"- started: {record.started}",
        f"- ended: {record.ended or '(not ended)'}",
        f"- status: **{record.status}** (exit code {record.exit_code})",
        "",
        "| # | step | outcome | duration | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for index, step in sorted(record.steps.items()):
        outcome = step.outcome + (", undone" if step.undone else "")
        duration = f"{step.duration:.1f}s" if step.duration is not None else ""
        note = (step.error or step.summary).replace("|", "\\|")
        lines.append(f"| {index + 1} | {step.title} | {outcome} | {duration} | {note} |")
    warnings = [str(e.get("message", "")) for e in record.events if e.get("event") == "warning"]
    if warnings:
        lines += ["", "Findings and warnings:", "", *[f"- {w}" for w in dict.fromkeys(warnings)]]
    ran = [(index, step) for index, step in sorted(record.steps.items()) if step.commands]
    if ran:
        lines += ["", "Commands run:", ""]
        for index, step in ran:
            lines += [f"{index + 1}. {step.title}", "", "   ```sh", *[f"   {c}" for c in step.commands], "   ```"]
    if record.status in ("interrupted", "failed", "aborted", "abandoned"):
        lines += ["", f"Resume with `mediaops resume {record.run_id}`."]
    return "\n".join(lines) + "\n"


def runbook_pages(runbooks: list[Runbook], repo: Any = None) -> dict[str, str]:
    """File name to content for docs/runbooks/: one page per runbook and an index.

    With a repository, each page embeds the Mermaid dependsOn graph of the apps the runbook is about
    (all apps of the default namespace for a runbook that takes any app).
    """
    from pathlib import Path

    from mediaops.engine import docs

    def drawing(runbook: Runbook) -> str:
        from mediaops.repo import graph

        apps = runbook.apps or [a.name for a in repo.apps() if a.namespace == repo.default_namespace]
        return graph.mermaid(graph.build(repo, apps))

    pages = {
        f"{r.name}.md": docs.markdown(r, source=f"runbooks/{Path(r.source).name}",
                                      graph=drawing if repo is not None else None)
        for r in runbooks
    }
    pages["README.md"] = docs.index(runbooks)
    return pages


# -- the rehearsal's page ---------------------------------------------------------------------------------
FAULTS_BEGIN = "<!-- faults: generated by mediaops docs from mediaops/sim/faults.py -->"
FAULTS_END = "<!-- /faults -->"


def faults_table() -> str:
    """The faults table of docs/rehearsal.md, one row per fault of the rehearsal's registry."""
    from mediaops.sim.faults import FAULTS

    rows = [f"| `{f.usage}` | {f.effect} |" for f in FAULTS.values()]
    return "\n".join(["| fault | effect |", "| --- | --- |", *rows]) + "\n"


def rehearsal_page(text: str) -> str:
    """docs/rehearsal.md with the table between its faults markers written from the registry; the rest as it is.

    ValueError when the markers are missing or out of order.
    """
    begin = text.find(FAULTS_BEGIN + "\n")
    start = begin + len(FAULTS_BEGIN) + 1
    end = text.find(FAULTS_END, start) if begin >= 0 else -1
    if end < 0:
        raise ValueError(f"no {FAULTS_BEGIN} ... {FAULTS_END} markers around the faults table")
    return text[:start] + faults_table() + text[end:]


# -- the repository inventory --------------------------------------------------------------------------
STATE_STYLE = {"active": "green", "disabled": "dim", "archived": "dim italic", "inconsistent": "bold red",
               "unreadable": "bold red"}


def apps_table(apps: list[Any]) -> str:
    """The inventory as a table (mediaops/engine/table.py: rich's look, without its cost per cell)."""
    from mediaops.engine.table import Cell, Column, render

    columns = [Column("app", wrap=False), Column("namespace"), Column("state", wrap=False), Column("chart"),
               Column("images"), Column("notes")]
    rows = []
    for app in apps:
        charts = ", ".join(dict.fromkeys(f"{h.chart or h.chart_ref} {h.version}".strip() for h in app.helmreleases))
        images = ", ".join(c.image.rsplit("/", 1)[-1] + (f":{c.tag}" if c.tag else "") for c in app.images[:2])
        if len(app.images) > 2:
            images += f" +{len(app.images) - 2}"
        notes = "; ".join(app.reasons)
        if app.nfs:
            notes = "; ".join(filter(None, [notes, "NFS " + ", ".join(f"{n.server}:{n.path}" for n in app.nfs)]))
        rows.append([Cell(app.name), Cell(app.namespace), Cell(app.state, STATE_STYLE.get(app.state, "")),
                     Cell(charts), Cell(images), Cell(notes)])
    return render(columns, rows)


def app_view(app: Any) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text()
    head.append(f"{app.namespace}/{app.name}", style="bold")
    head.append(f"  {app.state}\n", style=STATE_STYLE.get(app.state, ""))
    for reason in app.reasons:
        head.append(f"  ! {reason}\n", style="red")
    head.append(f"folder {app.directory}\n", style="dim")
    table = Table(show_header=False, show_edge=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()

    def row(label: str, values: list[str]) -> None:
        if values:
            table.add_row(label, Text("\n".join(values)))

    row("kustomization", [f"{k.namespace}/{k.name} path={k.path} target={k.target_namespace or '-'}"
                          + (" SUSPENDED" if k.suspend else "") for k in app.kustomizations])
    row("depends on", [f"{d} (Kustomization)" for k in app.kustomizations for d in k.depends_on]
        + [f"{d} (HelmRelease)" for h in app.helmreleases for d in h.depends_on])
    row("helmrelease", [f"{h.name}: {h.chart or h.chart_ref} {h.version}".rstrip()
                        + (f" (from {h.chart_ref})" if h.chart_ref and h.chart else "")
                        + (f" values from {', '.join(h.values_from)}" if h.values_from else "")
                        for h in app.helmreleases])
    row("controllers", [f"{c.name} ({c.type}{', ' + c.schedule if c.schedule else ''})" for c in app.controllers])
    row("images", [f"{c.controller}/{c.name}: {c.reference}" for c in app.images])
    row("volumes", [f"{v.name} {v.size} {v.storage_class}".rstrip() for v in app.volumes]
        + [f"{c} (existing claim)" for c in app.claims if c not in {v.name for v in app.volumes}])
    row("nfs", [f"{n.name}: {n.server}:{n.path} -> {', '.join(n.mount_paths)}" for n in app.nfs])
    row("ingress", [f"{i.name} ({i.class_name or 'default'}): {', '.join(i.hosts)}" for i in app.ingresses
                    if i.kind == "Ingress"])
    row("routes", [f"{i.name} ({i.class_name or 'no parent'}): {', '.join(i.hosts)}" for i in app.ingresses
                   if i.kind == "HTTPRoute"])
    row("externalname", [f"{e.name} -> {e.target}" for e in app.external_names])
    row("externalsecret", [f"{e.name}: {e.store_kind} {e.store.name} keys {', '.join(e.remote_keys)} "
                           f"-> Secret {e.target}" for e in app.external_secrets])
    row("secrets", app.secrets)
    row("variables", [f"${{{v}}}" for v in app.variables])
    row("not substituted", [f"${{{v}}}" for v in app.unsubstituted])
    row("nodeSelector", [f"{k}={v}" for k, v in app.node_selectors.items()])
    row("probes", app.probes)
    row("servicemonitor", app.service_monitors)
    row("cronjobs", app.cronjobs)
    row("assumed", app.notes)
    row("files", app.files)
    return Group(head, table)


def _verdict(row: Any) -> str:
    """One word for an app, worst first, as `flux get` and `kubectl get` would put it."""
    if row.suspended:
        return "Suspended"
    if row.state in ("disabled", "archived") and row.kustomization in ("absent", "-"):
        return row.state
    for state in ("Failed", "absent", "Progressing", "Unknown"):
        if state in (row.kustomization, row.helmrelease):
            return "NotInstalled" if state == "absent" else state
    if row.scaled_down:
        return "ScaledDown"
    return "Ready" if "Ready" in (row.kustomization, row.helmrelease) else row.kustomization


def status_table(rows: list[Any], source: str = "GitRepository/flux-system/flux-system") -> str:
    """The compact view, in kubectl get's look: NAME, NS, STATUS, READY (pods), REVISION, AGE (of the last
    reconcile) and a MESSAGE cut to the line; `--json` has every field. At 80 columns the message gives way first,
    then the longest names are cut with …; every column stays (engine/table.py; rich's table dropped STATUS and
    READY entirely when a repository's names and messages were long)."""
    from mediaops.engine.table import Cell, Column, paint, render

    columns = [Column(name, wrap=False) for name in ("NAME", "NS", "STATUS", "READY", "REVISION", "AGE")]
    columns.append(Column("MESSAGE", lines=1))
    style = {"Ready": "green", "Failed": "bold red", "Progressing": "yellow", "Unknown": "yellow",
             "NotInstalled": "dim", "disabled": "dim", "archived": "dim", "Suspended": "bold white on red",
             "ScaledDown": "bold red"}
    table = []
    for r in rows:
        verdict = _verdict(r)
        table.append([Cell(r.app), Cell(r.namespace), Cell(verdict, style.get(verdict, "")),
                      Cell(r.replicas, "bold red" if r.scaled_down else ""),
                      Cell(r.revision[:7] + ("*" if r.behind else ""), "yellow" if r.behind else ""),
                      Cell(r.reconciled), Cell(r.message)])
    alarms = [paint(f"⚠ {r.namespace}/{r.app}: suspended: {', '.join(r.suspended)}", "bold red")
              for r in rows if r.suspended]
    alarms += [paint(f"⚠ {r.namespace}/{r.app}: scaled down by mediaops: {', '.join(r.scaled_down)}", "bold red")
               for r in rows if r.scaled_down]
    if any(r.behind for r in rows):
        from mediaops.cluster import flux

        kind, namespace, name = source.split("/", 2)  # the entry's source (Repository.entry_source)
        alarms.append(paint("* applied revision behind the branch's head: a push Flux has not applied yet "
                            f"(`{flux.command(kind, name, namespace)}`)", "yellow"))
    return render(columns, table, plain=True) + "".join(line + "\n" for line in alarms)


def status_wide(rows: list[Any]) -> Any:
    """`status -o wide`: every field in its own column, messages whole."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for column in ("NAME", "NS", "STATE", "KUSTOMIZATION", "HELMRELEASE", "CHART", "READY", "RESTARTS",
                   "REVISION", "AGE", "SUSPENDED", "SCALED DOWN", "MESSAGE"):
        table.add_column(column, overflow="fold")
    for r in rows:
        cells = (r.app, r.namespace, r.state, r.kustomization, r.helmrelease, r.chart, r.replicas, str(r.restarts),
                 r.revision + (" (behind)" if r.behind else ""), r.reconciled, ", ".join(r.suspended),
                 ", ".join(r.scaled_down), r.message)
        table.add_row(*(Text(cell) for cell in cells))  # a message's brackets as the cluster wrote them
    return table
