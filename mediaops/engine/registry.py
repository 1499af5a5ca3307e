"""Finds runbooks: the built-in ones, then any site-specific directories the configuration names.

A runbook module is a ``*.py`` file (not starting with ``_``) with one or more module-level
``Runbook`` objects. Modules are loaded by path, so built-in and site directories work alike.

``list`` and ``show`` print what the runbooks declare without importing them (importing one imports the
cluster wrappers, the repository reader and the shared steps it uses): from a catalog kept under the user's
cache directory, keyed by the size and modification time of every runbook file and of every module of the
mediaops package (a shared step changes a page too). Any change makes a new catalog, built by importing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaops.errors import UsageError

if TYPE_CHECKING:
    from mediaops.engine.model import Runbook


KEPT_CATALOGS = 8


def builtin_dir() -> Path:
    """Where the built-in runbooks are: inside the installed package, or at the source tree's top."""
    packaged = Path(__file__).resolve().parent.parent / "runbooks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "runbooks"


class Registry:
    def __init__(self, extra_dirs: list[Path] | None = None) -> None:
        self.dirs = [builtin_dir(), *(extra_dirs or [])]
        self._runbooks: dict[str, Runbook] | None = None

    def _load(self) -> dict[str, Runbook]:
        if self._runbooks is not None:
            return self._runbooks
        found: dict[str, Runbook] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                raise UsageError(f"runbook directory {directory} does not exist", hint="fix runbook_paths")
            for path in sorted(directory.glob("*.py")):
                if path.name.startswith("_"):
                    continue
                for runbook in _runbooks_in(path):
                    if runbook.name in found:
                        raise UsageError(
                            f"runbook {runbook.name!r} is defined twice: {found[runbook.name].source} and {path}",
                            hint="rename one of them",
                        )
                    found[runbook.name] = runbook
        self._runbooks = found
        return found

    def names(self) -> list[str]:
        if self._runbooks is None:
            return [entry["name"] for entry in self.catalog()]
        return sorted(self._load())

    def catalog(self) -> list[dict[str, Any]]:
        """What ``list`` and ``show`` print of each runbook, by name: its summary, parameters, number of steps,
        source and page; from the cache when nothing changed, else built by importing the runbooks."""
        import binascii

        from mediaops.config import cache_dir, keep, kept

        key = self._fingerprint()
        # one file per set of runbook directories, holding the fingerprint it was made for: compared whole, so a
        # file is never taken for another state of the runbooks (the name only keeps directory sets apart)
        name = binascii.crc32("\0".join(map(str, self.dirs)).encode())
        path = cache_dir() / f"runbooks-{name:08x}.marshal"
        found = kept(path, key)
        if isinstance(found, list):
            return list(found)
        from mediaops.engine import docs

        entries = [{"name": r.name, "summary": r.summary, "steps": len(r.steps), "source": r.source,
                    "params": [{"name": p.name, "required": p.required, "flag": p.flag, "option": p.option}
                               for p in r.params],
                    "page": docs.markdown(r)} for r in self.all()]
        # the few newest catalogs are kept: commands with other site runbook directories each have theirs
        keep(path, key, entries, most=KEPT_CATALOGS, pattern="runbooks-*")  # older formats (.json) go first
        return entries

    def entry(self, name: str) -> dict[str, Any]:
        """The catalog's entry of a runbook; UsageError with the closest names when there is none."""
        entries = {e["name"]: e for e in self.catalog()}
        if name not in entries:
            raise _unknown(name, entries)
        return entries[name]

    def _fingerprint(self) -> str:
        """Python's version, then the path, size and modification time of every runbook file and every module of the
        mediaops package, a line each."""
        package = Path(__file__).resolve().parents[1]
        files = [p for d in self.dirs if d.is_dir() for p in sorted(d.glob("*.py")) if not p.name.startswith("_")]
        files += sorted(package.rglob("*.py"))
        from mediaops.config import file_stamps

        return f"{sys.version_info[:2]}\n" + file_stamps(files)

    def all(self) -> list[Runbook]:
        loaded = self._load()
        return [loaded[name] for name in sorted(loaded)]

    def get(self, name: str) -> Runbook:
        if self._runbooks is None:  # only the module that declares it (the catalog says which)
            for runbook in _runbooks_in(Path(self.entry(name)["source"])):
                if runbook.name == name:
                    return runbook
        runbooks = self._load()
        if name not in runbooks:
            raise _unknown(name, runbooks)
        return runbooks[name]


def _unknown(name: str, names: Any) -> UsageError:
    import difflib

    close = difflib.get_close_matches(name, list(names), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "`mediaops list` shows them"
    return UsageError(f"no runbook named {name!r}", hint=hint)


def _runbooks_in(path: Path) -> list[Runbook]:
    module_name = f"mediaops_runbook_{path.parent.name}_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load runbook module {path}")
    from mediaops.engine.model import Runbook

    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    runbooks = [value for value in vars(module).values() if isinstance(value, Runbook)]
    for runbook in runbooks:
        runbook.source = str(path)
        if not runbook.doc:
            runbook.doc = (module.__doc__ or "").strip()
    return runbooks
