"""A checkout's whole inventory kept between runs of the commands that only read it (`apps`, `app`, `graph`,
`status`).

The parse cache (yamlfiles.DiskCache) spares parsing each file again; building the apps from the parsed files
still costs about 0.3 ms an app. What is kept here is the apps themselves, with the key they were built for:

- every entry of the checkout but ``.git``: a file's path, size and modification time, a folder's path and
  modification time, in the order the file system lists them. An edit, a file or folder added, removed or
  renamed, and ``git checkout`` (it rewrites the files it changes) all change it, and the apps are built again
  (nothing is kept while an entry is younger than two seconds: written again within the clock's tick to the
  same size, it would keep its stamp);
- the files of the code that builds them, the Python version, the namespace and cluster settings, and the kinds
  whose scope the kind registry knows otherwise than by their name (kinds.scopes_known: CRDs registered in the
  process, by a rehearsal in it, change which objects the inventory says a Kustomization moves to another
  namespace).

The inventory reads files anywhere in the checkout (a Kustomization's ``spec.path``, ``archive/``,
``clusters/``), so the whole checkout is walked: a checkout holding a symbolic link (what it points at is
outside the walk) or more than MOST_ENTRIES entries is not kept, nor are apps whose files name a path outside the
checkout (Repository._within). The file holds the key (marshal) and then the
apps (pickle), written whole by config.keep_in_cache; it is read only when the key matches.
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any

VERSION = 1  # bump when the model's classes change in a way their files' stamps would not show
MOST_ENTRIES = 100_000  # about 0.2 s to walk; past this, a checkout holds far more than its apps
# The modules whose code decides what the apps are.
BUILDERS = ("repo/inventory.py", "repo/model.py", "repo/apptemplate.py", "repo/yamlfiles.py", "repo/snapshot.py",
            "selectors.py", "cluster/kinds.py")


def _walk(root: str) -> list[tuple[Any, ...]] | None:
    """(path, mtime) of each folder and (path, mtime, size) of each file under ``root`` but ``.git``; None for a
    checkout that cannot be kept (a symbolic link, too many entries, a folder that cannot be read)."""
    entries: list[tuple[Any, ...]] = []
    folders = [root]
    try:
        while folders:
            folder = folders.pop()
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.is_symlink():
                        return None
                    if entry.is_dir():
                        if folder == root and entry.name == ".git":
                            continue
                        folders.append(entry.path)
                        entries.append((entry.path, entry.stat().st_mtime_ns))
                    else:
                        stat = entry.stat()
                        entries.append((entry.path, stat.st_mtime_ns, stat.st_size))
            if len(entries) > MOST_ENTRIES:
                return None
    except OSError:
        return None
    return entries


def file_name(root: Path, cluster: str = "") -> str:
    """The file a checkout's apps (of one cluster) are kept in, named after it to be found by eye (the whole key is
    inside)."""
    from mediaops.config import checkout_name

    return f"inventory-{checkout_name(root)}{'-' + checkout_name(Path(cluster)) if cluster else ''}.bin"


class Snapshot:
    """The kept inventory of one checkout: ``load`` before building the apps, ``save`` what was built."""

    def __init__(self, root: Path, namespace: str, cluster: str = "") -> None:
        from mediaops.config import cache_dir

        self.root, self.namespace, self.cluster = root, namespace, cluster
        self.path = cache_dir() / file_name(root, cluster)
        self.key: Any = None
        self.taken = 0  # when the key's stamps were read (time.time_ns)

    def _key(self) -> Any:
        from mediaops.config import file_stamps

        entries = _walk(str(self.root))
        if entries is None:
            return None
        package = Path(__file__).resolve().parent.parent
        try:
            code = file_stamps(package / part for part in BUILDERS)
        except OSError:
            return None
        from mediaops.cluster.kinds import scopes_known

        return (VERSION, sys.version, code, self.namespace, self.cluster, scopes_known(), str(self.root),
                os.stat(self.root).st_mtime_ns, entries)

    def load(self) -> Any:
        """The apps kept for the checkout as it is now, or None (the key is taken for ``save``)."""
        import _pickle as pickle  # pickle's own C implementation: the pickle module costs a read 6 ms more
        import time

        self.taken = time.time_ns()
        self.key = self._key()
        if self.key is None:
            return None
        try:
            with open(self.path, "rb") as kept:
                if marshal.load(kept) != self.key:
                    return None
                apps = pickle.load(kept)
        except Exception:  # missing, damaged, or written by another version: build the apps instead
            return None
        from mediaops.repo.yamlfiles import DISK_CACHE

        DISK_CACHE.whole_run = False  # the files not parsed this time are still the checkout's
        return apps

    def save(self, apps: Any) -> None:
        """Keep ``apps``, built for the key ``load`` took (not when the checkout cannot be kept)."""
        import _pickle as pickle

        from mediaops.config import keep_in_cache
        from mediaops.repo.yamlfiles import KEPT_REPOSITORIES

        if self.key is None or self._racy():
            return
        try:
            data = marshal.dumps(self.key) + pickle.dumps(apps, protocol=5)  # the highest of Python 3.8 and later
        except Exception:  # what cannot be kept is only built again next time
            return
        keep_in_cache(self.path, data, most=KEPT_REPOSITORIES, pattern="inventory-*")

    def _racy(self) -> bool:
        """Whether an entry of the key had changed less than two seconds (yamlfiles.RACY_NS) before its stamps were
        read: written again within the file system's clock tick, to the same size, it would keep its stamp with
        other content (measured from when the stamps were read, not from now: the build in between may be long)."""
        from mediaops.repo.yamlfiles import RACY_NS

        newest = max((entry[1] for entry in self.key[-1]), default=0)
        return bool(self.taken - max(newest, self.key[-2]) < RACY_NS)
