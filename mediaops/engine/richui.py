"""The reader of the event stream for people: a header, a panel per step, a spinner while waiting, a summary
table (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mediaops.engine.plainui import COLUMNS, MARKS, mode_text

if TYPE_CHECKING:  # imported where they are used: a run that shows no diff, or prints to a pipe, never needs them
    from rich.progress import Progress
    from rich.syntax import Syntax

OUTCOME_STYLE = {outcome: (MARKS[outcome], colour) for outcome, colour in (
    ("done", "green"), ("not_needed", "cyan"), ("skipped", "yellow"), ("would_run", "blue"), ("todo", "magenta"),
    ("failed", "red"), ("interrupted", "red"), ("pending", "dim"))}


class RichUI:
    """The terminal view: a header, a panel per step, a spinner while waiting, a summary table.

    Commands are printed on lines of their own, outside any box and never wrapped by mediaops (a terminal
    folds a long one, which still pastes as one line). Output that is not a terminal (a pipe, a log file) is
    plain: no boxes, lines whole."""

    def __init__(self, console: Console | None = None) -> None:
        # No emoji codes: a value that reads `:name:` (a tag, a time, a log line) is printed as the cluster has it,
        # and rich's table of codes is never loaded.
        self.console = console or Console(highlight=False, emoji=False)
        self.plain = not self.console.is_terminal
        if self.plain:  # piped into a log, a line stays one line (grep-able)
            self.console.soft_wrap = True
        self._progress: Progress | None = None
        self._task: Any = None
        self._last_status = ""
        self._steps: dict[int, dict[str, Any]] = {}

    # -- events -------------------------------------------------------------------------------------
    def handle(self, event: dict[str, Any]) -> None:
        handler = getattr(self, "_on_" + event["event"], None)
        if handler:
            handler(event)

    def _on_run_start(self, e: dict[str, Any]) -> None:
        lines = Text()
        lines.append(f"{e['runbook']}", style="bold")
        lines.append(f" · {e.get('summary', '')}\n")
        params = ", ".join(f"{k}={v}" for k, v in e.get("params", {}).items() if v not in (None, False))
        lines.append(f"params   {params or '—'}\n")
        for key, value in e.get("target", {}).items():
            lines.append(f"{key:<8} {value}\n")
        lines.append(f"mode     {mode_text(e)}\n")
        lines.append(f"run      {e['run_id']}", style="dim")
        if self.plain:
            self.console.print(Text("mediaops · ") + lines)
            return
        self.console.print(Panel(lines, title="mediaops", title_align="left", border_style="blue"))

    def _on_check(self, e: dict[str, Any]) -> None:
        mark, style = {"ok": ("✓", "green"), "failed": ("✗", "red"), "would_check": ("○", "blue"),
                       "concern": ("!", "yellow")}[e["status"]]
        detail = f" — {e['detail']}" if e.get("detail") else ""
        prefix = "would check: " if e["status"] == "would_check" else ""
        self.console.print(Text(f"  {mark} {prefix}{e['title']}{detail}", style=style if mark in "✗!" else ""))

    def _command(self, label: str, command: str) -> None:
        """A command as it pastes: on lines of its own, unbroken (soft wrap: the terminal folds it)."""
        self.console.print(Text(f"{label}:", style="dim"))
        for line in command.splitlines():
            self.console.print(Text(line, style="bold"), soft_wrap=True)

    def _on_step_plan(self, e: dict[str, Any]) -> None:
        body: list[Any] = []
        if e.get("why"):
            body.append(Text(e["why"], style="italic"))
        if e.get("manual"):
            body.append(Text("\nBy hand:\n", style="bold magenta"))
            body.append(Text(e["manual"]))
        if e.get("diff"):
            body.append(Text("\nchanges:", style="dim"))
            body.append(_diff(e["diff"], self.plain))
        if e.get("verify"):
            body.append(Text(f"\nverify: {e['verify']}", style="dim"))
        kind = "manual step" if e.get("manual") else ("step" if e.get("mutates") else "read-only step")
        title = f"{kind} {e['index'] + 1}/{e['total']} · {e['title']}"
        if self.plain:
            self.console.print(Text(f"── {title}", style="bold cyan"))
            for part in body:
                self.console.print(part)
        else:
            self.console.print(Panel(Group(*body), title=title, title_align="left", border_style="cyan"))
        if e.get("command"):
            self._command("command", e["command"])

    def _on_details(self, e: dict[str, Any]) -> None:
        body: list[Any] = [Text(e.get("why", ""))]
        if e.get("verify"):
            body.append(Text(f"\nverify: {e['verify']}"))
        if e.get("undo"):
            body.append(Text(f"\nundo: {e['undo']}"))
        if e.get("diff"):
            body.append(_diff(e["diff"], self.plain))
        if self.plain:
            for part in body:
                self.console.print(part)
        else:
            self.console.print(Panel(Group(*body), title="details", title_align="left", border_style="dim"))
        for label in ("command", "undo_command"):
            if e.get(label):
                self._command(label.replace("_", " "), e[label])

    def _on_log(self, e: dict[str, Any]) -> None:
        self._stop_spinner()
        self.console.print(Text(f"    │ {e['message']}", style="dim"))

    def _on_wait_start(self, e: dict[str, Any]) -> None:
        self._last_status = ""
        if not self.console.is_terminal:
            self.console.print(Text(f"    … waiting: {e['label']}"))
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            # markup off: a label or status from the cluster ("containers with unready status: [tautulli]")
            # is shown as it is, brackets and all, never read as rich styles
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[status]}", style="dim", markup=False),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._task = self._progress.add_task(e["label"], total=None, status="")
        self._progress.start()

    def _on_wait_progress(self, e: dict[str, Any]) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task, status=e.get("status", ""), completed=e.get("completed"), total=e.get("total")
            )
        elif e.get("status") and e["status"] != self._last_status:
            self.console.print(Text(f"    │ {e['status']}", style="dim"))
        self._last_status = e.get("status", "")

    def _on_wait_end(self, e: dict[str, Any]) -> None:
        self._stop_spinner()
        mark = "✓" if e["outcome"] == "done" else "✗"
        self.console.print(Text(f"    {mark} {e['label']} ({e['duration']:.1f}s)", style="dim"))

    def _stop_spinner(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _on_step_start(self, e: dict[str, Any]) -> None:
        self._steps[e["index"]] = {"title": e["title"], "outcome": "running", "duration": None}

    def _on_step_end(self, e: dict[str, Any]) -> None:
        self._stop_spinner()
        self._steps[e["index"]] = {
            "title": e["title"],
            "outcome": e["outcome"],
            "duration": e.get("duration"),
            "note": e.get("error") or e.get("summary") or "",
        }
        mark, style = OUTCOME_STYLE.get(e["outcome"], ("·", "dim"))
        label = e["outcome"].replace("_", " ")
        note = e.get("error") or e.get("summary") or ""
        duration = f" ({e['duration']:.1f}s)" if e.get("duration") is not None else ""
        self.console.print(Text(f"  {mark} {label}{duration}" + (f": {note}" if note else ""), style=style))

    def _on_undo_start(self, e: dict[str, Any]) -> None:
        self.console.print(Text(f"  ↺ undo step {e['index'] + 1}: {e['title']}", style="yellow"))

    def _on_undo_end(self, e: dict[str, Any]) -> None:
        mark, style = OUTCOME_STYLE.get(e["outcome"], ("·", "dim"))
        note = f": {e['error']}" if e.get("error") else ""
        self.console.print(Text(f"    {mark} undo {e['outcome']}{note}", style=style))
        if e["index"] in self._steps and e["outcome"] == "done":
            self._steps[e["index"]]["outcome"] = "undone"

    def _on_warning(self, e: dict[str, Any]) -> None:
        self._stop_spinner()
        self.console.print(Text(f"⚠ {e['message']}", style="bold red"))

    def _on_follow_up(self, e: dict[str, Any]) -> None:
        if self.plain:
            self.console.print(Text(f"to do by hand: {e['title']}\n{e['instructions']}", style="magenta"))
            return
        self.console.print(Panel(Text(e["instructions"]), title=f"to do by hand: {e['title']}", border_style="magenta"))

    def _on_run_end(self, e: dict[str, Any]) -> None:
        self._stop_spinner()
        if self._steps:
            from rich import box

            table = Table(title="summary", title_justify="left", show_edge=False,
                          box=box.SIMPLE if self.plain else box.HEAVY_HEAD)
            for header, right in COLUMNS:  # the plain view draws the same columns
                table.add_column(header, justify="right" if right else "left")
            for index, step in sorted(self._steps.items()):
                mark, style = OUTCOME_STYLE.get(step["outcome"], ("↺", "yellow"))
                duration = f"{step['duration']:.1f}s" if step.get("duration") is not None else ""
                outcome = Text(f"{mark} {step['outcome'].replace('_', ' ')}", style=style)
                table.add_row(str(index + 1), Text(step["title"]), outcome, duration)
            self.console.print(table)
        status = e["status"]
        style = "green" if status in ("done", "dry-run", "nothing-to-do") else "red"
        message = e.get("message") or status
        self.console.print(Text(f"{message}", style=f"bold {style}"))
        if e.get("resume"):
            self.console.print(Text(f"resume with: {e['resume']}", style="bold"))
        if e.get("undo"):
            self.console.print(Text(f"or undo what it did: {e['undo']}", style="bold"))


def _diff(text: str, plain: bool) -> Syntax | Text:
    """A diff, coloured at a terminal; as it is where nothing is coloured (a pipe, a log), which also spares the
    highlighter (pygments, 15 ms a run)."""
    if plain:
        return Text(text)
    from rich.syntax import Syntax

    return Syntax(text, "diff", background_color="default")
