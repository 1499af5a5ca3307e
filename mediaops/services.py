"""What a run can reach, built from the configuration: the repository, and (when configured) the cluster.

Runbooks get these as ``ctx.repo`` and ``ctx.cluster``; each is built on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaops.errors import UsageError

if TYPE_CHECKING:
    from mediaops.config import Config
    from mediaops.gitops import Repository


def find_repo_root(config: Config) -> Path | None:
    """``--repo``, else ``MEDIAOPS_REPO``, else the nearest parent of the working directory with kubernetes/."""
    explicit = config.get("repo")
    if explicit:
        return Path(explicit).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "kubernetes").is_dir():
            return candidate
    return None


def repository(config: Config) -> Repository:
    from mediaops.gitops import Repository

    root = find_repo_root(config)
    if root is None:
        raise UsageError(
            f"no Flux repository here: neither {os.getcwd()} nor a parent holds kubernetes/",
            hint="run inside your checkout or pass --repo PATH",
        )
    return Repository.open(root, namespace=config.get("namespace", "media"))


class Environment:
    """Factories of the services for one run, plus the header lines saying where it acts."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.repo_root = find_repo_root(config)

    def factories(self) -> dict[str, Callable[[], Any]]:
        def git() -> Any:
            from mediaops.git import Git

            return Git(repository(self.config).root)

        return {"repo": lambda: repository(self.config), "git": git, "config": lambda: self.config}

    def target(self) -> dict[str, str]:
        return {"repo": str(self.repo_root) if self.repo_root else "none found"}
