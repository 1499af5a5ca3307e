"""The rehearsal cluster: the API server, the controllers, and a cluster bootstrapped from a repository.

Bootstrapping does what ``flux bootstrap`` and the template's bootstrap tasks do: the flux-system
GitRepository follows the repository's origin, ``kubernetes/flux/cluster/ks.yaml`` is applied, the
sops-age Secret holds the rehearsal's key, cluster-settings and cluster-secrets are seeded in
flux-system, and two nodes (amd64, arm64) exist. From there the controllers reconcile everything the
repository describes; Velero, K8up and VolSync exist only when the repository installs them.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mediaops.cluster.kinds import BY_KIND, Resource, kind
from mediaops.errors import MediaopsError, UsageError
from mediaops.sim import charts, routes, sops
from mediaops.sim.addons import ExternalSecrets, Placeholders
from mediaops.sim.faults import FAULTS
from mediaops.sim.flux import HR_NAME, HR_NAMESPACE, HelmReleases, Kustomizations, Sources, get_ready
from mediaops.sim.k8up import K8up
from mediaops.sim.manager import Manager, Timing
from mediaops.sim.nfd import NodeFeatures
from mediaops.sim.overseerr import API_KEY as OVERSEERR_API_KEY
from mediaops.sim.overseerr import Overseerr
from mediaops.sim.server import ApiServer
from mediaops.sim.standins import Alertmanager, DnsServer
from mediaops.sim.standins import kubelet as kubelet_answer
from mediaops.sim.store import ApiError, Store, WatchEvent, clone, now
from mediaops.sim.velero import Velero
from mediaops.sim.volsync import VolSync
from mediaops.sim.workloads import (
    Claims,
    Deployments,
    Jobs,
    Pods,
    StatefulSets,
    crashing_containers,
    git_sync_log,
    is_git_sync,
)

VAULT = {
    "plex-api": {"PLEX_TOKEN": "sample-plex-token-0001", "PLEX_SERVER_SECURE": "https://plex.example.test:32400"},
    "minio-lab": {"AWS_ACCESS_KEY_ID": "sample-access-key", "AWS_SECRET_ACCESS_KEY": "sample-secret-key"},
}
NODES = [("node-amd64-1", "amd64"), ("node-arm64-1", "arm64")]
FLUX_CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
FLUX_SERVICES = (("source-controller", "source-controller", "http"),
                 ("notification-controller", "notification-controller", "http"),
                 ("webhook-receiver", "notification-controller", "http-webhook"))
DETACHED = "HEAD"  # `git rev-parse --abbrev-ref HEAD` on a checkout that is on no branch
# Start-up is the steady state: no simulated delay until the cluster has settled (see Rehearsal.start).
STEADY = {"pod_start": 0.0, "job_run": 0.0, "backup_tick": 0.0, "retry": 0.5, "poll": 0.01, "health_timeout": 3.0,
          "timeout_scale": 0.0}  # a health check that fails while settling fails in 3 s, whatever the object's timeout
# Reasons a Kustomization is not Ready that are someone else's: it waits, it has not failed.
TRANSIENT = {"DependencyNotReady", "ArtifactFailed", "Progressing"}
# What the apps' volumes hold when the rehearsal creates them (their state from first-time setup).
SEEDS = {
    "tautulli-config": {"config.ini": "[General]\nhttp_port = 8181\n\n[PMS]\npms_ip = 127.0.2.40\n"
                                      "pms_port = 32400\npms_token = sample-plex-token-0001\npms_ssl = 0\n"},
    "plex-trakt-sync-config-pv": {"servers.yml": "servers:\n  default:\n    urls:\n      - http://127.0.2.40:32400\n"},
}


def substitute_cluster_config(store: Store, names: list[str], resource: Resource, obj: dict[str, Any]) -> None:
    """xunholy's kustomize-mutating-webhook (main.go handleMutate): a Flux Kustomization created or updated gets
    postBuild and postBuild.substitute where it has none, then every key of the ConfigMaps and Secrets the webhook
    mounts (in its namespace, flux-system) added to substitute, a JSON patch ``add`` that replaces a key it has."""
    if resource.kind != "Kustomization" or not resource.group.startswith("kustomize.toolkit.fluxcd.io"):
        return
    values: dict[str, str] = {}
    for name in names:
        for kind_name in ("ConfigMap", "Secret"):
            found = store.find(kind(kind_name), "flux-system", name)
            for key, value in ((found or {}).get("data") or {}).items():
                values[key] = base64.b64decode(value).decode(errors="replace") if kind_name == "Secret" else value
    spec = obj.setdefault("spec", {})
    post = spec["postBuild"] = dict(spec.get("postBuild") or {})
    post["substitute"] = {**(post.get("substitute") or {}), **values}


def _helm_keeps(obj: dict[str, Any]) -> bool:
    """Whether Helm leaves the object when its release drops it or is uninstalled: the resource policy keep
    (helm.sh/helm pkg/action/uninstall.go filterManifestsToKeep, pkg/kube/resource_policy.go)."""
    return str((obj["metadata"].get("annotations") or {}).get(charts.KEEP, "")).lower() == "keep"


def _normal_url(url: str) -> str:
    """A git URL as compared: host and path, lower case, without scheme, user, a trailing .git or slash
    (git@github.com:a/b.git and https://github.com/a/b are one)."""
    text = url.strip().lower()
    text = text.split("://", 1)[-1]
    text = text.split("@", 1)[-1]
    text = text.replace(":", "/", 1) if "/" not in text.split(":", 1)[0] else text
    return text.removesuffix("/").removesuffix(".git")


def _git_urls(repo: Path, sources: set[tuple[str, str]]) -> list[str]:
    """The URLs the repository's files give the GitRepositories the entry follows (flux-system's own remote)."""
    names = {name for _, name in sources}
    urls: list[str] = []
    base = repo / "kubernetes"
    for path in sorted(base.rglob("*.yaml")) if base.is_dir() and names else []:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "GitRepository" not in text:
            continue
        for doc in _documents(path):
            if isinstance(doc, dict) and doc.get("kind") == "GitRepository" and \
                    str((doc.get("metadata") or {}).get("name")) in names and (doc.get("spec") or {}).get("url"):
                urls.append(str(doc["spec"]["url"]))
    return urls


def _documents(path: Path) -> list[Any]:
    """A repository file's documents as Flux reads them; a file Flux could not read either is skipped."""
    from mediaops.repo.yamlfiles import YamlError, load_all

    try:
        return [copy.deepcopy(d) for d in load_all(path)]
    except YamlError:
        return []


class SimError(MediaopsError):
    """The rehearsal could not start: one line saying what it waited for and why."""


class Verdicts:
    """What the rehearsal judges settling by, kept from the store's events as they happen (no scan of the store per
    write): each Kustomization's suspension, Ready condition and dependencies, and those seen failing for a reason of
    their own (Flux retries them and they show ``Unknown`` again meanwhile: the rehearsal remembers they failed)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.version = 0
        self.items: dict[str, tuple[bool, dict[str, Any], list[str]]] = {}
        self.failed: set[str] = set()
        self.sources: dict[str, str] = {}  # Kustomization -> the GitRepository it applies from
        self.sources_failed: set[str] = set()  # GitRepositories that cannot be cloned (another project's)

    def __call__(self, event: WatchEvent) -> None:
        ks, git = kind("Kustomization"), kind("GitRepository")
        meta = event.obj.get("metadata") or {}
        namespace = meta.get("namespace", "")
        key = f"{namespace}/{meta.get('name')}"
        if event.resource.plural == git.plural and event.resource.group == git.group:
            ready: dict[str, Any] = next((c for c in (event.obj.get("status") or {}).get("conditions") or []
                                          if c.get("type") == "Ready"), {})
            failed = event.type != "DELETED" and ready.get("reason") == "GitOperationFailed"
            with self.changed:
                if failed != (key in self.sources_failed):
                    (self.sources_failed.add if failed else self.sources_failed.discard)(key)
                    self.version += 1
                    self.changed.notify_all()
            return
        if event.resource.plural != ks.plural or event.resource.group != ks.group:
            return
        with self.changed:
            if event.type == "DELETED":
                self.items.pop(key, None)
                self.sources.pop(key, None)
            else:
                spec = event.obj.get("spec") or {}
                condition: dict[str, Any] = next((c for c in (event.obj.get("status") or {}).get("conditions") or []
                                                  if c.get("type") == "Ready"), {})
                depends = [f"{d.get('namespace') or namespace}/{d.get('name')}" for d in spec.get("dependsOn") or []]
                suspended = bool(spec.get("suspend"))
                self.items[key] = (suspended, condition, depends)
                ref = spec.get("sourceRef") or {}
                self.sources[key] = f"{ref.get('namespace') or namespace}/{ref.get('name')}"
                if not suspended and condition.get("status") == "True":
                    self.failed.discard(key)
                elif not suspended and condition.get("status") == "False" and condition.get("reason") not in TRANSIENT:
                    self.failed.add(key)
            self.version += 1
            self.changed.notify_all()

    def judge(self) -> tuple[int, int, bool]:
        """(Ready, total, every one decided): a Kustomization is decided when it is Ready, or has failed for a
        reason of its own, or waits on a source that cannot be cloned, or on a dependency that is decided and not
        Ready, or that does not exist."""
        with self.changed:
            items = {key: item for key, item in self.items.items() if not item[0]}
            known = set(self.items)
            ready = {key for key, (_, condition, _) in items.items() if condition.get("status") == "True"}
            waiting = {key: depends for key, (_, condition, depends) in items.items()
                       if key not in ready and condition.get("reason") == "DependencyNotReady"}
            stuck = set(self.failed) | {key for key, (_, condition, _) in items.items() if key not in ready and
                                        condition.get("reason") == "ArtifactFailed" and
                                        self.sources.get(key) in self.sources_failed}
        changed = True
        while changed:
            changed = False
            for key, deps in waiting.items():
                # a dependency that is stuck, or that no Kustomization is (pruned with its app: Flux says
                # "dependency … not found" at every retry)
                if key not in stuck and any(d in stuck or d not in known for d in deps):
                    stuck.add(key)
                    changed = True
        return len(ready), len(items), bool(items) and set(items) <= (ready | stuck)

    def wait(self, version: int, timeout: float) -> None:
        """Until a Kustomization changes after ``version``, or ``timeout`` seconds."""
        with self.changed:
            if self.version == version:
                self.changed.wait(timeout)


class Rehearsal:
    def __init__(self, repo: Path, *, origin: str | None = None, timing: Timing | None = None,
                 workdir: Path | None = None, nas_port: int = 2049, cluster: str = "") -> None:
        self.repo = repo.resolve()
        self.cluster = cluster  # of a repository of one tree per cluster: the one whose entry is bootstrapped
        # The repository may be a sub-folder of a larger checkout (as the sample is): Flux's artifact is
        # then that folder of each commit, so paths in the manifests stay relative to the repository.
        self.toplevel, self.prefix, self.branch = self._checkout()
        self.origin = origin or self._origin()
        # The GitRepositories that are this repository: the ones the entry follows (the bootstrap makes them), and
        # the URLs the repository's own files give them. Any other names another project's repository.
        self.entry_sources: set[tuple[str, str]] = set()
        self.own_urls: set[str] = set()
        self.timing = timing or Timing()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="mediaops-rehearsal-"))
        self._own_workdir = workdir is None
        self.kubectl = shutil.which("kubectl", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                      os.environ.get("PATH", "")])) or "kubectl"
        self.store = Store()
        self.faults: dict[str, Any] = {"receiver": 0.05}
        self._rng = __import__("random").Random(11)
        self.receiver_stamps: set[str] = set()
        self.remote_bases: list[str] = []  # left out of the builds: the rehearsal fetches nothing remote
        self.failures: dict[tuple[str, str, str], str] = {}
        self.vault = copy.deepcopy(VAULT)
        self.manager = Manager(self.store)
        for controller in (Sources, Kustomizations, HelmReleases, Deployments, StatefulSets, Jobs, Pods, Claims,
                           Velero, ExternalSecrets, K8up, VolSync):
            self.manager.add(controller(self))
        self.manager.add(NodeFeatures(self, NODES[0][0]))
        self.server = ApiServer(self.store, runtime=self)
        self.volumes: dict[tuple[str, ...], dict[str, bytes]] = {}
        # restic repositories (K8up's jobs, VolSync's restic mover), by URL: their snapshots, each with its files
        self.repositories: dict[str, list[dict[str, Any]]] = {}
        self.store.subscribers.append(self._volume_gone)
        self.verdicts = Verdicts()
        self.store.subscribers.append(self.verdicts)
        self._inventories: dict[bool, Any] = {}  # the checkout as the start reads it (_inventory)
        webhook = self._inventory().mutating_webhook_sources()
        if webhook:  # the repository installs xunholy's kustomize-mutating-webhook
            self.store.mutators.append(functools.partial(substitute_cluster_config, self.store, webhook))
        self.nas_host = self._nas_host()
        self.nas_port = nas_port
        self._nas_socket: socket.socket | None = None
        self._installed: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._trees: dict[str, str] = {}
        self._refs: dict[tuple[str, str], tuple[tuple[int, int, int], str]] = {}  # (git dir, ref) -> (stamp, sha)
        self._threads: list[threading.Thread] = []
        self._configured = dataclasses.replace(self.timing)
        self.dns = DnsServer(self._external_names, lambda: self.faults.get("dns-nxdomain") or [])
        self.alertmanager = Alertmanager()
        self.overseerr = Overseerr()

    # -- where things come from ------------------------------------------------------------------------
    def _git(self, *args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=cwd or self.repo, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[0] if result.stderr.strip() else "git failed")
        return result.stdout.strip()

    def _checkout(self) -> tuple[Path, str, str]:
        """The checkout's top level, the repository's folder in it and its branch (``DETACHED`` on none, as git
        says it), asked of git at once."""
        result = subprocess.run(["git", "rev-parse", "--show-toplevel", "--abbrev-ref", "HEAD"], cwd=self.repo,
                                capture_output=True, text=True)
        lines = result.stdout.splitlines()
        if not lines:
            raise UsageError(f"{self.repo} is not in a git checkout: the rehearsal's Flux follows the repository's "
                             "commits", hint="run `git init` and commit, or point --repo at your clone")
        top = Path(lines[0]).resolve()
        if result.returncode != 0 or len(lines) < 2:  # git prints the top level, then fails on HEAD: no commit
            raise UsageError(f"{top} has no commit yet: the rehearsal's Flux follows the repository's commits",
                             hint="commit, then run again")
        return top, self.repo.relative_to(top).as_posix() if self.repo != top else "", lines[1]

    def _origin(self) -> str:
        """The checkout's tracking remote when it is on disk (as the demo and tests have it), else the checkout."""
        try:
            if self.branch == DETACHED:
                raise RuntimeError("on no branch: no tracking remote")
            url = self._git("remote", "get-url", self._git("config", "--get", f"branch.{self.branch}.remote"))
            path = url.removeprefix("file://")
            if Path(path).exists():
                return str(Path(path).resolve())
        except RuntimeError:
            pass
        return str(self.toplevel)

    def _inventory(self, *, opened: bool = False) -> Any:
        """The operator's checkout as the inventory reads it (``opened``: as ``Repository.open`` checks and gives it,
        raising what it raises), made once for the start: the NAS, the bootstrap's entry, sources and secrets, the
        webhook's sources and the variables a vault item stands for are read from the same files, each parsed and
        the apps built once. Forgotten once the rehearsal has settled (``settle``): what is read later is read
        afresh."""
        from mediaops.repo import Repository

        found = self._inventories.get(opened)
        if found is None:
            found = Repository.open(self.repo, cluster=self.cluster) if opened else \
                Repository(self.repo, cluster=self.cluster)
            self._inventories[opened] = found
        return found

    def _nas_host(self) -> str | None:
        """Where the rehearsal's NAS listens, standing in for every NFS server the repository names: the first of
        them that is a loopback address; else 127.0.0.1 (a NAS's name or address in a repository is someone
        else's, never asked); none when nothing mounts NFS."""
        try:
            servers = {n.server for a in self._inventory(opened=True).apps() for n in a.nfs}
        except Exception:  # a repository the inventory cannot read still rehearses, without a NAS
            return None
        loopback = sorted(s for s in servers if s.startswith("127."))
        return loopback[0] if loopback else "127.0.0.1" if servers else None

    def is_this_repository(self, namespace: str, name: str, url: str) -> bool:
        """Whether a GitRepository is this repository (served from its origin), not another project's (which the
        rehearsal does not reach: its source fails to clone, as offline)."""
        path = url.removeprefix("file://")
        return (url.startswith("file://") and Path(path).exists()) or (namespace, name) in self.entry_sources or \
            _normal_url(url) in self.own_urls

    def source_url(self, url: str) -> str:
        """Where a GitRepository's URL is served from: every git source of the repository is the repository
        itself (a home-ops repository's GitRepository names its own remote, which the rehearsal never reaches)."""
        path = url.removeprefix("file://")
        return url if url.startswith("file://") and Path(path).exists() else f"file://{self.origin}"

    def resolve(self, url: str, branch: str) -> str:
        served = self.source_url(url)
        git_dir = self._git_dir(served.removeprefix("file://"))
        if self.branch == DETACHED and served == f"file://{self.origin}":
            branch = DETACHED  # the checkout is on no branch: its commit, whatever branch the repository names
        if branch != self.branch:
            try:
                self._rev_parse(git_dir, f"refs/heads/{branch}")
            except RuntimeError:
                branch = self.branch  # the repository names its remote's default branch; follow ours
        try:
            # a checkout on no branch (detached: `git checkout <commit>`, a bisect) is followed at its commit
            return self._rev_parse(git_dir, "HEAD" if branch == DETACHED else f"refs/heads/{branch}")
        except RuntimeError as exc:
            raise RuntimeError(f"failed to checkout and determine revision: unable to resolve branch '{branch}': "
                               f"{exc}") from None

    def _rev_parse(self, git_dir: str, ref: str) -> str:
        """``git rev-parse --verify ref``, asked again only when the ref's file changed. The source controller asks
        at every interval; git moves a loose ref by renaming a new file into place (a new inode), and a ref that
        has no loose file (packed, or another ref backend) is asked every time."""
        try:
            found = os.stat(os.path.join(git_dir, ref))
            stamp: tuple[int, int, int] | None = (found.st_ino, found.st_mtime_ns, found.st_size)
        except OSError:
            stamp = None
        known = self._refs.get((git_dir, ref))
        if stamp is not None and known is not None and known[0] == stamp:
            return known[1]
        sha = self._git("--git-dir", git_dir, "rev-parse", "--verify", ref)
        if stamp is not None:
            self._refs[(git_dir, ref)] = (stamp, sha)
        return sha

    @staticmethod
    def _git_dir(path: str) -> str:
        return str(Path(path) / ".git") if (Path(path) / ".git").exists() else path

    def source_dir(self, sha: str) -> str:
        return str(self.workdir / "sources" / sha)

    def checkout(self, url: str, sha: str) -> str:
        target = Path(self.source_dir(sha))
        git_dir = self._git_dir(self.source_url(url).removeprefix("file://"))
        tree = f"{sha}:{self.prefix}" if self.prefix else sha
        if target.is_dir():
            return str(target)
        partial = target.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        # git's own checkout of the tree into the folder, through an index of its own (source-controller clones
        # and checks out the commit: every file of the tree, export-ignore or not). Twice as fast as extracting
        # a `git archive` in Python.
        index = os.path.abspath(partial.with_suffix(".index"))
        env = {**os.environ, "GIT_INDEX_FILE": index}
        try:
            subprocess.run(["git", "--git-dir", git_dir, "read-tree", tree], env=env, capture_output=True, check=True)
            subprocess.run(["git", "--git-dir", git_dir, "--work-tree", os.path.abspath(partial), "checkout-index",
                            "--all", "--force"], env=env, capture_output=True, check=True)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(index)
        self._drop_remote_bases(partial)
        if _files_follow_the_tree(partial):
            try:
                self._trees[sha] = self._git("--git-dir", git_dir, "rev-parse", "--verify",
                                             tree if self.prefix else f"{sha}^{{tree}}")  # sha:folder is a tree
            except RuntimeError:
                pass  # not shared, then
        partial.rename(target)
        return str(target)

    def tree(self, sha: str) -> str | None:
        """The git tree of the artifact checked out at ``sha``: what its files are, whatever the commit (None when
        that is not all they depend on). Builds are kept by it (flux.SharedBuilds)."""
        return self._trees.get(sha)

    def _drop_remote_bases(self, root: Path) -> None:
        """Remote bases (``https://…``, ``github.com/…``) are left out of the rehearsal's builds: it talks to
        127.0.0.1 only, and kustomize would fetch them from the internet. What they would add is missing from
        the rehearsal, which says so (``remote_bases``)."""
        from mediaops.repo.yamlfiles import parse

        for path in root.rglob("kustomization.y*ml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "://" not in text and "github.com/" not in text:
                continue
            try:
                spec = parse(text)
            except Exception:  # yaml.YAMLError: kustomize will say what is wrong with it
                continue
            if not isinstance(spec, dict):
                continue
            kept: list[Any] = []
            dropped: list[Any] = []
            for entry in spec.get("resources") or []:
                remote = "://" in str(entry) or str(entry).startswith(("github.com/", "git@"))
                (dropped if remote else kept).append(entry)
            if dropped:
                spec["resources"] = kept
                path.write_text(yaml.safe_dump(spec, sort_keys=False))
                self.remote_bases += [f"{path.relative_to(root).as_posix()}: {entry}" for entry in dropped]

    # -- what controllers ask ------------------------------------------------------------------------------
    def failing(self, kind_name: str, namespace: str, name: str) -> str | None:
        return self.failures.get((kind_name, namespace, name))

    def receiver_fires(self, request: str) -> bool:
        """Whether the webhook Receiver answers this request (never one of its own) with a request of its own."""
        rate = float(self.faults.get("receiver") or 0)
        return request not in self.receiver_stamps and rate > 0 and self._rng.random() < rate

    def nas_down(self, server: str) -> bool:
        """Whether an NFS mount from ``server`` fails: with ``nas-down``, every one (the rehearsal's NAS answers for
        every NFS server of the repository, and every probe goes to it)."""
        return bool(self.faults.get("nas-down"))

    def node_for(self, pod: dict[str, Any]) -> str:
        """The first node whose labels (as they are now: node-feature-discovery adds some) the pod's nodeSelector
        matches."""
        selector = (pod.get("spec") or {}).get("nodeSelector") or {}
        for node in self.store.scan(kind("Node")):  # read, never changed
            labels = node["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                return str(node["metadata"]["name"])
        return NODES[0][0]

    @functools.cached_property
    def expected_variables(self) -> tuple[set[str], list[str]]:
        """The substitution sources whose keys the secret store decides (an ExternalSecret's ``dataFrom``:
        rwlove/home-ops's cluster-secrets, extracted from a 1Password item), and the variables the repository's
        apps need that no file of the repository defines: what such a source holds on the owner's cluster. A vault
        item the rehearsal does not hold, extracted into one of them, gives each of those variables its
        placeholder, as it gives any field a template names (``Placeholders``)."""
        try:
            repo = self._inventory(opened=True)
            opaque = {name for name, keys in repo.substitution_sources_from_store().items() if keys is None}
            defined = repo.substitution_sources()
            needed = {var for app in repo.apps() for var in app.required if var not in defined}
        except Exception:  # a repository the inventory cannot read still rehearses, without them
            return set(), []
        return opaque, sorted(needed)

    def vault_item(self, key: str) -> dict[str, str]:
        """A 1Password item of the rehearsal's vault. An item the vault does not hold (a real repository names
        its owner's items) is rehearsed as one whose every field reads ``rehearsal-<field>``."""
        if key in self.vault:
            return dict(self.vault[key])
        return Placeholders()

    def apply(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Create, or update what the manifest says while keeping what others set (status, suspend, annotations).

        The object applied stays the caller's. What comes back is the object as stored, for reading only (when the
        apply changed nothing it is the stored object itself, as ``Store.peek`` gives it): never change it."""
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace", "") if res.namespaced else ""
        if res.namespaced and namespace and self.store.peek(kind("Namespace"), "", namespace) is None:
            self.store.create(kind("Namespace"), {"metadata": {"name": namespace}})
        # The merge is made from the object as read, and written only if nobody wrote it since (a conflict reads it
        # again): as server-side apply merges on the server, a controller's apply never undoes an operator's write
        # that came in between (`flux resume`'s suspend: false, which a re-apply keeping the read suspend: true
        # would have reverted, leaving the resume waiting for a reconcile that never came).
        for _ in range(20):
            live = self.store.peek(res, namespace, meta["name"])  # the stored object: read, never changed
            try:
                if live is None:
                    return self.store._create(res, clone(obj), owned=True)
                # Copy on write: the merge shares what it does not change with the stored object and the caller's,
                # and changes neither (the store copies what it writes).
                merged = {**live, **{k: v for k, v in obj.items() if k not in ("metadata", "status")}}
                if (live.get("spec") or {}).get("suspend") and "suspend" not in (obj.get("spec") or {}):
                    merged["spec"] = {**(merged.get("spec") or {}), "suspend": True}
                merged["metadata"] = dict(live["metadata"])
                for part in ("labels", "annotations"):
                    values = {**(live["metadata"].get(part) or {}), **(meta.get(part) or {})}
                    if values or part in live["metadata"]:
                        merged["metadata"][part] = values
                if merged == live:  # an apply that changes nothing writes nothing (the resourceVersion stays)
                    return live
                return self.store._replace(res, merged, expect_rv=live["metadata"]["resourceVersion"])
            except ApiError as exc:
                if exc.code != 409:  # written (or created) by someone else meanwhile: merge with theirs
                    raise
        raise ApiError(409, "Conflict", f'{res.plural} "{meta["name"]}" kept changing while it was applied')

    def install(self, namespace: str, release: str, objects: list[dict[str, Any]]) -> None:
        """Apply a release's rendered objects; delete what the previous revision had and this one has not.
        CustomResourceDefinitions a chart ships are created when absent and never deleted (Helm's crds/ folder,
        or ``helm.sh/resource-policy: keep``: charts.CRD_GROUPS)."""
        crd_res = kind("CustomResourceDefinition")
        for crd in [o for o in objects if o.get("kind") == "CustomResourceDefinition"]:
            if self.store.peek(crd_res, "", crd["metadata"]["name"]) is None:
                self._create("CustomResourceDefinition", clone(crd))
        objects = [o for o in objects if o.get("kind") != "CustomResourceDefinition"]
        keep = set()
        for obj in objects:
            res = BY_KIND[(obj["apiVersion"].rpartition("/")[0] if "/" in obj["apiVersion"] else "", obj["kind"])]
            obj["metadata"].setdefault("labels", {}).update({HR_NAME: release, HR_NAMESPACE: namespace})
            obj["metadata"].setdefault("annotations", {}).update({"meta.helm.sh/release-name": release,
                                                                  "meta.helm.sh/release-namespace": namespace})
            self.apply(res, obj)
            keep.add((obj["kind"], obj["metadata"]["name"]))
        for old in self._installed.get((namespace, release), []):
            if (old["kind"], old["metadata"]["name"]) not in keep and not _helm_keeps(old):
                self._delete(old)
        self._installed[(namespace, release)] = objects

    def installed(self, namespace: str, release: str) -> list[dict[str, Any]]:
        return list(self._installed.get((namespace, release), []))

    def uninstall(self, namespace: str, release: str) -> None:
        for obj in self._installed.pop((namespace, release), []):
            if not _helm_keeps(obj):
                self._delete(obj)

    def _delete(self, obj: dict[str, Any]) -> None:
        res = BY_KIND[(obj["apiVersion"].rpartition("/")[0] if "/" in obj["apiVersion"] else "", obj["kind"])]
        try:
            self.store.delete(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        except ApiError:
            pass

    # -- inside the containers: files on volumes, a few commands, logs ---------------------------------------
    def _volume_gone(self, event: Any) -> None:
        """A deleted claim takes its data with it (dynamically provisioned volumes: reclaim policy Delete)."""
        if event.type == "DELETED" and event.resource.kind == "PersistentVolumeClaim":
            meta = event.obj.get("metadata") or {}
            self.volumes.pop(("pvc", meta.get("namespace", ""), meta.get("name", "")), None)

    def node_agents(self) -> None:
        """Velero's node-agent DaemonSet (charts/velero node-agent-daemonset.yaml, pkg/nodeagent): one pod per
        node in its namespace, labelled role=node-agent, while it exists and ``node-agent-down`` is off."""
        sets = [d for d in self.store.all_of(kind("DaemonSet")) if d["metadata"]["name"] == "node-agent"]
        pods = [p for p in self.store.all_of(kind("Pod")) if p["metadata"]["name"].startswith("node-agent-")
                and (p["metadata"].get("labels") or {}).get("role") == "node-agent"]
        wanted = {} if self.faults.get("node-agent-down") else {
            (d["metadata"]["namespace"], f"node-agent-{node}"): (d, node) for d in sets for node, _ in NODES}
        for pod in pods:
            if (pod["metadata"]["namespace"], pod["metadata"]["name"]) not in wanted:
                try:
                    self.store.delete(kind("Pod"), pod["metadata"]["namespace"], pod["metadata"]["name"])
                except ApiError:
                    pass
        for (namespace, name), (daemonset, node) in wanted.items():
            template = daemonset["spec"].get("template") or {}
            self._create("Pod", {"metadata": {"name": name, "namespace": namespace,
                                              "labels": dict((template.get("metadata") or {}).get("labels") or {})},
                                 "spec": {"nodeName": node, "nodeSelector": {"kubernetes.io/hostname": node},
                                          "containers": (template.get("spec") or {}).get("containers") or []}})

    def seed_claim(self, namespace: str, claim: str) -> None:
        files = self.volumes.setdefault(("pvc", namespace, claim), {})
        for path, text in SEEDS.get(claim, {}).items():
            files.setdefault(path, text.encode())

    def _locate(self, namespace: str, pod_name: str, container: str, path: str) -> tuple[dict[str, bytes], str]:
        pod = self.store.get(kind("Pod"), namespace, pod_name)
        spec = pod.get("spec") or {}
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        chosen = next((c for c in spec.get("containers") or [] if c.get("name") == container),
                      (spec.get("containers") or [{}])[0])
        best: tuple[str, tuple[str, ...]] | None = None
        for mount in chosen.get("volumeMounts") or []:
            prefix = str(mount.get("mountPath", "")).rstrip("/") + "/"
            if (path + "/").startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                volume = volumes.get(mount.get("name")) or {}
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                key = ("pvc", namespace, claim) if claim else ("pod", namespace, pod_name, str(mount.get("name")))
                best = (prefix, key)
        if best is None:
            return self.volumes.setdefault(("root", namespace, pod_name), {}), path.lstrip("/")
        return self.volumes.setdefault(best[1], {}), path[len(best[0]):].strip("/")

    def exec(self, namespace: str, pod: str, container: str, argv: list[str],
             stdin: bytes) -> tuple[bytes, bytes, int]:
        """Run one of the commands the rehearsal's containers know: cat, tee, ls, test -f, true."""
        if not argv:
            return b"", b"no command given\n", 1
        name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        if name == "true":
            return b"", b"", 0
        if name == "cat" and args:
            files, rel = self._locate(namespace, pod, container, args[0])
            if rel not in files:
                return b"", f"cat: {args[0]}: No such file or directory\n".encode(), 1
            return files[rel], b"", 0
        if name == "tee" and args:
            files, rel = self._locate(namespace, pod, container, args[-1])
            files[rel] = stdin
            return stdin, b"", 0
        if name == "ls":
            files, rel = self._locate(namespace, pod, container, args[0] if args else "/")
            prefix = rel + "/" if rel else ""
            names = sorted({p[len(prefix):].split("/")[0] for p in files if p.startswith(prefix)})
            return "".join(f"{n}\n" for n in names).encode(), b"", 0
        if name == "test" and len(args) == 2 and args[0] == "-f":
            files, rel = self._locate(namespace, pod, container, args[1])
            return b"", b"", 0 if rel in files else 1
        return b"", f"sh: {argv[0]}: not found\n".encode(), 127

    def logs(self, namespace: str, pod_name: str, container: str, tail: int) -> str:
        pod = self.store.get(kind("Pod"), namespace, pod_name)
        spec = pod.get("spec") or {}
        chosen = next((c for c in spec.get("containers") or [] if c.get("name") == container),
                      (spec.get("containers") or [{}])[0])
        started = (pod.get("metadata") or {}).get("creationTimestamp", now())
        lines = [f"{started} starting {chosen.get('name')} ({chosen.get('image')})"]
        if is_git_sync(chosen):  # git-sync v4 writes JSON lines (workloads.git_sync_log)
            lines = git_sync_log(self, pod, chosen)
        app = ((pod.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/name")
        if app == "plex-trakt-sync":
            files, rel = self._locate(namespace, pod_name, chosen.get("name", ""), "/app/config/.pytrakt.json")
            if rel in files:
                user = json.loads(files[rel] or b"{}").get("username", "?")
                lines.append(f"{started} INFO  Trakt: logged in as {user}")
                lines.append(f"{started} INFO  Watching Plex for changes")
            else:
                lines.append(f"{started} ERROR Trakt: not logged in; run `plextraktsync login`")
        if not is_git_sync(chosen) and chosen.get("name") in crashing_containers(self, pod):  # the crashloop fault
            lines.append(f"{now()} ERROR {chosen.get('name')} exited with status 1")
        return "\n".join(lines[-tail:] if tail else lines) + "\n"

    # -- faults ----------------------------------------------------------------------------------------------
    def set_fault(self, name: str, value: str = "on") -> str:
        """Switch a fault (mediaops/sim/faults.py); returns a line saying what is now in force.

        KeyError for a fault there is not, ValueError for a value it does not take.
        """
        fault = FAULTS[name]
        return fault.apply(self, name, value)

    def control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The /rehearsal/ endpoint of the API server: status, faults and the vault."""
        if path == "/rehearsal/status":
            return 200, self.summary()
        if path == "/rehearsal/fault" and method == "POST":
            try:
                return 200, {"message": self.set_fault(str(body.get("name")), str(body.get("value", "on")))}
            except KeyError:
                return 400, {"message": f"unknown fault {body.get('name')!r}; known: {', '.join(FAULTS)}"}
            except ValueError as exc:
                return 400, {"message": str(exc)}
        if path == "/rehearsal/vault" and method == "POST":
            item, field, value = str(body.get("item")), str(body.get("field")), str(body.get("value"))
            self.vault.setdefault(item, {})[field] = value
            return 200, {"message": f"vault item {item} field {field} updated"}
        return 404, {"message": f"no rehearsal endpoint {path}"}

    def summary(self) -> dict[str, Any]:
        ks = [{"name": f"{k['metadata']['namespace']}/{k['metadata']['name']}", "ready": get_ready(k)[0]}
              for k in self.store.all_of(kind("Kustomization"))]
        return {"server": self.server.url, "ingress": self.ingress_url if hasattr(self, "ingress_server") else "",
                "nas": f"{self.nas_host}:{self.nas_port}" if self.nas_host else "", "dns": self.dns_address,
                "alertmanager": self.alertmanager_url, "overseerr": self.overseerr_url,
                "overseerr_api_key": self.overseerr_api_key, "repo": str(self.repo),
                "origin": self.origin,
                "faults": {**{k: v for k, v in self.faults.items() if v},
                           "reconcile-fail": ["/".join(k) for k in self.failures]},
                "kustomizations": ks, "controller_errors": len(self.manager.errors),
                "last_controller_error": _error_line(self.manager.errors[-1]) if self.manager.errors else ""}

    # -- ingress ---------------------------------------------------------------------------------------------
    def _ingress(self) -> None:
        """An ingress controller on 127.0.0.1: routes by Host to the app, as Gatus would reach it."""
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        rehearsal = self

        class Ingress(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                try:
                    code, text = rehearsal.route(str(self.headers.get("Host", "")).split(":")[0],
                                                 self.path.partition("?")[0] or "/")
                except Exception as exc:  # the rehearsal's own fault: an answer, never a traceback on stderr
                    code, text = 500, f"the rehearsal's ingress failed: {type(exc).__name__}: {exc}\n"
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.ingress_server = ThreadingHTTPServer(("127.0.0.1", 0), Ingress)
        self.ingress_server.daemon_threads = True
        thread = threading.Thread(target=self.ingress_server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="sim-ingress", daemon=True)
        thread.start()

    @property
    def ingress_url(self) -> str:
        host, port = self.ingress_server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, host: str, path: str = "/") -> tuple[int, str]:
        """What the ingress answers for ``host``: an Ingress's app (its pods by ``app.kubernetes.io/name``), else an
        HTTPRoute's backends (routes.py), else 404."""
        for ingress in self.store.scan(kind("Ingress")):  # read, never changed
            rules = (ingress.get("spec") or {}).get("rules") or []
            if not any(r.get("host") == host for r in rules):
                continue
            annotations = ingress["metadata"].get("annotations") or {}
            if any(k.endswith("auth-url") for k in annotations):
                return 401, "401 Authorization Required\n"
            labels = ingress["metadata"].get("labels") or {}
            app = labels.get("app.kubernetes.io/name") or ingress["metadata"]["name"]
            pods, _ = self.store.select(kind("Pod"), ingress["metadata"]["namespace"], f"app.kubernetes.io/name={app}")
            if any(c.get("type") == "Ready" and c.get("status") == "True"
                   for p in pods for c in (p.get("status") or {}).get("conditions") or []):
                return 200, "OK\n"
            return 503, "503 Service Temporarily Unavailable\n"
        chosen = routes.select(self.store.scan(kind("HTTPRoute")), host, path)
        if chosen is not None:
            return routes.answer(self.store, chosen[0]["metadata"]["namespace"], chosen[1], path)
        return 404, "404 Not Found\n"

    # -- the stand-ins (standins.py): DNS, the kubelet's stats, Alertmanager ---------------------------------------
    def _external_names(self) -> list[str]:
        """What the DNS server resolves: the ``spec.externalName`` of every ExternalName Service in the store, and
        every host of an Ingress or HTTPRoute, as a home cluster's k8s_gateway (or external-dns) answers for them."""
        names = [str(spec.get("externalName")) for service in self.store.scan(kind("Service"))
                 if (spec := service.get("spec") or {}).get("type") == "ExternalName" and spec.get("externalName")]
        names += [str(rule["host"]) for ingress in self.store.scan(kind("Ingress"))
                  for rule in (ingress.get("spec") or {}).get("rules") or [] if rule.get("host")]
        names += [str(host) for route in self.store.scan(kind("HTTPRoute"))
                  for host in (route.get("spec") or {}).get("hostnames") or [] if not str(host).startswith("*")]
        return names

    @property
    def dns_address(self) -> str:
        """``127.0.0.1:PORT`` of the DNS server (UDP and TCP); empty until the rehearsal serves."""
        return self.dns.address

    @property
    def alertmanager_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the Alertmanager API stand-in (``/api/v2/...``); empty until it serves."""
        return self.alertmanager.url

    def silences(self) -> list[dict[str, Any]]:
        """Every silence, as ``GET /api/v2/silences`` lists them (gettableSilence: id, status.state, matchers...)."""
        return self.alertmanager.silences()

    @property
    def overseerr_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the Overseerr API stand-in (``/api/v1/...``, mediaops/sim/overseerr.py); empty
        until it serves. The port stays while the ``overseerr-down`` fault closes it."""
        return self.overseerr.url

    @property
    def overseerr_api_key(self) -> str:
        """The rehearsal's Overseerr API key (``X-Api-Key``): fixed, fake."""
        return OVERSEERR_API_KEY

    def overseerr_tests(self) -> list[str]:
        """The notification agents a test notification was sent to (``POST .../{agent}/test`` answered 204), in
        order."""
        return list(self.overseerr.tests)

    def kubelet(self, node: str, path: str, method: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        """What the API server's node proxy gets from ``node``'s kubelet at ``path`` (standins.kubelet)."""
        return kubelet_answer(self, node, path, method, query)

    # -- NAS -------------------------------------------------------------------------------------------------
    def _nas(self, up: bool) -> None:
        if self.nas_host is None:
            return
        if not up and self._nas_socket is not None:
            try:
                self._nas_socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() and stops the kernel accepting
            except OSError:
                pass
            self._nas_socket.close()
            self._nas_socket = None
        elif up and self._nas_socket is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.nas_host, self.nas_port))
            except OSError as exc:
                listener.close()
                raise SimError(f"cannot serve the NAS on {self.nas_host}:{self.nas_port} ({exc.strerror}); "
                                   "another rehearsal may hold it: use a free port (--nas-port 0)") from None
            self.nas_port = listener.getsockname()[1]
            listener.listen(16)
            self._nas_socket = listener

            def serve() -> None:
                while True:
                    try:
                        connection, _ = listener.accept()
                    except OSError:
                        return
                    connection.close()

            thread = threading.Thread(target=serve, name="sim-nas", daemon=True)
            thread.start()

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self, *, wait: bool = True, timeout: float = 120,
              progress: Callable[[int, int], None] | None = None) -> Rehearsal:
        """Serve the API and bring the cluster to the steady state the repository describes.

        Start-up is the state of a cluster Flux has run for days: it happens with no simulated delay (pods
        start, jobs run and retries come at once), so it costs what the number of objects costs; the
        configured delays apply from then on, to what the operator does.
        """
        self.serve()
        if wait:
            self.settle(timeout, progress)
        return self

    def serve(self) -> None:
        """Serve the API, bootstrap Flux and start the controllers, in the steady-state timing until ``settle``."""
        # A short poll: stopping a rehearsal waits for the server loop to notice, and tests stop many.
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-api",
                                  daemon=True)
        thread.start()
        self._threads.append(thread)
        self._configured = dataclasses.replace(self.timing)
        for name, value in STEADY.items():
            setattr(self.timing, name, value)
        self._bootstrap()
        self._nas(True)
        self._ingress()
        self.dns.start()
        self.alertmanager.start()
        self.overseerr.start()
        self.manager.start()

    def settle(self, timeout: float = 120, progress: Callable[[int, int], None] | None = None) -> None:
        """Wait for the steady state, then switch to the configured delays (also when it does not settle)."""
        try:
            self.wait_settled(timeout, progress)
        finally:
            self._inventories.clear()
            for item in dataclasses.fields(self._configured):
                setattr(self.timing, item.name, getattr(self._configured, item.name))

    def _create(self, kind_name: str, obj: dict[str, Any]) -> None:
        try:
            self.store._create(kind(kind_name), obj)  # nothing read back: no copy made of what was stored
        except ApiError:
            pass

    def _bootstrap(self) -> None:
        for namespace in ("flux-system", "default", "kube-system"):
            self._create("Namespace", {"metadata": {"name": namespace}})
        for name, arch in NODES:
            self._create("Node", {"metadata": {"name": name, "labels": {
                "kubernetes.io/arch": arch, "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        # Flux's controllers as `flux bootstrap` or a FluxInstance installs them (each controller's
        # config/manager/deployment.yaml and service.yaml): the reconciling is done in this process, the
        # Deployments and Services are there as on a cluster, for what routes to them (the webhook-receiver).
        for controller in FLUX_CONTROLLERS:
            labels = {"app": controller}
            self._create("Deployment", {"metadata": {"name": controller, "namespace": "flux-system",
                                                     "labels": {"control-plane": "controller"}},
                                        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                                                     {"name": "manager", "image": f"ghcr.io/fluxcd/{controller}"}]}}}})
        for service, controller, port in FLUX_SERVICES:
            self._create("Service", {"metadata": {"name": service, "namespace": "flux-system",
                                                  "labels": {"control-plane": "controller"}},
                                     "spec": {"type": "ClusterIP", "selector": {"app": controller},
                                              "ports": [{"name": "http", "port": 80, "protocol": "TCP",
                                                         "targetPort": port}]}})
        key = sops.rehearsal_identity()
        self._create("Secret", {"metadata": {"name": "sops-age", "namespace": "flux-system"},
                                "data": {"age.agekey": base64.b64encode(key.encode()).decode()}})
        # The cluster-wide substitution sources, where templates keep them: the common component (and its
        # sub-folders, e.g. cluster-vars/), or the vars/ folder beside the entry (kubernetes/flux/vars/, or the
        # cluster's own, kubernetes/<cluster>/flux/vars/ in carpenike/k8s-gitops) that the bootstrap's own
        # Kustomization applies to flux-system before cluster-apps reads them.
        flux_dir = self._inventory().flux_dir
        places = [flux_dir.parent / "components" / "common", flux_dir / "vars"]
        for path in sorted(p for place in places if place.is_dir() for p in place.rglob("*.yaml")):
            for doc in _documents(path):
                if isinstance(doc, dict) and doc.get("kind") in ("ConfigMap", "Secret") and \
                        (doc.get("metadata") or {}).get("name") in ("cluster-settings", "cluster-secrets"):
                    self._seed(doc)
        # What `flux bootstrap` (or the flux-operator's FluxInstance) leaves behind: the entry Kustomizations
        # applied, and the GitRepository they follow pointing at this repository.
        # Only the GitRepositories the entry follows: a FluxInstance names its own after sync.name, and no
        # flux-system GitRepository exists then (a runbook reconciling that one would fail on the cluster).
        sources: set[tuple[str, str]] = set()
        older = _template_bootstrap(self.repo)
        entries = _bootstrapped(self._inventory().flux_entry())
        for path in entries + older:
            for doc in _documents(path):
                # The ConfigMaps and Secrets beside the entry are applied with it (joryirving/home-ops:
                # kubernetes/clusters/main/cluster-info.yaml, which cluster-apps substitutes from).
                if path in entries and isinstance(doc, dict) and doc.get("kind") in ("ConfigMap", "Secret") and \
                        str(doc.get("apiVersion", "")) == "v1" and (doc.get("metadata") or {}).get("name") and \
                        (doc["metadata"].get("namespace") or "flux-system") == "flux-system":
                    self._seed(copy.deepcopy(doc))
                if isinstance(doc, dict) and doc.get("kind") == "Kustomization" and \
                        str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
                    if path in older and ((doc.get("spec") or {}).get("sourceRef") or {}).get(
                            "kind", "GitRepository") != "GitRepository":
                        continue  # the Flux install itself (flux-manifests from an OCIRepository): not rehearsed
                    doc = copy.deepcopy(doc)
                    namespace = doc["metadata"].setdefault("namespace", "flux-system")
                    ref = (doc.get("spec") or {}).get("sourceRef") or {}
                    if ref.get("kind", "GitRepository") == "GitRepository":
                        sources.add((ref.get("namespace") or namespace, ref.get("name") or "flux-system"))
                    self.apply(kind("Kustomization"), doc)
        self._bootstrap_secrets(self._inventory())
        self.entry_sources = sources
        self.own_urls = {_normal_url(url) for url in _git_urls(self.repo, sources)}
        for namespace, name in sorted(sources):
            self._create("Namespace", {"metadata": {"name": namespace}})
            self._create("GitRepository", {"metadata": {"name": name, "namespace": namespace},
                                           "spec": {"interval": "1h", "url": f"file://{self.origin}",
                                                    "ref": {"branch": self.branch}}})

    def _bootstrap_secrets(self, repo: Any) -> None:
        """What a bootstrap script creates by hand: a ``substituteFrom`` object that no file under kubernetes/
        defines exists, in each namespace that reads it, with ``rehearsal-<var>`` for the variables its
        Kustomizations need (a real cluster has it, or Flux could not have reconciled those apps)."""
        try:
            missing = set(repo.substitution_sources_missing())
            apps = repo.apps()
        except MediaopsError:
            return
        wanted: dict[tuple[str, str], set[str]] = {}
        defined = repo.substitution_sources()
        for app in apps:
            for ks in app.kustomizations:
                for name in ks.substitute_from:
                    if name in missing:
                        wanted.setdefault((ks.namespace, name), set()).update(
                            v for v in app.required if v not in defined)
        kinds_of = {}
        for ks in repo.flux_kustomizations():
            for ref in ks.substitute_from_refs:
                kinds_of[ref[0]] = ref[1]
        for (namespace, name), variables in sorted(wanted.items()):
            self._create("Namespace", {"metadata": {"name": namespace}})
            values = {v: f"rehearsal-{v.lower().replace('_', '-')}" for v in sorted(variables)}
            body = {"metadata": {"name": name, "namespace": namespace,
                                 "labels": {"mediaops.io/rehearsal-placeholder": "true"}}}
            if kinds_of.get(name, "ConfigMap") == "Secret":
                self._create("Secret", {**body, "data": {k: base64.b64encode(v.encode()).decode()
                                                         for k, v in values.items()}})
            else:
                self._create("ConfigMap", {**body, "data": values})

    def _seed(self, doc: dict[str, Any]) -> None:
        if "sops" in doc:
            try:
                doc = sops.decrypt(doc, [sops.rehearsal_identity()])
            except sops.ForeignKey:  # encrypted for someone else's key: rehearse with recognisable placeholders
                doc = sops.placeholders(doc)
        doc["metadata"]["namespace"] = "flux-system"
        if doc["kind"] == "Secret":
            plain = doc.pop("stringData", None) or {}
            data = {k: base64.b64encode(str(v).encode()).decode() for k, v in plain.items()}
            doc["data"] = {**(doc.get("data") or {}), **data}
        self._create(doc["kind"], doc)

    def _kustomizations(self) -> list[tuple[str, str, str]]:
        """(namespace/name, Ready status, message) of every Kustomization that is not suspended."""
        return [(f"{k['metadata']['namespace']}/{k['metadata']['name']}", *get_ready(k))
                for k in self.store.scan(kind("Kustomization")) if not (k.get("spec") or {}).get("suspend")]

    def not_ready(self) -> list[str]:
        """Kustomizations that are not Ready, each with Flux's reason, for one line to the operator."""
        return [f"{name} ({message})" for name, ready, message in self._kustomizations() if ready != "True"]

    def wait_settled(self, timeout: float = 120, progress: Callable[[int, int], None] | None = None) -> None:
        """Wait until every Kustomization has a verdict (none still progressing) and no controller has work
        queued, for a moment; report ``ready/total`` Kustomizations as they change."""
        deadline = time.monotonic() + timeout
        seen: tuple[int, int] | None = None
        calm_since: float | None = None
        judged: tuple[int, tuple[int, int, bool]] | None = None
        while True:
            version = self.verdicts.version
            if judged is None or judged[0] != version:  # judged again only when a Kustomization changed
                judged = (version, self.verdicts.judge())
            ready, total, decided = judged[1]
            if progress is not None and (ready, total) != seen:
                progress(ready, total)
            seen = (ready, total)
            now_ = time.monotonic()
            if decided and self.manager.idle():
                calm_since = calm_since or now_
                if now_ - calm_since >= 0.05:
                    return
            else:
                calm_since = None
            if now_ >= deadline:
                failed = set(self.verdicts.failed)
                waiting = [f"{name} ({message})" for name, state, message in self._kustomizations()
                           if state != "True" and name not in failed]
                waiting = waiting or self.not_ready() or ["no Kustomization was created from the repository"]
                raise SimError(f"the rehearsal cluster did not settle in {timeout:.0f} s: {ready}/{total} "
                               f"Kustomizations Ready; waiting for " + "; ".join(waiting[:3])
                               + (f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""),
                               hint="give it longer with --timeout SECONDS (`mediaops sim up --timeout`)")
            # decided, the controllers' queues are what is left to watch: look again soon
            self.verdicts.wait(version, min(deadline - now_, 0.01 if decided else 0.1))

    def kubeconfig(self, path: Path, context: str = "rehearsal") -> Path:
        config = {"apiVersion": "v1", "kind": "Config", "current-context": context,
                  "clusters": [{"name": context, "cluster": {"server": self.server.url}}],
                  "users": [{"name": f"{context}-operator", "user": {"token": "rehearsal"}}],
                  "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-operator"}}]}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config))
        return path

    def stop(self) -> None:
        self.manager.stop()
        self.server.shutdown()
        self.server.server_close()
        if hasattr(self, "ingress_server"):
            self.ingress_server.shutdown()
            self.ingress_server.server_close()
        self._nas(False)
        self.dns.stop()
        self.alertmanager.stop()
        self.overseerr.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _error_line(error: str) -> str:
    """A controller error kept with its traceback, as one line: which controller and object, and the exception."""
    lines = [line for line in error.splitlines() if line.strip()]
    where = lines[0].removesuffix(": Traceback (most recent call last):") if lines else ""
    return f"{where}: {lines[-1].strip()}" if len(lines) > 1 else where


def _template_bootstrap(repo: Path) -> list[Path]:
    """What the older cluster template's bootstrap applies besides the entry: ``kubernetes/flux/config`` (its
    Taskfile runs ``kubectl apply --kustomize kubernetes/flux/config``), whose ``cluster`` Kustomization applies
    ``./kubernetes/flux`` (the HelmRepositories under repositories/, then cluster-apps): seen in
    gavinmcfall/home-ops, whose rehearsal otherwise never had its chart sources."""
    config = repo / "kubernetes" / "flux" / "config"
    files = sorted(config.glob("*.yaml")) if config.is_dir() else []
    return [p.resolve() for p in _bootstrapped(files)] if files else []


def _bootstrapped(entries: list[Path]) -> list[Path]:
    """The entry files and their siblings the bootstrap applies with them: the directory `flux bootstrap` points
    its flux-system Kustomization at applies every file its kustomization.yaml lists (cluster-core and
    cluster-platform beside cluster-apps), or every file when it has none."""
    from mediaops.repo.yamlfiles import YamlError, load_all

    found: list[Path] = list(entries)
    for directory in dict.fromkeys(p.parent for p in entries):
        listing = directory / "kustomization.yaml"
        if listing.is_file():
            try:
                docs = load_all(listing, directory)
            except YamlError:
                continue
            resources = (docs[0].get("resources") or []) if docs and isinstance(docs[0], dict) else []
            found += [directory / str(r) for r in resources if (directory / str(r)).is_file()]
        else:
            found += sorted(directory.glob("*.yaml"))
    return list(dict.fromkeys(p.resolve() for p in found))


def _files_follow_the_tree(root: Path) -> bool:
    """Whether a checkout's files are its git tree's and nothing else: no attribute makes them depend on this clone's
    git configuration (a ``filter=``: git-crypt, LFS) or on the blob's name (``ident``). Text and line-ending
    attributes are part of the tree. Every home-ops repository read has a .gitattributes (``* text=auto eol=lf``,
    ``*.sops.* diff=sopsdiffer``), which alone used to keep builds from being shared."""
    for attributes in root.rglob(".gitattributes"):
        try:
            words = attributes.read_text(encoding="utf-8", errors="replace").split()
        except OSError:
            return False
        if any(w == "ident" or w.startswith("filter=") for w in words):
            return False
    return True
