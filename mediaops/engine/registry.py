"""Finds runbooks: the built-in ones, then any site-specific directories the configuration names.

A runbook module is a ``*.py`` file (not starting with ``_``) with one or more module-level
``Runbook`` objects. Modules are loaded by path, so built-in and site directories work alike.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path

from mediaops.engine.model import Runbook
from mediaops.errors import UsageError


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
        return sorted(self._load())

    def all(self) -> list[Runbook]:
        return [self._load()[name] for name in self.names()]

    def get(self, name: str) -> Runbook:
        runbooks = self._load()
        if name not in runbooks:
            close = difflib.get_close_matches(name, runbooks, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "`mediaops list` shows them"
            raise UsageError(f"no runbook named {name!r}", hint=hint)
        return runbooks[name]


def _runbooks_in(path: Path) -> list[Runbook]:
    module_name = f"mediaops_runbook_{path.parent.name}_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load runbook module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    runbooks = [value for value in vars(module).values() if isinstance(value, Runbook)]
    for runbook in runbooks:
        runbook.source = str(path)
        if not runbook.doc:
            runbook.doc = (module.__doc__ or "").strip()
    return runbooks
