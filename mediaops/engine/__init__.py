"""The runbook engine: one definition of a procedure, walked by several readers (run, dry-run, docs).

Runbooks import from here: ``Runbook``, ``Param``, ``Changes``, ``CheckFailed``, ``Concern``.
"""

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
