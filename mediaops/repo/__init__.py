"""The Flux repository: its apps (model, inventory, app-template reader), activation edits, checks, YAML, graph, git.

The names below are the package's public surface; the modules say where each lives.
"""

from mediaops.repo.checks import Finding, problems, variable_findings
from mediaops.repo.edits import activation, deactivation
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

__all__ = ["ACTIVE", "ARCHIVED", "DISABLED", "INCONSISTENT", "STATES", "UNREADABLE", "App", "Controller", "Finding",
           "Repository", "activation", "deactivation", "problems", "variable_findings"]
