"""Views of the journal and of runbooks for people: tables, a run report, the docs pages."""

from __future__ import annotations

from typing import Any

from mediaops.engine import docs
from mediaops.engine.journal import RunRecord
from mediaops.engine.model import Runbook


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if v not in (None, False, ""))


def runs_table(records: list[RunRecord]) -> Any:
    from rich.table import Table

    table = Table(show_edge=False)
    for column in ("run", "runbook", "params", "status", "started", "operator"):
        table.add_column(column)
    for r in records:
        style = {"done": "green", "dry-run": "blue"}.get(r.status, "red" if r.status != "running" else "yellow")
        table.add_row(r.run_id, r.runbook, _params(r.params), f"[{style}]{r.status}[/]", r.started,
                      f"{r.user}@{r.host}")
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
        table.add_row(str(index + 1), step.title, outcome, duration, step.error or step.summary)
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
    if record.status in ("interrupted", "failed", "aborted"):
        lines += ["", f"Resume with `mediaops resume {record.run_id}`."]
    return "\n".join(lines) + "\n"


def runbook_pages(runbooks: list[Runbook]) -> dict[str, str]:
    """File name to content for docs/runbooks/: one page per runbook and an index."""
    from pathlib import Path

    pages = {f"{r.name}.md": docs.markdown(r, source=f"runbooks/{Path(r.source).name}") for r in runbooks}
    pages["README.md"] = docs.index(runbooks)
    return pages
