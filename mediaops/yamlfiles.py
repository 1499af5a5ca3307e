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
from typing import Any, ClassVar

import yaml

from mediaops.errors import UsageError

# Flux post-build substitution (fluxcd/pkg/envsubst): ${VAR}, ${VAR:=default}, ${VAR:-default}, ${VAR=d},
# ${VAR-d}, ${VAR/from/to}; ``$${VAR}`` is the escape and renders as ``${VAR}``.
VARIABLE = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=][^}]*|/[^}]*)?\}")


class YamlError(UsageError):
    """YAML that Go's parser rejects too, reported with file and line."""


# -- YAML as Flux reads it -------------------------------------------------------------------------------
# Flux, kustomize and kubectl read YAML with Go's go-yaml (kustomize's kyaml: gopkg.in/yaml.v3, then
# sigs.k8s.io/yaml on the way to JSON). Its resolver (yaml.v3 resolve.go) is YAML 1.2's core schema
# with a few YAML 1.1 keepsakes, and differs from PyYAML's YAML 1.1 resolver in what matters here:
# - booleans are only true/True/TRUE/false/False/FALSE: ``yes``, ``no``, ``on``, ``off``, ``y``, ``n``
#   are strings (an ``on:`` key stays the string "on");
# - integers are what strconv.ParseInt(s, 0, 64) takes after removing ``_``: 0x1F, 0o17, 0b101 and
#   the YAML 1.1 octal 0777; no sexagesimal (``1:20`` is a string);
# - floats match ``[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`` or .inf/.nan;
# - timestamps decoded into an interface stay strings (yaml.v2/v3 decode.go: "for backward
#   compatibility reasons we set it as a string"); ``=`` is a plain string (PyYAML's ``value`` tag);
# - an anchor defined twice is allowed, the later definition wins for later aliases;
# - a tag go-yaml does not know (``!secret``) leaves the value as it is; ``!!binary`` decodes to text.
_NUMBER_TAG = "tag:mediaops,2026:go-number"
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL = {".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
            "+.inf": float("inf"), "+.Inf": float("inf"), "+.INF": float("inf"),
            "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
            ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan")}


def go_scalar(text: str) -> Any:
    """A plain scalar that starts like a number, resolved as go-yaml does (int, float or string)."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    plain = text.replace("_", "")
    body = plain.lstrip("+-")
    sign = -1 if plain.startswith("-") else 1
    if plain[:1] in "+-" and body[:1] in "+-":
        return text
    try:
        if body[:2] in ("0x", "0X"):
            return sign * int(body[2:], 16)
        if body[:2] in ("0o", "0O"):
            return sign * int(body[2:], 8)
        if body[:2] in ("0b", "0B"):
            return sign * int(body[2:], 2)
        if len(body) > 1 and body[0] == "0" and body.isdigit():
            return sign * int(body, 8)
        if body.isdigit():
            return sign * int(body, 10)
    except ValueError:
        pass
    if _GO_FLOAT.fullmatch(plain):
        return float(plain)
    return text


def _go_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _loader_class(base: Any) -> Any:
    class GoLoader(base):
        yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}
        yaml_constructors: ClassVar[dict[Any, Any]] = dict(base.yaml_constructors)
        yaml_multi_constructors: ClassVar[dict[Any, Any]] = dict(base.yaml_multi_constructors)

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
            # Keys are strings once Flux's objects become JSON (sigs.k8s.io/yaml YAMLToJSON): ``1:`` and
            # ``true:`` are the keys "1" and "true", never Python's 1 == True collision.
            self.flatten_mapping(node)
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                mapping[key if isinstance(key, str) else _go_key(key)] = self.construct_object(value_node, deep=deep)
            return mapping

    resolve = GoLoader.add_implicit_resolver
    resolve("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    resolve("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
    resolve(_NUMBER_TAG, re.compile(r"^[-+.0-9][-+.0-9a-zA-Z_]*$"), list("-+.0123456789"))
    resolve("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

    def number(loader: Any, node: Any) -> Any:
        return go_scalar(loader.construct_scalar(node))

    def boolean(loader: Any, node: Any) -> bool:
        return str(loader.construct_scalar(node)).lower() == "true"

    def text(loader: Any, node: Any) -> str:
        return str(loader.construct_scalar(node))

    def binary(loader: Any, node: Any) -> str:
        import base64

        raw = "".join(str(loader.construct_scalar(node)).split())
        try:
            return base64.b64decode(raw).decode("utf-8", "replace")
        except ValueError:
            return raw

    def untagged(loader: Any, suffix: str, node: Any) -> Any:

        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    GoLoader.add_constructor(_NUMBER_TAG, number)
    GoLoader.add_constructor("tag:yaml.org,2002:bool", boolean)
    GoLoader.add_constructor("tag:yaml.org,2002:timestamp", text)
    GoLoader.add_constructor("tag:yaml.org,2002:binary", binary)
    GoLoader.add_constructor("tag:yaml.org,2002:value", text)
    GoLoader.add_multi_constructor("!", untagged)
    GoLoader.add_multi_constructor("tag:", untagged)
    return GoLoader


@lru_cache(maxsize=1)
def _loaders() -> tuple[Any, Any]:
    """(fast, tolerant): libyaml when PyYAML has it; a pure-Python loader that accepts redefined anchors."""
    from yaml.events import AliasEvent

    fast = _loader_class(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    tolerant = _loader_class(yaml.SafeLoader)

    def compose_node(self: Any, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if not isinstance(event, AliasEvent) and event.anchor is not None:
            self.anchors.pop(event.anchor, None)  # a redefined anchor replaces the earlier one
        return yaml.composer.Composer.compose_node(self, parent, index)

    tolerant.compose_node = compose_node
    return fast, tolerant


def parse_all(text: str) -> list[Any]:
    """Every document of a YAML text as Go's YAML reads it (empty documents dropped)."""

    fast, tolerant = _loaders()
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return [doc for doc in yaml.load_all(text, Loader=fast) if doc is not None]
    except yaml.composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            raise
    return [doc for doc in yaml.load_all(text, Loader=tolerant) if doc is not None]


def parse(text: str) -> Any:
    """The first document of a YAML text (None when it has none)."""
    docs = parse_all(text)
    return docs[0] if docs else None


def describe_error(shown: Path | str, exc: Exception) -> str:
    """``file:line: malformed YAML: what`` for YAML that Go's parser rejects too."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context and problem and context not in problem:
        problem = f"{problem} ({context})"
    return f"{shown}{line}: malformed YAML: {problem}"


def _where(path: Path, exc: Exception, root: Path | None) -> str:
    return describe_error(path.relative_to(root) if root and path.is_relative_to(root) else path, exc)


@lru_cache(maxsize=4096)
def _read(path: Path, mtime: int) -> str:
    return path.read_bytes().decode("utf-8-sig", "replace")


def read_text(path: Path) -> str:
    return _read(path, path.stat().st_mtime_ns)


def load_all(path: Path, root: Path | None = None) -> list[Any]:
    """Every document of a YAML file (empty ones dropped); YAML that Go rejects too is one line with file:line.

    Parsed documents are cached by path and modification time; callers must not modify them.
    """

    try:
        return _parse(path, path.stat().st_mtime_ns)
    except yaml.YAMLError as exc:
        raise YamlError(_where(path, exc, root), hint="fix the file, then run again") from None


@lru_cache(maxsize=8192)
def _parse(path: Path, mtime: int) -> list[Any]:
    return parse_all(_read(path, mtime))


def variable_uses(text: str) -> list[tuple[str, bool]]:
    """(name, has a default) of each ``${VAR}`` Flux post-build substitution would fill in."""
    return [(m[2], bool(m[3]) and m[3][:1] != "/") for m in VARIABLE.finditer(text) if not m[1]]


def variables(text: str) -> set[str]:
    """The ``${VAR}`` names Flux post-build substitution would fill in (``${VAR:=default}`` included)."""
    return {name for name, _ in variable_uses(text)}


def substitute_known(text: str, values: dict[str, str]) -> str:
    """Fill in the variables that have a value or a default; leave the rest (and escapes) as written."""

    def replace(match: re.Match[str]) -> str:
        escaped, name, op = match[1], match[2], match[3] or ""
        if escaped:
            return match[0]
        if name in values:
            if op.startswith("/"):
                old, _, new = op[1:].partition("/")
                return values[name].replace(old, new, 1)
            return values[name]
        if op[:1] in (":", "-", "="):
            return op.lstrip(":")[1:]
        return match[0]

    # A default may itself be a variable (${KOPIUR_CLAIM:=${APP}}): the inner one is filled in first.
    for _ in range(4):
        after = VARIABLE.sub(replace, text)
        if after == text:
            break
        text = after
    return text


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
    empty = re.compile(rf"^{re.escape(key)}:[ \t]*(?:\[\s*\]|null|~)?[ \t]*(?:#.*)?(\r?\n|$)", re.MULTILINE)
    from ruamel.yaml import YAML

    data = YAML(typ="rt").load(text)
    match = empty.search(text) if isinstance(data, dict) and key in data and not data[key] else None
    if match:  # an empty list (the last app was deactivated): it becomes a list of one
        newline = match.group(1) or "\n"
        return text[:match.start()] + f"{key}:{newline}  - {entry}{newline}" + text[match.end():]
    items, values = _sequence(text, key, where)
    if entry in values:
        return text
    lines = text.splitlines(keepends=True)
    if not values:
        raise YamlError(f"{where}: the {key!r} list is empty", hint=f"add {entry} by hand once")
    # Entries that head the list and are not like the new one (``./namespace.yaml`` before the apps' ks.yaml)
    # stay where they are; the rest is sorted or not, and the entry goes where sorting puts it.
    suffix = entry.rpartition("/")[2]
    head = next((i for i, v in enumerate(values) if v.rpartition("/")[2] == suffix), len(values))
    rest = values[head:]
    sorted_list = rest == sorted(rest)
    position = (next((head + i for i, v in enumerate(rest) if v > entry), len(values)) if sorted_list
                else len(values))
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
    """Remove the line holding ``entry`` from the top-level list ``key``; everything else stays. A list
    that is already empty (its last entry removed) has nothing to remove."""
    from ruamel.yaml import YAML

    data = YAML(typ="rt").load(text)
    if isinstance(data, dict) and key in data and not data[key]:
        return text
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
