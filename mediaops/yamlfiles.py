"""YAML as a Flux repository holds it: multi-document files, anchors, schema comments, non-Kubernetes files.

Reading uses PyYAML's C loader (fast, for inventories of hundreds of apps); editing uses ruamel.yaml's
round-trip mode so comments, key order and the ``---`` header survive and the rest of the file stays
byte-identical.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mediaops.errors import UsageError

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:=/][^}]*)?\}")


class YamlError(UsageError):
    """Malformed YAML, reported with file and line."""


def _where(path: Path, exc: yaml.YAMLError, root: Path | None) -> str:
    shown = path.relative_to(root) if root and path.is_relative_to(root) else path
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{shown}{line}: malformed YAML: {problem}"


@lru_cache(maxsize=4096)
def _read(path: Path, mtime: float) -> str:
    return path.read_text(encoding="utf-8")


def read_text(path: Path) -> str:
    return _read(path, path.stat().st_mtime)


def load_all(path: Path, root: Path | None = None) -> list[Any]:
    """Every document of a YAML file (empty ones dropped); malformed YAML is one line with file:line.

    Parsed documents are cached by path and modification time; callers must not modify them.
    """
    try:
        return _parse(path, path.stat().st_mtime_ns)
    except yaml.YAMLError as exc:
        raise YamlError(_where(path, exc, root), hint="fix the file, then run again") from None


@lru_cache(maxsize=4096)
def _parse(path: Path, mtime: int) -> list[Any]:
    return [doc for doc in yaml.load_all(read_text(path), Loader=_Loader) if doc is not None]


def load_one(path: Path, root: Path | None = None) -> Any:
    docs = load_all(path, root)
    return docs[0] if docs else None


def variables(text: str) -> set[str]:
    """The ``${VAR}`` names Flux post-build substitution would fill in (``${VAR:=default}`` included)."""
    return set(VARIABLE.findall(text))


def is_kind(doc: Any, kind: str, group: str | None = None) -> bool:
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        return False
    api = str(doc.get("apiVersion", ""))
    return group is None or api.startswith(group + "/")


def round_trip() -> Any:
    """A ruamel YAML instance that keeps comments, order, quotes and the document header."""
    from ruamel.yaml import YAML

    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = 4096
    handler.indent(mapping=2, sequence=4, offset=2)
    handler.explicit_start = False
    return handler


def dump_round_trip(handler: Any, data: Any) -> str:
    buffer = io.StringIO()
    handler.dump(data, buffer)
    return buffer.getvalue()


def _sequence(text: str, key: str, where: str) -> tuple[Any, list[str]]:
    from ruamel.yaml.error import YAMLError as RuamelError

    try:
        data = round_trip().load(text)
    except RuamelError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise YamlError(f"{where}{line}: malformed YAML", hint="fix the file, then run again") from None
    if not isinstance(data, dict):
        raise YamlError(f"{where}: expected a mapping")
    items = data.get(key)
    if items is None:
        raise YamlError(f"{where}: has no {key!r} list", hint=f"add `{key}:` with the list of entries")
    return items, [str(item) for item in items]


def add_list_entry(text: str, key: str, entry: str, where: str) -> str:
    """Insert ``entry`` into the top-level list ``key`` (sorted position if the list is sorted).

    ruamel.yaml finds the list and its lines; the new line copies the indentation of its neighbours,
    and every other byte of the file is left exactly as it was.
    """
    items, values = _sequence(text, key, where)
    if entry in values:
        return text
    lines = text.splitlines(keepends=True)
    if not values:
        raise YamlError(f"{where}: the {key!r} list is empty", hint=f"add {entry} by hand once")
    sorted_list = values == sorted(values)
    position = next((i for i, v in enumerate(values) if v > entry), len(values)) if sorted_list else len(values)
    anchor = position if position < len(values) else len(values) - 1
    line_no, column = items.lc.item(anchor)
    prefix = lines[line_no][:column]
    if not prefix.strip().startswith("-"):
        raise YamlError(f"{where}: the {key!r} list is not one entry per line", hint=f"add {entry} by hand")
    newline = "\n" if not lines[line_no].endswith("\r\n") else "\r\n"
    new_line = f"{prefix}{entry}{newline}"
    insert_at = line_no if position < len(values) else line_no + 1
    if insert_at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    lines.insert(insert_at, new_line)
    return "".join(lines)


def remove_list_entry(text: str, key: str, entry: str, where: str) -> str:
    """Remove the line holding ``entry`` from the top-level list ``key``; everything else stays."""
    items, values = _sequence(text, key, where)
    if entry not in values:
        return text
    line_no, column = items.lc.item(values.index(entry))
    lines = text.splitlines(keepends=True)
    if not lines[line_no][:column].strip().startswith("-"):
        raise YamlError(f"{where}: the {key!r} list is not one entry per line", hint=f"remove {entry} by hand")
    del lines[line_no]
    return "".join(lines)


def set_scalar(text: str, path: list[str | int], value: str, where: str) -> str:
    """Replace one scalar value, found by its key path, keeping its quotes and every other byte.

    ruamel.yaml locates the value's line and column; only that value's text changes. Anchored values
    (``tag: &tag 1.0``) keep their anchor.
    """
    data = round_trip().load(text)
    node = data
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise YamlError(f"{where}: has no {'.'.join(str(p) for p in path)}") from None
    last = path[-1]
    try:
        current = node[last]
        line, column = node.lc.value(last) if isinstance(last, str) else node.lc.item(last)
    except (KeyError, IndexError, TypeError, AttributeError):
        raise YamlError(f"{where}: has no {'.'.join(str(p) for p in path)}") from None
    lines = text.splitlines(keepends=True)
    rest = lines[line][column:]
    old = str(current)
    quote = rest[0] if rest[:1] in ("'", '"') else ""
    anchor = ""
    if rest.startswith("&"):
        anchor, _, rest = rest.partition(" ")
        anchor += " "
        quote = rest[0] if rest[:1] in ("'", '"') else ""
    token = f"{quote}{old}{quote}"
    if not rest.startswith(token):
        raise YamlError(f"{where}:{line + 1}: the value of {path[-1]} is not a plain scalar", hint="edit it by hand")
    lines[line] = lines[line][:column] + anchor + f"{quote}{value}{quote}" + rest[len(token):]
    return "".join(lines)
