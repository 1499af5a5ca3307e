"""What a run can reach, built from the configuration: the repository, git and (when configured) the cluster.

Runbooks get these as ``ctx.repo``, ``ctx.git`` and ``ctx.cluster`` (a ``kube.Kube``); each is built on
first use. The cluster is configured by ``--kubeconfig``/``--context``, ``$KUBECONFIG``, a
``~/.kube/config``, in-cluster credentials, or ``--sim`` (a rehearsal cluster built from the repository).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaops.errors import MediaopsError, UsageError

if TYPE_CHECKING:
    from mediaops.cluster.client import Kube
    from mediaops.config import Config
    from mediaops.repo import Repository


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
    from mediaops.repo import Repository

    root = find_repo_root(config)
    if root is None:
        raise UsageError(
            f"no Flux repository here: neither {os.getcwd()} nor a parent holds kubernetes/",
            hint="run inside your checkout or pass --repo PATH",
        )
    return Repository.open(root, namespace=config.get("namespace", "media"), cluster=config.get("cluster") or "")


def cluster_configured(config: Config) -> bool:
    if config.get("kubeconfig") or config.get("context") or os.environ.get("KUBECONFIG"):
        return True
    return "KUBERNETES_SERVICE_HOST" in os.environ or (Path.home() / ".kube" / "config").is_file()


def connect(config: Config) -> Kube:
    """A connection to the configured cluster, refusing a context the configuration does not allow."""
    from mediaops.cluster.client import Kube

    kube = Kube(config.get("kubeconfig"), config.get("context"))
    allowed = config.get("allowed_contexts") or []
    explicit = config.sources.get("context") in ("--context", "--sim")
    if allowed and kube.context not in allowed and not explicit:
        raise UsageError(
            f"kube context {kube.context!r} is not in allowed_contexts ({', '.join(allowed)})",
            hint=f"name it explicitly with --context {kube.context} if you mean it",
        )
    return kube


class Environment:
    """Factories of the services for one run, the lines saying where it acts, and the run's lock."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.repo_root = find_repo_root(config)
        self._kube: Kube | None = None
        self._repository: Repository | None = None

    def repository(self) -> Repository:
        """The run's checkout, read once: the lock's namespace and the runbook see the same apps."""
        if self._repository is None:
            self._repository = repository(self.config)
        return self._repository

    def kube(self) -> Kube:
        if self._kube is None:
            self._kube = connect(self.config)
        return self._kube

    def factories(self) -> dict[str, Callable[[], Any]]:
        def git() -> Any:
            from mediaops.repo.git import Git

            return Git(self.repository().root)

        found: dict[str, Callable[[], Any]] = {"repo": self.repository, "git": git,
                                               "config": lambda: self.config}
        if cluster_configured(self.config):
            found["cluster"] = self.kube
        return found

    def target(self) -> dict[str, str]:
        lines = {"repo": str(self.repo_root) if self.repo_root else "none found"}
        if cluster_configured(self.config):
            kube = self.kube()
            lines.update(context=kube.context, server=kube.server)
        return lines

    def silences(self) -> Any:
        """The maintenance bracket's Alertmanager, when ``alertmanager_url`` is set."""
        url = self.config.get("alertmanager_url")
        if not url:
            return None
        from mediaops.maintenance import Silences

        return Silences(str(url), labels=tuple(self.config.get("silence_labels") or ()),
                        minutes=int(self.config.get("silence_minutes", 120)))

    def sinks(self) -> list[Any]:
        """Event sinks the settings ask for: the start-and-end webhook (``notify_url``)."""
        url = self.config.get("notify_url")
        if not url:
            return []
        from mediaops.maintenance import Notifier, NotifySink

        style = str(self.config.get("notify_format", "slack"))
        if style not in ("slack", "discord", "ntfy"):
            raise UsageError(f"notify_format {style!r} is not slack, discord or ntfy", hint="fix the setting")
        return [NotifySink(Notifier(str(url), style))]

    def lock_namespace(self, params: dict[str, Any]) -> str:
        """Where a run's Lease lives: the namespace of the app it acts on, else the configured namespace."""
        if params.get("app") and self.repo_root is not None:
            try:
                return str(self.repository().app(str(params["app"]), params.get("namespace")).namespace)
            except MediaopsError:
                pass
        return str(self.config.get("namespace", "media"))

    def locker(self) -> Callable[..., AbstractContextManager[Any]] | None:
        if not cluster_configured(self.config):
            return None

        @contextmanager
        def hold(name: str, run_id: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
            from mediaops.cluster.lock import Lock

            with Lock(self.kube(), self.lock_namespace(params or {})).held(name, run_id) as holding:
                yield holding

        return hold
