"""Tables of many rows (``apps`` over hundreds of apps), drawn as rich draws its tables but in a fraction of the
time: rich measures and renders every cell as segments, which costs more than reading the repository itself.

The look is rich's default table without its edge: a header row, ``━`` under it, ``│`` between columns, one
space of padding. Columns take their natural width; when the line is wider than the terminal, the widest
wrappable column gives way first, down to its longest word (at most 12: longer words are cut with ``…``), then
further down to their header, then the unwrappable ones (an app's name) last, cut with ``…``; cells wrap on words.
Colour only on a terminal, never with NO_COLOR (https://no-color.org), as rich decides.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

STYLES = {"green": "32", "dim": "2", "dim italic": "2;3", "bold red": "1;31", "red": "31", "yellow": "33",
          "bold": "1", "bold white on red": "1;37;41"}


class Column(NamedTuple):  # tuples, not dataclasses: a dataclass costs a command 0.5 ms to define
    header: str
    wrap: bool = True  # gives way first, its cells wrapped on words
    lines: int = 0  # at most this many lines (1: the cell cut to the line with …); 0: as many as it takes


class Cell(NamedTuple):
    text: str
    style: str = ""


def width() -> int:
    """The terminal's width as shutil.get_terminal_size reads it (COLUMNS first, as rich does too), 80 when there is
    no terminal; without importing shutil (2 ms of `mediaops list`)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no standard output (None), or not a terminal
        return 80


def colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _cut(word: str, size: int) -> str:
    return word if len(word) <= size else word[: max(size - 1, 0)] + "…"


def _lines(text: str, size: int, wrap: bool, most: int = 0) -> list[str]:
    if most == 1:
        return [_cut(" ".join(text.split()), size)]
    if not wrap:
        return [_cut(line, size) for line in text.splitlines() or [""]]
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = " ".join(_cut(w, size) for w in paragraph.split())
        if len(line) <= size:  # what textwrap would make of it: most cells fit
            out.append(line)
            continue
        import textwrap

        out += textwrap.wrap(line, size, break_long_words=False, break_on_hyphens=False)
    return out


def _widths(columns: list[Column], rows: list[list[Cell]], total: int, plain: bool = False) -> list[int]:
    natural = [max([len(c.header)] + [max((len(x) for x in r[i].text.splitlines()), default=0) for r in rows])
               for i, c in enumerate(columns)]
    least = [max([len(c.header)] + [max((len(w) for w in r[i].text.split()), default=0) for r in rows])
             if c.wrap else natural[i] for i, c in enumerate(columns)]
    least = [min(w, 12) if columns[i].wrap else w for i, w in enumerate(least)]  # long words are cut with …
    widths = list(natural)
    room = total - 3 * (len(columns) - 1) - (0 if plain else 2)  # " │ " (or 3 spaces) between, a space at each end
    while sum(widths) > room:
        shrinkable = [i for i, c in enumerate(columns) if c.wrap and widths[i] > max(least[i], 1)]
        if not shrinkable:  # then wrappable ones below their longest word (words cut with …), to their header
            shrinkable = [i for i, c in enumerate(columns) if c.wrap and widths[i] > max(len(c.header), 6)]
        if not shrinkable:  # then the others, their cells cut with …, down to their header
            shrinkable = [i for i, c in enumerate(columns) if widths[i] > max(len(c.header), 4)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def paint(text: str, style: str, size: int = 0, styled: bool | None = None) -> str:
    """``text`` padded to ``size`` in ``style`` (one of STYLES) when colour is on."""
    padded = text.ljust(size)
    code = STYLES.get(style, "") if (colour() if styled is None else styled) else ""
    return f"\x1b[{code}m{padded}\x1b[0m" if code else padded


def render(columns: list[Column], rows: list[list[Cell]], *, total: int | None = None,
           styled: bool | None = None, plain: bool = False) -> str:
    """The table; ``plain``: kubectl get's look (a rule under the header, three spaces between columns, no edge)."""
    total = width() if total is None else total
    styled = colour() if styled is None else styled
    widths = _widths(columns, rows, total, plain)
    if plain:
        edge, between = "", "   "
        header = paint(between.join(c.header.ljust(widths[i]) for i, c in enumerate(columns)).rstrip(), "bold",
                       styled=styled)
        rule = "─" * min(total, sum(widths) + len(between) * (len(columns) - 1))
    else:
        edge, between = " ", " │ "
        header = edge + " ┃ ".join(paint(c.header, "bold", widths[i], styled) for i, c in enumerate(columns))
        rule = "━" + "━╇━".join("━" * w for w in widths) + "━"
    out = [header.rstrip(), rule]
    for row in rows:
        cells = [_lines(cell.text, widths[i], columns[i].wrap, columns[i].lines) for i, cell in enumerate(row)]
        for line in range(max(len(c) for c in cells)):
            parts = [paint(c[line] if line < len(c) else "", row[i].style, widths[i], styled)
                     for i, c in enumerate(cells)]
            out.append((edge + between.join(parts)).rstrip())
    return "\n".join(out) + "\n"
