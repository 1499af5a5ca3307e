"""Effective configuration: defaults, then ``mediaops.yaml``, then ``MEDIAOPS_*`` variables, then flags.

Each value remembers where it came from, so ``mediaops config show`` can say why it is what it is.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediaops.errors import UsageError

# key: (default, kind, meaning)
KEYS: dict[str, tuple[Any, str, str]] = {
    "repo": (None, "path", "the Flux repository checkout"),
    "cluster": (None, "str", "the cluster, in a repository of one tree per cluster (kubernetes/clusters/<name>)"),
    "kubeconfig": (None, "path", "kubeconfig file (else $KUBECONFIG or ~/.kube/config)"),
    "context": (None, "str", "kube context to use"),
    "allowed_contexts": ([], "list", "contexts mediaops may change without --context naming them"),
    "namespace": ("media", "str", "namespace of the media apps"),
    "nas_host": (None, "str", "the NAS serving NFS (else taken from the apps' NFS mounts)"),
    "nas_port": ("2049", "port", "the NAS's NFS port, for reachability checks"),
    "ingress_base_url": (None, "str", "base URL for ingress checks, e.g. https://{host} or http://127.0.0.1:8080"),
    "dns_server": (None, "str", "the resolver the ExternalName check asks, HOST[:PORT] (else the system's)"),
    "prometheus_url": (None, "str", "Prometheus's HTTP API, for the scrape check, e.g. http://127.0.0.1:9090"),
    "overseerr_url": (None, "str", "Overseerr's base URL, for its checks (the API key: MEDIAOPS_OVERSEERR_API_KEY)"),
    "alertmanager_url": (None, "str", "Alertmanager's API, for the silences runbooks open while an app is down"),
    "silence_minutes": ("120", "count", "how long the silences of a run that takes apps down last at most"),
    "silence_labels": (["pod", "deployment", "statefulset", "persistentvolumeclaim"], "list",
                       "alert labels that name an app, one silence each (with namespace)"),
    "notify_url": (None, "str", "a webhook told of each run's start and end (Slack-compatible, Discord, ntfy)"),
    "notify_format": ("slack", "str", "the webhook's JSON: slack (text), discord (content) or ntfy (topic, message)"),
    "backup_rpo_hours": ("24", "count", "how old the newest backup of an app's data may be, in hours"),
    "pvc_warn_percent": ("80", "count", "a PersistentVolumeClaim fuller than this warns (95: fails)"),
    "state_dir": (None, "path", "where run journals live"),
    "runbook_paths": ([], "list", "extra directories of site-specific runbooks"),
}


@dataclass
class Config:
    """The settings in force, and where each came from (a flag, the environment, the file, the default)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    file: Path | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value

    @property
    def state_dir(self) -> Path:
        value = self.values.get("state_dir")
        if value:
            return Path(value).expanduser()
        return user_dir("state")

    def rows(self) -> list[tuple[str, Any, str]]:
        rows = []
        for key in KEYS:
            value = self.values.get(key)
            if key == "state_dir" and value is None:
                value = str(self.state_dir)
            rows.append((key, value, self.sources.get(key, "default")))
        return rows


def env_name(key: str) -> str:
    """The variable overriding a setting: MEDIAOPS_<KEY>, and MEDIAOPS_RUNBOOK_PATH like PATH."""
    return "MEDIAOPS_RUNBOOK_PATH" if key == "runbook_paths" else "MEDIAOPS_" + key.upper()


def default_config_file() -> Path:
    explicit = os.environ.get("MEDIAOPS_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return user_dir("config") / "mediaops.yaml"


def cache_dir() -> Path:
    """Where what mediaops can make again is kept (the runbook catalog, parsed files, the rehearsal's builds):
    MEDIAOPS_CACHE_DIR, else the user's cache directory. Losing it only makes the next command slower."""
    explicit = os.environ.get("MEDIAOPS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return user_dir("cache")


# On Linux the user's directories are the XDG Base Directory specification's: $XDG_<KIND>_HOME when it is an
# absolute path, else the default under an absolute $HOME; platformdirs (unix.py with _xdg.py) answers the same, and
# tests/unit/test_config.py holds the two side by side. Importing platformdirs costs every command 6 ms (its Unix
# module imports tempfile), a tenth of `mediaops list`; anything else (another platform, a relative or missing HOME)
# asks it.
_XDG_DEFAULTS = {"cache": ".cache", "config": ".config", "state": ".local/state"}


def user_dir(kind: str) -> Path:
    """The user's ``kind`` directory for mediaops: cache, config or state."""
    if sys.platform == "linux":
        xdg = os.environ.get(f"XDG_{kind.upper()}_HOME", "")
        if os.path.isabs(xdg):
            return Path(xdg, "mediaops")
        home = os.environ.get("HOME", "")
        if os.path.isabs(home):
            return Path(home, _XDG_DEFAULTS[kind], "mediaops")
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")("mediaops"))


def keep_in_cache(path: Path, data: bytes, *, most: int = 0, pattern: str = "*") -> None:
    """Write ``data`` to ``path`` whole: into a temporary file beside it, renamed into place, so no reader (another
    command at the same time) ever sees half of it. With ``most``, once more than that many files match ``pattern``
    beside it, the oldest half go. Temporary files a killed command left behind go once they are an hour old. A
    cache that cannot be written is only slower: nothing is raised."""
    import contextlib
    import fnmatch
    import tempfile
    import time

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        # Only names are compared on every write; the files' ages are read only once there are too many (a cache
        # of thousands of builds would otherwise cost each write a stat of every one of them).
        beside: list[os.DirEntry[str]] = []
        for entry in os.scandir(path.parent):
            with contextlib.suppress(OSError):
                if entry.name.startswith(".writing-"):
                    if entry.stat().st_mtime < time.time() - 3600:
                        os.unlink(entry.path)
                elif most and fnmatch.fnmatchcase(entry.name, pattern):
                    beside.append(entry)
        if most and len(beside) > most:
            aged: list[tuple[float, str]] = []
            for entry in beside:
                with contextlib.suppress(OSError):
                    aged.append((entry.stat().st_mtime, entry.path))
            for _, old in sorted(aged)[:len(aged) // 2]:
                with contextlib.suppress(OSError):
                    os.unlink(old)
    except OSError:
        pass


def checkout_name(root: Path) -> str:
    """A checkout's path as part of a cache file's name, to be found by eye (ASCII letters and digits, the last
    100); the file's whole key is inside it."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in str(root).strip("/"))[-100:]


def file_stamps(paths: Any) -> str:
    """Each file's path, size and modification time, a line each: a cache key that changes when any of them
    does. OSError when one is missing."""
    lines = []
    for path in paths:
        stat = os.stat(path)
        lines.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(lines)


def kept(path: Path, key: Any) -> Any:
    """What ``keep`` wrote to ``path`` for ``key``; None when there is none, it is damaged, or it was made for
    another key (a file's name is only a checksum: the whole key is kept in it and compared)."""
    import marshal

    try:
        kept_key, value = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return value if kept_key == key else None


def keep(path: Path, key: Any, value: Any, *, most: int = 0, pattern: str = "*") -> None:
    """``value`` kept at ``path`` with its whole ``key`` (keep_in_cache; a value marshal cannot hold is not kept)."""
    import marshal

    try:
        data = marshal.dumps((key, value))
    except ValueError:
        return
    keep_in_cache(path, data, most=most, pattern=pattern)


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = KEYS[key][1]
    if value is None:
        return None
    if kind == "list":
        if isinstance(value, str):
            return [item for item in value.replace(",", os.pathsep).split(os.pathsep) if item]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        raise UsageError(f"{origin}: {key} must be a list of strings")
    if not isinstance(value, str | int | float):
        raise UsageError(f"{origin}: {key} must be a single value, not {type(value).__name__}")
    text = str(value)
    if kind == "count" and not (text.isdigit() and int(text) > 0):
        raise UsageError(f"{origin}: {key} must be a whole number above 0, not {text!r}")
    if kind == "port" and not (text.isdigit() and 0 < int(text) < 65536):
        raise UsageError(f"{origin}: {key} must be a TCP port (1 to 65535), not {text!r}")
    return str(Path(text).expanduser()) if kind == "path" else text


def load(config_file: Path | None = None, flags: dict[str, Any] | None = None) -> Config:
    """Build the effective configuration; unknown keys and malformed files are one clear error."""
    config = Config()
    for key, (default, _, _) in KEYS.items():
        config.values[key] = default
    path = config_file or default_config_file()
    if path.is_file():
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark else ""
            raise UsageError(f"{path}{where}: not valid YAML", hint="fix the config file") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: expected a mapping of settings")
        for key, value in data.items():
            key = str(key).replace("-", "_")
            if key not in KEYS:
                raise UsageError(f"{path}: unknown setting {key!r}", hint=f"known: {', '.join(KEYS)}")
            config.values[key] = _coerce(key, value, str(path))
            config.sources[key] = str(path)
        config.file = path
    elif config_file is not None:
        raise UsageError(f"config file {config_file} does not exist")
    for key in KEYS:
        env = env_name(key)
        if env in os.environ:
            config.values[key] = _coerce(key, os.environ[env], env)
            config.sources[key] = env
    for key, value in (flags or {}).items():
        if value not in (None, (), []):
            config.values[key] = _coerce(key, list(value) if isinstance(value, tuple) else value, "flag")
            config.sources[key] = f"--{key.replace('_', '-')}"
    return config
