"""Activation and deactivation as file edits: ks.dis <-> ks.yaml and the namespace list's entry (only the entry for
an app that is a file of its own beside the list, as in a repository of one tree per cluster)."""

from __future__ import annotations

import posixpath

from mediaops.engine.model import Changes, FileChange
from mediaops.errors import UsageError
from mediaops.repo.inventory import Repository
from mediaops.repo.model import App
from mediaops.repo.yamlfiles import commented_out, load_all, read_text


def _entry_style(repo: Repository, namespace: str, entry: str) -> str:
    path = repo.namespace_kustomization(namespace)
    docs = load_all(path, repo.root) if path.is_file() else []
    resources = [str(r) for r in (docs[0].get("resources") or [])] if docs and isinstance(docs[0], dict) else []
    dotted = any(r.startswith("./") for r in resources) or not resources
    return f"./{entry}" if dotted else entry


def _entry(repo: Repository, app: App) -> str:
    """What the namespace kustomization lists for the app: its ks.yaml (group/name/ks.yaml in a group folder), or
    the file of another name that holds its Flux Kustomizations (one file per app beside the list: autobrr.yaml;
    ahinko/home-ops's plex/install.yaml)."""
    ns_dir = repo.rel(repo.namespace_kustomization(app.namespace).parent)
    if beside_the_list(repo, app):
        return posixpath.relpath(app.ks_file, ns_dir)
    return posixpath.relpath(app.directory, ns_dir) + "/ks.yaml"


def beside_the_list(repo: Repository, app: App) -> bool:
    """Whether the app's Flux Kustomizations are in a file named otherwise than ks.yaml (beside the namespace
    kustomization, or install.yaml in the app's folder): listed or not, it is never renamed; activation lists it
    and deactivation takes it out of the list."""
    return bool(app.ks_file) and posixpath.basename(app.ks_file) not in ("ks.yaml", "ks.dis")


def activation(repo: Repository, app: App) -> Changes:
    """ks.dis becomes ks.yaml and the namespace kustomization lists it; nothing else in either file moves."""
    from mediaops.repo.yamlfiles import add_list_entry

    directory = repo.root / app.directory
    ks_dis, ks_yaml = directory / "ks.dis", directory / "ks.yaml"
    files: list[FileChange] = []
    if ks_dis.is_file() and not ks_yaml.is_file() and not beside_the_list(repo, app):
        text = read_text(ks_dis)
        files += [FileChange(repo.rel(ks_dis), text, None),
                  FileChange(repo.rel(ks_yaml), None, text, moved_from=repo.rel(ks_dis))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = add_list_entry(before, "resources", _entry_style(repo, app.namespace, _entry(repo, app)),
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
    if ks_yaml.is_file() and not ks_dis.is_file() and not beside_the_list(repo, app):
        text = read_text(ks_yaml)
        files += [FileChange(repo.rel(ks_yaml), text, None),
                  FileChange(repo.rel(ks_dis), None, text, moved_from=repo.rel(ks_yaml))]
    ns_file = repo.namespace_kustomization(app.namespace)
    if ns_file.is_file():
        before = ns_file.read_text(encoding="utf-8")
        after = before
        listed_as = _entry(repo, app)
        for entry in (f"./{listed_as}", listed_as):
            after = remove_list_entry(after, "resources", entry, repo.rel(ns_file))
        if after != before:
            files.append(FileChange(repo.rel(ns_file), before, after))
    return Changes(repo.root, tuple(files), summary=f"deactivated {app.name} in the repository")


def edit_command(repo: Repository, app: App, *, activate: bool) -> str:
    """What a human would type for ``activation`` (or ``deactivation``) of this app, decided as they decide: the
    rename when there is one, and the namespace list's entry."""
    directory = repo.root / app.directory
    old, new = ("ks.dis", "ks.yaml") if activate else ("ks.yaml", "ks.dis")
    rename = not beside_the_list(repo, app) and (directory / old).is_file() and not (directory / new).is_file()
    entry = _entry_style(repo, app.namespace, _entry(repo, app))
    ns_path = repo.namespace_kustomization(app.namespace)
    ns_file = repo.rel(ns_path)
    lines = read_text(ns_path).splitlines(keepends=True) if ns_path.is_file() else []
    uncomment = activate and commented_out(lines, "resources", entry) is not None  # as add_list_entry does
    listing = f"{'uncomment' if uncomment else 'add'} {entry} under resources: in {ns_file}" if activate else \
        f"remove {entry} from resources: in {ns_file}"
    if rename:
        return f"git mv {app.directory}/{old} {app.directory}/{new}\n# and {listing}"
    return f"# {listing}"
