"""The Flux repository: its apps (model, inventory, app-template reader), activation edits, checks, YAML, graph, git.

The names below are the package's public surface; the modules say where each lives. The checks and the edits are
imported when first asked for: `apps` and `status` read the inventory and need neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediaops.repo.inventory import Repository
from mediaops.repo.model import (
    ACTIVE,
    ARCHIVED,
    DISABLED,
    INCONSISTENT,
    STATES,
    UNREADABLE,
    App,
    Controller,
)

if TYPE_CHECKING:
    from mediaops.repo.checks import Finding, problems, variable_findings
    from mediaops.repo.edits import activation, deactivation

__all__ = ["ACTIVE", "ARCHIVED", "DISABLED", "INCONSISTENT", "STATES", "UNREADABLE", "App", "Controller", "Finding",
           "Repository", "activation", "deactivation", "problems", "variable_findings"]

_LATER = {"Finding": "checks", "problems": "checks", "variable_findings": "checks", "activation": "edits",
          "deactivation": "edits"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(f"mediaops.repo.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
