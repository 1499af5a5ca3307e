"""Activation and deactivation as file edits: ks.dis <-> ks.yaml and the namespace list's entry."""

from __future__ import annotations

import posixpath

from mediaops.engine.model import Changes, FileChange
from mediaops.errors import UsageError
from mediaops.repo.inventory import Repository
from mediaops.repo.model import App
from mediaops.repo.yamlfiles import load_all, read_text


def _entry_style(repo: Repository, namespace: str, app: str) -> str:
    path = repo.namespace_kustomization(namespace)
    docs = load_all(path, repo.root) if path.is_file() else []
    resources = [str(r) for r in (docs[0].get("resources") or [])] if docs and isinstance(docs[0], dict) else []
    dotted = any(r.startswith("./") for r in resources) or not resources
    return f"./{app}/ks.yaml" if dotted else f"{app}/ks.yaml"


def _listed_as(repo: Repository, app: App) -> str:
    """The app's folder as the namespace kustomization lists it: its name, or group/name in a group folder."""
    return posixpath.relpath(app.directory, repo.rel(repo.namespace_kustomization(app.namespace).parent))


def activation(repo: Repository, app: App) -> Changes:
    """ks.dis becomes ks.yaml and the namespace kustomization lists it; nothing else in either file moves."""
    from mediaops.repo.yamlfiles import add_list_entry

    directory = repo.root / app.directory
    ks_dis, ks_yaml = directory / "ks.dis", directory / "ks.yaml"
    files: list[FileChange] = []
    if ks_dis.is_file() and not ks_yaml.is_file():
        text = read_text(ks_dis)
        files += [FileChange(repo.rel(ks_dis), text, None),
                  FileChange(repo.rel(ks_yaml), None, text, moved_from=repo.rel(ks_dis))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = add_list_entry(before, "resources", _entry_style(repo, app.namespace, _listed_as(repo, app)),
                                repo.rel(ns_file))
        if after != before:
            files.append(FileChange(repo.rel(ns_file), before, after))
    else:
        raise UsageError(f"{repo.rel(ns_file)} does not exist", hint="create the namespace kustomization first")
    return Changes(repo.root, tuple(files), summary=f"activated {app.name} in the repository")


def deactivation(repo: Repository, app: App) -> Changes:
    """The exact reverse of ``activation``."""
    from mediaops.repo.yamlfiles import remove_list_entry

    directory = repo.root / app.directory
    ks_dis, ks_yaml = directory / "ks.dis", directory / "ks.yaml"
    files: list[FileChange] = []
    if ks_yaml.is_file() and not ks_dis.is_file():
        text = read_text(ks_yaml)
        files += [FileChange(repo.rel(ks_yaml), text, None),
                  FileChange(repo.rel(ks_dis), None, text, moved_from=repo.rel(ks_yaml))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = before
        listed_as = _listed_as(repo, app)
        for entry in (f"./{listed_as}/ks.yaml", f"{listed_as}/ks.yaml"):
            after = remove_list_entry(after, "resources", entry, repo.rel(ns_file))
        if after != before:
            files.append(FileChange(repo.rel(ns_file), before, after))
    return Changes(repo.root, tuple(files), summary=f"deactivated {app.name} in the repository")
