"""YAML as a Flux repository holds it: multi-document files, anchors, schema comments, non-Kubernetes files.

Reading uses PyYAML's C loader (fast, for inventories of hundreds of apps); editing uses ruamel.yaml's
round-trip mode so comments, key order and the ``---`` header survive and the rest of the file stays
byte-identical.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

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
_STR, _NULL, _BOOL, _MERGE, _SEQ, _MAP = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "merge", "seq",
                                                                             "map"))
_NUMBER_START = frozenset("-+.0123456789")
_NUMBER_RE = re.compile(r"[-+.0-9][-+.0-9a-zA-Z_]*\Z")
_BOOLS = frozenset(("true", "True", "TRUE", "false", "False", "FALSE"))
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
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
        value = float(plain)
        # Go's encoding/json writes an integral float64 as an integer (1e3 is 1000, 08 is 8): so does this
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
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
    import yaml

    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode

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

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            # The resolvers below, in one function: the C composer calls it for every node.
            if kind is scalar_node:
                if implicit[0]:
                    first = value[:1]
                    if first in _NUMBER_START and _NUMBER_RE.match(value):
                        return _NUMBER_TAG
                    if value in _BOOLS:
                        return _BOOL
                    if value in _NULLS:
                        return _NULL
                    if value == "<<":
                        return _MERGE
                return _STR
            return _SEQ if kind is sequence_node else _MAP

        def descend_resolver(self, _current_node: Any, _current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

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

    def set_(loader: Any, node: Any) -> dict[str, None]:
        return {str(k): None for k in loader.construct_mapping(node)}

    GoLoader.add_constructor("tag:yaml.org,2002:set", set_)
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
    """(fast, tolerant): libyaml when PyYAML has it; a pure-Python loader that accepts redefined anchors.

    PyYAML is imported here, on the first parse: a command whose files all come from the parse cache never needs it.
    """
    import yaml
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
    import yaml

    fast, tolerant = _loaders()
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _documents(fast(text))
    except yaml.composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            raise
    return _documents(tolerant(text))


def _documents(loader: Any) -> list[Any]:
    """Build each document from the composed nodes. The plain tags (string, number, bool, null, map, list,
    merge key) are built here directly, which is most of the cost PyYAML's generic constructor has;
    anything else (``!!binary``, ``!secret``, an explicit ``!!int``) goes through the loader's constructors."""
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                doc = _Builder(loader).build(node)
                if doc is not None:
                    docs.append(doc)
        return docs
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.built: dict[int, Any] = {}  # by node: an alias is the very node its anchor names

    def build(self, node: Any) -> Any:
        import yaml

        known = self.built.get(id(node))
        if known is not None:
            return known
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            value = node.value
            if tag == _STR:
                return value
            if tag == _NUMBER_TAG:
                return go_scalar(value)
            if tag == _NULL:
                return None
            if tag == _BOOL and value in ("true", "True", "TRUE", "false", "False", "FALSE"):
                return value[0] in "tT"
            return self.loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            self.built[id(node)] = items
            items.extend(self.build(item) for item in node.value)
            return items
        if not isinstance(node, yaml.MappingNode) or tag != "tag:yaml.org,2002:map":
            return self.loader.construct_object(node, deep=True)
        mapping: dict[str, Any] = {}
        self.built[id(node)] = mapping
        merges = []
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = self.build(key_node)
            if isinstance(key, (dict, list)):  # an unquoted {{ ... }} is a flow mapping: Go cannot key on it
                raise yaml.constructor.ConstructorError(None, None, "invalid map key (an unquoted Go template? "
                                                        "quote it)", key_node.start_mark)
            key = key if isinstance(key, str) else _go_key(key)
            if key in lines:  # kustomize (yaml.v3) refuses what PyYAML lets the last one win
                raise yaml.constructor.ConstructorError(None, None, f"mapping key {key!r} already defined at line "
                                                        f"{lines[key]}", key_node.start_mark)
            lines[key] = key_node.start_mark.line + 1
            mapping[key] = self.build(value_node)
        # ``<<: *base`` and ``<<: [*a, *b]``: keys of the mapping itself win, then a's over b's (YAML merge key)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                built = self.build(source)
                if isinstance(built, dict):
                    for key, value in built.items():
                        mapping.setdefault(key, value)
        return mapping


def parse(text: str) -> Any:
    """The first document of a YAML text (None when it has none), the caller's to change."""
    docs = parse_all(text)
    return docs[0] if docs else None


def parse_cached(text: str) -> Any:
    """``parse``, cached by text for readers that never change what they get (the inventory)."""
    docs = _parse_text(text)
    return docs[0] if docs else None


@lru_cache(maxsize=2048)
def _parse_text(text: str) -> list[Any]:
    """Kept in the disk cache too, keyed by the text itself: a patch written inline in a Kustomization is read on
    every command, as its file is."""
    return DISK_CACHE.through("text:" + text, len(text), 0, lambda: parse_all(text))


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


@lru_cache(maxsize=16384)
def _read(path: Path, mtime: int) -> str:
    return path.read_bytes().decode("utf-8-sig", "replace")


def read_text(path: Path) -> str:
    return _read(path, path.stat().st_mtime_ns)


def load_all(path: Path, root: Path | None = None) -> list[Any]:
    """Every document of a YAML file (empty ones dropped); YAML that Go rejects too is one line with file:line.

    Parsed documents are cached by path and modification time; callers must not modify them.
    """

    try:
        stat = path.stat()
        return _parse(path, stat.st_mtime_ns, stat.st_size)
    except yaml_error() as exc:
        raise YamlError(_where(path, exc, root), hint="fix the file, then run again") from None


def yaml_error() -> type[Exception]:
    """PyYAML's error, for ``except yaml_error()``: an except clause is evaluated only once something was raised,
    so a command whose files all come from the parse cache never imports PyYAML."""
    import yaml

    return yaml.YAMLError


@lru_cache(maxsize=8192)
def _parse(path: Path, mtime: int, size: int = -1) -> list[Any]:
    return DISK_CACHE.through(str(path), size, mtime, lambda: _parse_file(path))


class DiskCache:
    """Parsed files of one repository kept between runs, under the user's cache directory.

    An entry is the file's documents keyed by its path, size and modification time (``git checkout``
    rewrites a file and so its mtime: an entry is never used for other content; a file changed in the last two
    seconds is not kept) and by the reader's version. The commands that read the checkout attach it
    (``cli/repo.read_repository``), and so does a run (``cli/runbooks``), whose own edits give the files it
    changes a new time; a process that reads many checkouts (a test worker, the rehearsal) does not. It is
    written once, at exit, to a temporary file renamed into place, so concurrent runs each leave a whole file.
    """

    VERSION = 1  # bump when what the reader builds changes

    def __init__(self) -> None:
        self.path: Path | None = None
        self.entries: dict[str, tuple[int, int, list[Any]]] = {}
        self.used: set[str] = set()
        self.dirty = False
        self.whole_run = True  # False once the apps were read back (snapshot.py): ``used`` is not every file then

    def attach(self, root: Path) -> None:
        import atexit

        from mediaops.config import cache_dir, checkout_name, kept

        if self.path is not None:
            return
        base = cache_dir()
        # named after the checkout, to be found by eye; entries are keyed by absolute path, so two checkouts whose
        # names end the same only share a file
        self.path = base / f"parsed-{checkout_name(root)}-v{self.VERSION}.marshal"
        loaded = kept(self.path, self.VERSION)
        self.entries = loaded if isinstance(loaded, dict) else {}
        atexit.register(self.save)

    def get(self, key: str, size: int, mtime: int) -> list[Any] | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] != size or entry[1] != mtime:
            return None
        self.used.add(key)
        return entry[2]

    def put(self, key: str, size: int, mtime: int, docs: list[Any]) -> None:
        # A file changed less than RACY_NS ago is not kept: a filesystem's clock ticks every few milliseconds, so a
        # file written again within the tick, to the same size, would keep its size and time with other content
        # (git's "racily clean" entries, which it checks again for the same reason).
        if self.path is not None and size >= 0 and time.time_ns() - mtime >= RACY_NS:
            self.entries[key] = (size, mtime, docs)
            self.used.add(key)
            self.dirty = True

    def through(self, key: str, size: int, mtime: int, make: Any) -> list[Any]:
        """The entry for ``key`` at that size and time, else ``make()``, kept."""
        found = self.get(key, size, mtime)
        if found is None:
            found = make()
            self.put(key, size, mtime, found)
        return found

    def save(self) -> None:
        from mediaops.config import keep

        if not self.dirty or self.path is None:
            return
        entries = self.entries
        # files long gone: keep what this run read, when it read the whole inventory (not when the apps were kept)
        if self.whole_run and len(entries) > 2 * max(len(self.used), 1000):
            entries = {k: v for k, v in entries.items() if k in self.used}
        keep(self.path, self.VERSION, entries, most=KEPT_REPOSITORIES, pattern="parsed-*.marshal")
        self.dirty = False


RACY_NS = 2_000_000_000
KEPT_REPOSITORIES = 16  # the checkouts whose parsed files changed last; a seventeenth is parsed again, once
DISK_CACHE = DiskCache()


# A file's documents by its content's digest, for the process: a process that reads many copies of one
# repository (the rehearsal's, a test's) parses each content once. Read-only, as every parse result.
_BY_CONTENT: dict[bytes, list[Any]] = {}


def _parse_file(path: Path) -> list[Any]:
    import hashlib

    raw = path.read_bytes()
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    found = _BY_CONTENT.get(digest)
    if found is not None:
        return found
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # Go's YAML refuses it too ("invalid trailing UTF-8 octet")
        import yaml

        mark = yaml.Mark(str(path), exc.start, raw[:exc.start].count(b"\n"), 0, None, 0)
        raise yaml.MarkedYAMLError(problem="invalid UTF-8 (save the file as UTF-8)", problem_mark=mark) from None
    docs = parse_all(text)
    if len(_BY_CONTENT) < 16384:
        _BY_CONTENT[digest] = docs
    return docs


def variable_uses(text: str) -> list[tuple[str, bool]]:
    """(name, has a default) of each ``${VAR}`` Flux post-build substitution would fill in."""
    return [(m[2], bool(m[3]) and m[3][:1] != "/") for m in VARIABLE.finditer(text) if not m[1]]


def expand(text: str, values: dict[str, str], *, missing: str | None = None) -> str:
    """Flux's post-build substitution of ``text`` (fluxcd/pkg envsubst): ``${VAR}``, ``${VAR:-default}``,
    ``${VAR:=default}``, ``${VAR-default}``, ``${VAR=default}`` and ``${VAR/from/to}``, with defaults that
    are themselves substituted (``${KOPIUR_CLAIM:-${APP}}``); ``$${VAR}`` is the escape for ``${VAR}``.
    A variable with no value and no default becomes ``missing``, or stays as written when it is None."""
    out: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("${", i)
        if start < 0:
            out.append(text[i:])
            break
        end = _closing(text, start + 2)
        if end < 0:
            out.append(text[i:])
            break
        if start > i and text[start - 1] == "$":  # $${...}: the escape, rendered as ${...}
            out.append(text[i:start - 1] + text[start:end + 1])
            i = end + 1
            continue
        out.append(text[i:start])
        body = text[start + 2:end]
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(.*)\Z", body, re.S)
        if not match:
            out.append(text[start:end + 1])
        else:
            name, rest = match.groups()
            if rest.startswith("/") and name in values:
                old, _, new = rest[1:].partition("/")
                out.append(values[name].replace(old, new, 1))
            elif name in values and (rest == "" or rest[:1] in ":-=/"):
                out.append(values[name])
            elif rest[:2] in (":-", ":=") or rest[:1] in ("-", "="):
                out.append(expand(rest[2:] if rest[0] == ":" else rest[1:], values, missing=missing))
            elif rest == "" and missing is not None:
                out.append(missing)
            else:
                out.append(text[start:end + 1])
        i = end + 1
    return "".join(out)


def _closing(text: str, i: int) -> int:
    """The index of the ``}`` closing a ``${`` whose body starts at ``i`` (nested ``${…}`` counted)."""
    depth = 1
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


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
    commented = commented_out(lines, key, entry)
    if commented is not None:  # `# - ./overseerr.yaml`, as operators disable an app: it is uncommented in place
        line_no, column = items.lc.item(0)
        newline = "\r\n" if lines[commented].endswith("\r\n") else "\n" if lines[commented].endswith("\n") else ""
        lines[commented] = f"{lines[line_no][:column]}{entry}{newline}"
        return "".join(lines)
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


def commented_out(lines: list[str], key: str, entry: str) -> int | None:
    """The line of the top-level list ``key`` where ``entry`` (with or without ``./``) is commented out, when there
    is exactly one."""
    bare = entry[2:] if entry.startswith("./") else entry
    pattern = re.compile(rf"^[ \t]*#[ \t]*-[ \t]*(?:\./)?{re.escape(bare)}[ \t]*(?:#.*)?\r?\n?$")
    start = next((i for i, line in enumerate(lines) if re.match(rf"{re.escape(key)}:", line)), None)
    if start is None:
        return None
    found = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line[0].isspace() and not line.startswith(("#", "-")):
            break  # the next top-level key: the list ended
        if pattern.match(line):
            found.append(i)
    return found[0] if len(found) == 1 else None


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


def set_scalar(text: str, path: list[str | int], value: str, where: str,
               document: tuple[str, str] | None = None) -> str:
    """Replace one scalar value, found by its key path, keeping its quotes and every other byte.

    ruamel.yaml locates the value's line and column; only that value's text changes. Anchored values
    (``tag: &tag 1.0``) keep their anchor. In a file of several documents (an OCIRepository beside its
    HelmRelease) the value is the first document's that has the path, of that ``document`` (kind, name) when one
    is named (a name with ``${VAR}`` in it, substituted by Flux, is taken for any).
    """
    from ruamel.yaml import YAMLError

    missing = f"{where}: has no {'.'.join(str(p) for p in path)}"
    try:
        documents = list(round_trip().load_all(text))
    except YAMLError as exc:
        raise YamlError(f"{where}: cannot be edited: {str(exc).splitlines()[0]}") from None
    found = None
    for data in documents:
        if document is not None:
            kind, name = (data.get("kind"), str((data.get("metadata") or {}).get("name"))) if isinstance(
                data, dict) else (None, "")
            if kind != document[0] or (name != document[1] and "${" not in name):  # a name Flux substitutes
                continue
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            last = path[-1]
            current = node[last]
            line, column = node.lc.value(last) if isinstance(last, str) else node.lc.item(last)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
        found = (current, line, column)
        break
    if found is None:
        raise YamlError(missing)
    current, line, column = found
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
