"""`apps --check`, rule by rule: for each, a case Flux gets wrong (reported) and one it gets right (not reported).

Each case is a small repository written in the test; the rules follow kustomize-controller's documented
behaviour (docs/spec/v1/kustomizations.md, "Post build variable substitution").
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mediaops.repo import Repository, problems

ENTRY = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./kubernetes/apps
  sourceRef: {kind: GitRepository, name: flux-system}
"""
SETTINGS = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-settings
  namespace: flux-system
data:
  TIMEZONE: Europe/Berlin
"""


def _repo(root: Path, ks_spec: str, manifest: str, extra: dict[str, str] | None = None,
          listing: str = "  - ./app/ks.yaml\n") -> Repository:
    files = {
        "kubernetes/flux/cluster/ks.yaml": ENTRY,
        "kubernetes/flux/vars/cluster-settings.yaml": SETTINGS,
        "kubernetes/apps/demo/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: demo\nresources:\n"
            + listing,
        "kubernetes/apps/demo/app/ks.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\nspec:\n"
            "  path: ./kubernetes/apps/demo/app/app\n  sourceRef: {kind: GitRepository, name: flux-system}\n"
            + textwrap.indent(textwrap.dedent(ks_spec).strip("\n"), "  ") + "\n",
        "kubernetes/apps/demo/app/app/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./manifest.yaml\n",
        "kubernetes/apps/demo/app/app/manifest.yaml": textwrap.dedent(manifest),
        **(extra or {}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Repository.open(root)


def _findings(repo: Repository) -> list[tuple[str, str]]:
    return [(f.level, f.what) for f in problems(repo)]


CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
{labels}data:
  value: "{value}"
"""
FROM_SETTINGS = """
postBuild:
  substituteFrom:
    - {kind: ConfigMap, name: cluster-settings}
"""


def _configmap(value: str, labels: str = "") -> str:
    return CONFIGMAP.format(value=value, labels=labels)


@pytest.mark.parametrize(("case", "ks_spec", "manifest", "expected"), [
    ("an undefined variable is rendered empty", FROM_SETTINGS, _configmap("${UNDEFINED}"),
     [("error", "${UNDEFINED} is defined by none of its substitution sources (cluster-settings); "
                "Flux renders it empty")]),
    ("a defined variable", FROM_SETTINGS, _configmap("${TIMEZONE}"), []),
    ("$${VAR} is the escape for ${VAR}", FROM_SETTINGS, _configmap("$${UNDEFINED}"), []),
    ("a default is a value", FROM_SETTINGS, _configmap("${UNDEFINED:=fallback}"), []),
    ("no postBuild: Flux substitutes nothing", "", _configmap("${UNDEFINED}"), []),
    ("postBuild.substitute only", "postBuild:\n  substitute:\n    APP: app\n", _configmap("${APP}-${OTHER}"),
     [("error", "${OTHER} has no value: its Kustomization substitutes only postBuild.substitute; "
                "Flux renders it empty")]),
    ("substitution disabled by annotation", FROM_SETTINGS, _configmap(
        "${UNDEFINED}", "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"), []),
    ("substitution disabled by label", FROM_SETTINGS, _configmap(
        "${UNDEFINED}", "  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"), []),
    ("a cluster variable where substitution is disabled", FROM_SETTINGS, _configmap(
        "${TIMEZONE}", "  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"),
     [("error", "${TIMEZONE} sits in a file Flux does not substitute (kustomize.toolkit.fluxcd.io/substitute: "
                "disabled, or no postBuild); it reaches the cluster as written")]),
    ("a source created outside kubernetes/ is a warning",
     "postBuild:\n  substituteFrom:\n    - {kind: Secret, name: bootstrap-made}\n", _configmap("${TUNNEL_ID}"),
     [("warning", "${TUNNEL_ID} is defined nowhere under kubernetes/; it may come from bootstrap-made "
                  "(substituteFrom), which is created elsewhere")]),
])
def test_variable_rules(tmp_path: Path, case: str, ks_spec: str, manifest: str,
                        expected: list[tuple[str, str]]) -> None:
    assert _findings(_repo(tmp_path, ks_spec, manifest)) == expected, case


def test_a_substitution_source_anywhere_under_kubernetes_counts(tmp_path: Path) -> None:
    spec = "postBuild:\n  substituteFrom:\n    - {kind: ConfigMap, name: app-vars}\n"
    generator = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n"
                 "  - name: app-vars\n    literals:\n      - REGION=eu\n")
    repo = _repo(tmp_path, spec, _configmap("${REGION}"), {"kubernetes/bootstrap/vars/kustomization.yaml": generator})
    assert _findings(repo) == []


@pytest.mark.parametrize(("resource", "reported"), [
    ("https://github.com/kubernetes-sigs/external-dns//kustomize?ref=v0.15.0", False),
    ("./missing.yaml", True),
])
def test_remote_resources_are_allowed(tmp_path: Path, resource: str, reported: bool) -> None:
    repo = _repo(tmp_path, "", _configmap("x"))
    kfile = tmp_path / "kubernetes/apps/demo/app/app/kustomization.yaml"
    kfile.write_text(kfile.read_text() + f"  - {resource}\n")
    found = _findings(repo)
    assert bool(found) == reported, found
    if reported:
        assert found == [("error", "kubernetes/apps/demo/app/app/kustomization.yaml: resource ./missing.yaml "
                                   "does not exist")]


@pytest.mark.parametrize(("listing", "reported"), [("  - ./app/ks.yaml\n", False),
                                                   ("  - ./app/ks.yaml\n  - ./old/ks.yaml\n", True)])
def test_a_folder_no_one_lists_is_not_an_app(tmp_path: Path, listing: str, reported: bool) -> None:
    old = tmp_path / "kubernetes/apps/demo/old"
    old.mkdir(parents=True)
    (old / "ks.bak").write_text("kept for later\n")
    repo = _repo(tmp_path, "", _configmap("x"), listing=listing)
    names = [a.name for a in repo.apps()]
    assert ("old" in names) == reported
    assert bool(_findings(repo)) == reported


@pytest.mark.parametrize(("dependency", "reported"), [("{name: other}", False), ("{name: other, namespace: x}", True)])
def test_depends_on_resolves_in_the_namespace_kustomize_sets(tmp_path: Path, dependency: str, reported: bool) -> None:
    other = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: other\n"
             "  namespace: flux-system\nspec:\n  path: ./kubernetes/apps/demo/app/app\n")
    repo = _repo(tmp_path, f"dependsOn:\n  - {dependency}\n", _configmap("x"),
                 {"kubernetes/apps/demo/other/ks.yaml": other},
                 listing="  - ./app/ks.yaml\n  - ./other/ks.yaml\n")
    # the namespace kustomization's namespace: demo replaces flux-system, so `other` is demo/other
    assert [k.namespace for a in repo.apps() for k in a.kustomizations] == ["demo", "demo"]
    found = _findings(repo)
    assert bool(found) == reported, found


def test_another_charts_service_monitor_is_not_a_monitor_named_enabled(tmp_path: Path) -> None:
    release = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: external-secrets
    spec:
      chart:
        spec: {chart: external-secrets, version: 0.20.0, sourceRef: {kind: HelmRepository, name: es}}
      values:
        serviceMonitor: {enabled: true, interval: 1m}
        image: {repository: ghcr.io/external-secrets/external-secrets}
    """
    repo = _repo(tmp_path, "", release)
    app = repo.app("app")
    assert app.service_monitors == ["external-secrets"]
    assert [(c.image, c.tag) for c in app.images] == [("ghcr.io/external-secrets/external-secrets", "")]


def test_the_listed_file_holds_the_apps_kustomizations_whatever_its_name(tmp_path: Path) -> None:
    """Some repositories name it install.yaml: the namespace lists ./app/install.yaml, there is no ks.yaml."""
    repo = _repo(tmp_path, "", _configmap("x"), listing="  - ./app/install.yaml\n")
    ks = tmp_path / "kubernetes/apps/demo/app/ks.yaml"
    ks.rename(ks.with_name("install.yaml"))
    (app,) = repo.apps()
    assert (app.state, app.ks_file) == ("active", "kubernetes/apps/demo/app/install.yaml")
    assert [k.name for k in app.kustomizations] == ["app"] and _findings(repo) == []


@pytest.mark.parametrize(("made_by_an_external_secret", "expected"), [
    (True, []),
    (False, [("warning", "${TOKEN} is defined nowhere under kubernetes/; it may come from app-vars "
                         "(substituteFrom), which is created elsewhere")]),
])
def test_a_substitution_secret_from_the_secret_store(tmp_path: Path, made_by_an_external_secret: bool,
                                                     expected: list[tuple[str, str]]) -> None:
    spec = "postBuild:\n  substituteFrom:\n    - {kind: Secret, name: app-vars}\n"
    secret = ("\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: app\nspec:\n"
              "  secretStoreRef: {kind: ClusterSecretStore, name: onepassword}\n  target: {name: app-vars}\n"
              "  dataFrom: [{extract: {key: app}}]\n")
    manifest = _configmap("${TOKEN}") + (secret if made_by_an_external_secret else "")
    assert _findings(_repo(tmp_path, spec, manifest)) == expected


# -- targetNamespace overrides what an object names -----------------------------------------------------------
MOVED = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {named}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  namespace: elsewhere
"""


@pytest.mark.parametrize(("named", "reported"), [("media", True), ("demo", False)])
def test_an_object_naming_a_namespace_targetnamespace_overrides_warns(tmp_path: Path, named: str,
                                                                      reported: bool) -> None:
    repo = _repo(tmp_path, "targetNamespace: demo", MOVED.format(named=named))
    found = [f for f in problems(repo) if "targetNamespace" in f.what]
    # kustomize-controller sets every namespaced object's namespace to targetNamespace; a ClusterRole has none.
    assert [(f.level, "ConfigMap/settings names namespace media" in f.what) for f in found] == (
        [("warning", True)] if reported else [])
