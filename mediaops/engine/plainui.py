"""The reader of the event stream where nothing is coloured (a pipe, a log file, cron's mail): the lines the terminal's
view prints there (engine/richui.py in its plain mode), written without importing rich (some 30 ms of every run).

A line is never wrapped, as rich's soft wrap leaves it; tabs become spaces to the next multiple of eight, as rich
expands them. The summary table is drawn as rich draws it (box.SIMPLE, no edge: one space of padding each side of a
cell, a space between columns, a rule under the header) when it fits the width rich would give it; when it does not
(rich would wrap the titles), or a cell holds a character whose width on a terminal is not plainly one column, rich
draws it."""

from __future__ import annotations

import os
import sys
from typing import Any

MARKS = {
    "done": "✓", "not_needed": "=", "skipped": "↷", "would_run": "○", "todo": "☐", "failed": "✗",
    "interrupted": "!", "pending": "·",
}  # each outcome's mark; richui.OUTCOME_STYLE adds the colours
NARROW = set("✓=↷○☐✗!·↺")  # the marks, one column each on a terminal as rich counts them
COLUMNS = (("#", True), ("step", False), ("outcome", False), ("time", True))  # (header, right-justified)
# The control characters rich's Text leaves out (rich/control.py strip_control_codes): bell, backspace, vertical
# tab, form feed, carriage return.
STRIPPED = {7: None, 8: None, 11: None, 12: None, 13: None}


def mode_text(e: dict[str, Any]) -> str:
    """How a run goes, as its header says it (a run_start event): both views print this."""
    mode = e.get("mode", "")
    text = {"dry-run": "dry run: nothing will be changed", "yes": "unattended (--yes)"}.get(mode, mode)
    if e.get("undo"):
        text += " · undoing its completed steps, most recent first"
    elif e.get("resumed"):
        text += f" · resuming at step {e.get('resume_at', 0) + 1}"
    return text


def plain_output(stream: Any = None) -> bool:
    """Whether rich would print to ``stream`` (stdout) as to something that is not a terminal (rich/console.py
    Console.is_terminal: TTY_COMPATIBLE, then FORCE_COLOR, then isatty)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force == ""
    isatty = getattr(stream or sys.stdout, "isatty", None)
    try:
        return not (isatty is not None and isatty())
    except ValueError:  # a closed file
        return True


def console_width() -> int:
    """The width rich gives a console (rich/console.py Console.size): COLUMNS, else the terminal's of stdin, stdout
    or stderr, else 80."""
    width = 0
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


class PlainUI:
    """The plain lines of a run: the header, each check, step, command, wait and outcome, then the summary."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream
        self._last_status = ""
        self._steps: dict[int, dict[str, Any]] = {}

    def _print(self, text: str = "") -> None:
        text = text.translate(STRIPPED)
        if "\t" in text and not text.isascii():  # a tab after a wide character: columns as rich counts them
            from rich.text import Text

            expanded = Text(text)
            expanded.expand_tabs(8)
            text = expanded.plain
        stream = self.stream or sys.stdout
        stream.write(text.expandtabs(8) + "\n")
        stream.flush()

    def handle(self, event: dict[str, Any]) -> None:
        handler = getattr(self, "_on_" + event["event"], None)
        if handler:
            handler(event)

    def _on_run_start(self, e: dict[str, Any]) -> None:
        params = ", ".join(f"{k}={v}" for k, v in e.get("params", {}).items() if v not in (None, False))
        lines = [f"mediaops · {e['runbook']} · {e.get('summary', '')}", f"params   {params or '—'}"]
        lines += [f"{key:<8} {value}" for key, value in e.get("target", {}).items()]
        lines += [f"mode     {mode_text(e)}", f"run      {e['run_id']}"]
        self._print("\n".join(lines))

    def _on_check(self, e: dict[str, Any]) -> None:
        mark = {"ok": "✓", "failed": "✗", "would_check": "○", "concern": "!"}[e["status"]]
        detail = f" — {e['detail']}" if e.get("detail") else ""
        prefix = "would check: " if e["status"] == "would_check" else ""
        self._print(f"  {mark} {prefix}{e['title']}{detail}")

    def _command(self, label: str, command: str) -> None:
        self._print(f"{label}:")
        for line in command.splitlines():
            self._print(line)

    def _on_step_plan(self, e: dict[str, Any]) -> None:
        kind = "manual step" if e.get("manual") else ("step" if e.get("mutates") else "read-only step")
        self._print(f"── {kind} {e['index'] + 1}/{e['total']} · {e['title']}")
        if e.get("why"):
            self._print(e["why"])
        if e.get("manual"):
            self._print("\nBy hand:\n")
            self._print(e["manual"])
        if e.get("diff"):
            self._print("\nchanges:")
            self._print(e["diff"])
        if e.get("verify"):
            self._print(f"\nverify: {e['verify']}")
        if e.get("command"):
            self._command("command", e["command"])

    def _on_details(self, e: dict[str, Any]) -> None:
        self._print(e.get("why", ""))
        if e.get("verify"):
            self._print(f"\nverify: {e['verify']}")
        if e.get("undo"):
            self._print(f"\nundo: {e['undo']}")
        if e.get("diff"):
            self._print(e["diff"])
        for label in ("command", "undo_command"):
            if e.get(label):
                self._command(label.replace("_", " "), e[label])

    def _on_log(self, e: dict[str, Any]) -> None:
        self._print(f"    │ {e['message']}")

    def _on_wait_start(self, e: dict[str, Any]) -> None:
        self._last_status = ""
        self._print(f"    … waiting: {e['label']}")

    def _on_wait_progress(self, e: dict[str, Any]) -> None:
        if e.get("status") and e["status"] != self._last_status:
            self._print(f"    │ {e['status']}")
        self._last_status = e.get("status", "")

    def _on_wait_end(self, e: dict[str, Any]) -> None:
        mark = "✓" if e["outcome"] == "done" else "✗"
        self._print(f"    {mark} {e['label']} ({e['duration']:.1f}s)")

    def _on_step_start(self, e: dict[str, Any]) -> None:
        self._steps[e["index"]] = {"title": e["title"], "outcome": "running", "duration": None}

    def _on_step_end(self, e: dict[str, Any]) -> None:
        note = e.get("error") or e.get("summary") or ""
        self._steps[e["index"]] = {"title": e["title"], "outcome": e["outcome"], "duration": e.get("duration"),
                                   "note": note}
        label = e["outcome"].replace("_", " ")
        duration = f" ({e['duration']:.1f}s)" if e.get("duration") is not None else ""
        self._print(f"  {MARKS.get(e['outcome'], '·')} {label}{duration}" + (f": {note}" if note else ""))

    def _on_undo_start(self, e: dict[str, Any]) -> None:
        self._print(f"  ↺ undo step {e['index'] + 1}: {e['title']}")

    def _on_undo_end(self, e: dict[str, Any]) -> None:
        note = f": {e['error']}" if e.get("error") else ""
        self._print(f"    {MARKS.get(e['outcome'], '·')} undo {e['outcome']}{note}")
        if e["index"] in self._steps and e["outcome"] == "done":
            self._steps[e["index"]]["outcome"] = "undone"

    def _on_warning(self, e: dict[str, Any]) -> None:
        self._print(f"⚠ {e['message']}")

    def _on_follow_up(self, e: dict[str, Any]) -> None:
        self._print(f"to do by hand: {e['title']}\n{e['instructions']}")

    def _on_run_end(self, e: dict[str, Any]) -> None:
        if self._steps:
            rows = [[str(index + 1), step["title"],
                     f"{MARKS.get(step['outcome'], '↺')} {step['outcome'].replace('_', ' ')}",
                     f"{step['duration']:.1f}s" if step.get("duration") is not None else ""]
                    for index, step in sorted(self._steps.items())]
            self._print(summary(rows, console_width()).rstrip("\n"))
        self._print(e.get("message") or e["status"])
        if e.get("resume"):
            self._print(f"resume with: {e['resume']}")
        if e.get("undo"):
            self._print(f"or undo what it did: {e['undo']}")


def summary(rows: list[list[str]], width: int) -> str:
    """The summary table, as rich draws it at ``width`` (box.SIMPLE, no edge, title "summary" on the left)."""
    cells = [[header for header, _ in COLUMNS], *rows]
    sizes = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    total = sum(size + 2 for size in sizes) + len(COLUMNS) - 1
    simple = all((c.isascii() and c.isprintable()) or c in NARROW for row in rows for cell in row for c in cell)
    if total > width or not simple:
        return _drawn_by_rich(rows, width)

    def line(row: list[str]) -> str:
        return " ".join(" " + (cell.rjust(size) if right else cell.ljust(size)) + " "
                        for cell, size, (_, right) in zip(row, sizes, COLUMNS, strict=True))

    return "\n".join(["summary", line(cells[0]), "─" * total, *(line(row) for row in rows)])


def _drawn_by_rich(rows: list[list[str]], width: int) -> str:
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="summary", title_justify="left", show_edge=False, box=box.SIMPLE)
    for header, right in COLUMNS:
        table.add_column(header, justify="right" if right else "left")
    for row in rows:
        table.add_row(*row)
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, emoji=False, markup=False, force_terminal=False)
    console.soft_wrap = True  # as the terminal view prints where nothing is coloured
    console.print(table)
    return out.getvalue()
