"""The runbook engine: one definition of a procedure, walked by several readers (run, dry-run, docs).

Runbooks import from here: ``Runbook``, ``Param``, ``Changes``, ``CheckFailed``, ``Concern``.

The names are read from ``mediaops.engine.model`` when first asked for, not when the package is imported: ``list``
and ``show`` import ``mediaops.engine.registry`` and print from its catalog, so they never pay for the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediaops.engine.model import (
               Changes,
               CheckFailed,
               Concern,
               FileChange,
               Live,
               Operation,
               Ops,
               Param,
               Runbook,
               Step,
               render_ops,
    )

__all__ = ["Changes", "CheckFailed", "Concern", "FileChange", "Live", "Operation", "Ops", "Param", "Runbook", "Step",
           "render_ops"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mediaops.engine import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
