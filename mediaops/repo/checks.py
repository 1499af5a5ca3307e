"""The rules of ``apps --check``: what Flux would fail on, or deploy otherwise than meant."""

from __future__ import annotations

import msgspec

from mediaops.repo.inventory import Repository
from mediaops.repo.model import ARCHIVED, NO_SUBSTITUTE, UNREADABLE, App, Ref
from mediaops.repo.yamlfiles import YamlError


class Finding(msgspec.Struct, frozen=True):
    """One thing ``apps --check`` reports: an error (Flux fails, or deploys something else than meant) or a
    warning (mediaops cannot tell from the repository alone)."""

    where: str
    what: str
    level: str = "error"


def variable_findings(repo: Repository, app: App) -> list[Finding]:
    """What is wrong with the ``${VAR}``s of one app, judged as Flux's post-build substitution works."""
    where = f"{app.namespace}/{app.name}"
    defined = repo.substitution_sources()
    missing = repo.substitution_sources_missing()
    sources = list(dict.fromkeys(name for ks in app.kustomizations for name in ks.substitute_from))
    # A substituteFrom Secret an ExternalSecret of the repository makes holds the keys its template names; where
    # the secret store decides them (dataFrom), the repository does not show them: nothing to say then.
    store = repo.substitution_sources_from_store()
    made = [name for name in sources if name in store]
    elsewhere = [name for name in sources if name in missing and name not in store]
    found: list[Finding] = []
    for var in app.required:
        if var in defined or any(store[name] is None or var in (store[name] or ()) for name in made):
            continue
        if elsewhere:
            found.append(Finding(where, f"${{{var}}} is defined nowhere under kubernetes/; it may come from "
                                        f"{', '.join(elsewhere)} (substituteFrom), which is created elsewhere",
                                 "warning"))
        elif sources:
            found.append(Finding(where, f"${{{var}}} is defined by none of its substitution sources "
                                        f"({', '.join(sources)}); Flux renders it empty"))
        else:
            found.append(Finding(where, f"${{{var}}} has no value: its Kustomization substitutes only "
                                        "postBuild.substitute; Flux renders it empty"))
    for var in app.unsubstituted:
        if var in defined:  # a cluster variable where Flux will not put it: almost surely meant to be filled in
            found.append(Finding(where, f"${{{var}}} sits in a file Flux does not substitute ({NO_SUBSTITUTE}: "
                                        f"disabled, or no postBuild); it reaches the cluster as written"))
    return found


def problems(repo: Repository, namespace: str | None = None) -> list[Finding]:
    """Everything ``mediaops apps --check`` reports, each following Flux's documented behaviour."""
    found: list[Finding] = []
    apps = [a for a in repo.apps() if a.state != ARCHIVED and (namespace is None or a.namespace == namespace)]
    known_ks = {k.ref for k in repo.flux_kustomizations()}
    known_hr = {Ref(h.name, h.namespace) for a in repo.apps() for h in a.helmreleases}
    elsewhere = _OtherClusters(repo)
    owners: dict[Ref, list[str]] = {}
    for app in repo.apps():
        for ks in app.kustomizations:
            if app.state != ARCHIVED:
                owners.setdefault(ks.ref, []).append(f"{app.namespace}/{app.name}")
    for ns_dir in repo.namespace_dirs():
        if namespace is not None and ns_dir.name != namespace:
            continue
        try:
            listed = repo.listed(ns_dir.name)
        except YamlError:
            continue
        for entry in sorted({e for e in listed if listed.count(e) > 1}):
            found.append(Finding(repo.rel(repo.namespace_kustomization(ns_dir.name)),
                                 f"lists {entry} twice: kustomize refuses the build, and every app of the "
                                 "entry Kustomization with it"))
    for ref, where_defined in owners.items():
        if len(where_defined) > 1:
            for where in where_defined:
                if namespace is None or where.startswith(namespace + "/"):
                    found.append(Finding(where, f"Kustomization {ref} is also defined by "
                                                f"{', '.join(w for w in where_defined if w != where)}: "
                                                "one overwrites the other (or the build fails)"))
    for app in apps:
        where = f"{app.namespace}/{app.name}"
        for what, named, target in app.moved:
            found.append(Finding(where, f"{what} names namespace {named}, but its Kustomization's targetNamespace "
                                        f"puts it in {target} (Flux overrides it)", level="warning"))
        found += [Finding(where, reason) for reason in app.reasons]
        if app.state == UNREADABLE:
            continue
        for ks in app.kustomizations:
            for dep in ks.depends_on:
                if dep not in known_ks:
                    found.append(Finding(where, f"Kustomization {ks.name} dependsOn {dep}, which exists nowhere "
                                                f"{elsewhere.said(dep, 'ks')}"))
        for hr in app.helmreleases:
            for dep in hr.depends_on:
                if dep not in known_hr:
                    found.append(Finding(where, f"HelmRelease {hr.name} dependsOn HelmRelease {dep}, which exists "
                                                f"nowhere {elsewhere.said(dep, 'hr')}"))
        found += variable_findings(repo, app)
    # One line per problem: a broken namespace kustomization.yaml is one problem, not one per app.
    unique: dict[tuple[str, str], Finding] = {}
    for finding in found:
        about_a_file = finding.what.startswith("kubernetes/")  # file:line: … is the same for every app
        unique.setdefault(("", finding.what) if about_a_file else (finding.where, finding.what), finding)
    return list(unique.values())


class _OtherClusters:
    """Where a name missing from the chosen cluster's tree is, in a repository of one tree per cluster: a
    dependency copied from another cluster's tree is the usual cause (carpenike/k8s-gitops: cluster-0's apps name
    ``cluster-apps-…`` Kustomizations that only nas-1 has). Read only when a name is missing."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._refs: dict[str, dict[str, set[Ref]]] | None = None

    def said(self, ref: Ref, kind: str) -> str:
        """The end of the sentence: where the name was looked for, and the other clusters that have it."""
        if not self.repo.cluster:
            return "in the repository"
        here = f"in cluster {self.repo.cluster}'s tree"
        having = sorted(name for name, refs in self._other_refs().items() if ref in refs[kind])
        return f"{here} (only in {', '.join(having)}'s)" if having else f"{here} nor any other cluster's"

    def _other_refs(self) -> dict[str, dict[str, set[Ref]]]:
        from mediaops.errors import MediaopsError
        from mediaops.repo.inventory import cluster_trees

        if self._refs is None:
            self._refs = {}
            for name in sorted(cluster_trees(self.repo.root)):
                if name == self.repo.cluster:
                    continue
                try:
                    other = Repository.open(self.repo.root, self.repo.default_namespace, name)
                    self._refs[name] = {"ks": {k.ref for k in other.flux_kustomizations()},
                                        "hr": {Ref(h.name, h.namespace) for a in other.apps()
                                               for h in a.helmreleases}}
                except (MediaopsError, YamlError):  # a tree the inventory cannot read names nothing here
                    continue
        return self._refs

