"""Layouts found on public home-ops repositories: apps in a group folder the namespace lists into
(`./mcp/context7/ks.yaml`), and entry Kustomizations beside cluster-apps (cluster-core -> ./kubernetes/core) whose
Kustomizations other apps dependsOn."""

from __future__ import annotations

from pathlib import Path

from mediaops.repo import Repository, activation, problems

KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
spec:
  path: ./kubernetes/apps/ai/{path}/app
  sourceRef: {{kind: GitRepository, name: flux-system}}
{extra}"""
ENTRY = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  path: ./kubernetes/{tree}
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""


def _write(root: Path, files: dict[str, str], cluster: str = "") -> Repository:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Repository.open(root, cluster=cluster)


def test_group_folders_hold_apps_and_core_trees_hold_dependencies(tmp_path: Path) -> None:
    listing = "  - ./mcp/context7/ks.yaml\n  # - ./mcp/sentry/ks.yaml\n  - ./tei/ks.yaml\n"
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/flux/cluster/cluster-core.yaml": ENTRY.format(name="cluster-core", tree="core"),
        "kubernetes/core/rook-ceph/kustomization.yaml": "namespace: rook-ceph\nresources:\n  - ./cluster/ks.yaml\n",
        "kubernetes/core/rook-ceph/cluster/ks.yaml": KS.format(name="rook-ceph-cluster", path="x", extra=""),
        "kubernetes/apps/ai/kustomization.yaml": "namespace: ai\nresources:\n" + listing,
        "kubernetes/apps/ai/mcp/context7/ks.yaml": KS.format(
            name="context7", path="mcp/context7",
            extra="  dependsOn:\n    - name: rook-ceph-cluster\n      namespace: rook-ceph\n"),
        "kubernetes/apps/ai/mcp/sentry/ks.dis": KS.format(name="sentry", path="mcp/sentry", extra=""),
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra=""),
        **{f"kubernetes/apps/ai/{d}/app/kustomization.yaml": "resources: []\n"
           for d in ("mcp/context7", "mcp/sentry", "tei")},
    })
    states = {(a.name, a.directory): a.state for a in repo.apps()}
    assert states == {("context7", "kubernetes/apps/ai/mcp/context7"): "active",
                      ("sentry", "kubernetes/apps/ai/mcp/sentry"): "disabled",
                      ("tei", "kubernetes/apps/ai/tei"): "active"}
    # The dependency lives in the core tree that cluster-core applies: it exists, so nothing is reported.
    assert [f.what for f in problems(repo) if f.level == "error"] == []
    listed = next(c for c in activation(repo, repo.app("sentry")).files if c.path.endswith("kustomization.yaml"))
    assert listed.after is not None and "  - ./mcp/sentry/ks.yaml\n" in listed.after


def test_a_chart_source_from_the_namespaces_component_is_the_namespaces(tmp_path: Path) -> None:
    """A component every namespace kustomization.yaml lists (components/common/repos/app-template) brings a
    namespace-less OCIRepository into each namespace: a chartRef without a namespace finds it there (seen on
    zhorvath83/home-ops, where every app-template release was called "not in the repository")."""
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tei\n"
               "spec:\n  chartRef: {kind: OCIRepository, name: app-template}\n")
    source = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\n"
              "spec:\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n  ref: {tag: 4.6.2}\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/components/common/kustomization.yaml": "kind: Component\nresources:\n  - ./repos\n",
        "kubernetes/components/common/repos/kustomization.yaml": "kind: Component\nresources:\n  - ./app-template\n",
        "kubernetes/components/common/repos/app-template/kustomization.yaml": "resources:\n  - ./ocirepository.yaml\n",
        "kubernetes/components/common/repos/app-template/ocirepository.yaml": source,
        "kubernetes/apps/ai/kustomization.yaml": ("namespace: ai\ncomponents:\n  - ../../components/common\n"
                                                  "resources:\n  - ./tei/ks.yaml\n"),
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra="  targetNamespace: ai\n"),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        "kubernetes/apps/ai/tei/app/helmrelease.yaml": release,
    })
    (tei,) = repo.apps()
    (helm,) = tei.helmreleases
    assert (helm.chart_ref, helm.chart, helm.version) == ("OCIRepository/ai/app-template", "app-template", "4.6.2")
    assert helm.source_file == "kubernetes/components/common/repos/app-template/ocirepository.yaml"
    assert not any("not in the repository" in note for note in tei.notes)


def test_a_chart_source_the_namespace_lists_beside_its_apps_is_the_namespaces(tmp_path: Path) -> None:
    """An OCIRepository file the namespace kustomization.yaml lists among its resources, before the apps' ks.yaml
    (seen on kashalls/home-cluster: apps/default/app-template.yaml, where 24 releases were called "not in the
    repository"); an app folder listed as a resource is the app's, not read for the namespace."""
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: glance\n"
               "spec:\n  chartRef: {kind: OCIRepository, name: app-template}\n")
    source = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\n"
              "  namespace: ai\nspec:\n  url: oci://ghcr.io/bjw-s/helm/app-template\n  ref: {tag: 3.7.3}\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": ("resources:\n  - ./namespace.yaml\n  - ./app-template.yaml\n"
                                                       "  - ./glance/ks.yaml\n"),
        "kubernetes/apps/ai/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ai\n",
        "kubernetes/apps/ai/app-template.yaml": source,
        "kubernetes/apps/ai/glance/ks.yaml": KS.format(name="glance", path="glance",
                                                            extra="  targetNamespace: ai\n"),
        "kubernetes/apps/ai/glance/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        "kubernetes/apps/ai/glance/app/helmrelease.yaml": release,
    })
    (glance,) = repo.apps()
    (helm,) = glance.helmreleases
    assert (helm.chart_ref, helm.chart, helm.version) == ("OCIRepository/ai/app-template", "app-template",
                                                          "3.7.3")
    assert helm.source_file == "kubernetes/apps/ai/app-template.yaml"
    assert not any("not in the repository" in note for note in glance.notes)


def test_a_generators_deprecated_env_file_defines_its_variables(tmp_path: Path) -> None:
    """kustomize still reads a generator's singular ``env:`` (FixKustomization appends it to ``envs``): the
    variables of that file are defined for the Kustomization that substitutes from the generated ConfigMap (seen
    in kashalls/home-cluster, where apps --check called both of them undefined), also in a kustomization.yaml that
    leaves out ``kind`` as kustomize allows."""
    plan = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plan\ndata:\n  version: ${TALOS_VERSION}\n"
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": (
            "namespace: ai\nresources:\n  - ./tei/ks.yaml\nconfigMapGenerator:\n  - name: plan-versions\n"
            "    env: ../../../talos/talos.env\n"),
        "talos/talos.env": "# renovate: datasource=docker\nTALOS_VERSION=v1.10.7\n",
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra=(
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: plan-versions\n")),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": "resources:\n  - ./plan.yaml\n",
        "kubernetes/apps/ai/tei/app/plan.yaml": plan,
    })
    assert repo.substitution_sources()["TALOS_VERSION"] == "kubernetes/apps/ai/kustomization.yaml"
    assert [f.what for f in problems(repo) if "TALOS_VERSION" in f.what] == []


def test_a_tree_per_cluster_beside_its_entry_with_folders_of_plain_manifests(tmp_path: Path) -> None:
    """kubernetes/<cluster>/apps beside the cluster's entry in kubernetes/<cluster>/cluster (szinn/k8s-homelab) or
    kubernetes/<cluster>/flux (haraldkoch/kochhaus-home); apps' files named install.yaml; a folder the namespace
    lists whole whose sub-folders hold plain manifests (an EndpointSlice and Service per external host) is no app."""
    files = {
        "kubernetes/main/cluster/config/cluster.yaml": ENTRY.format(name="cluster-apps", tree="main/apps"),
        "kubernetes/lab/flux/cluster/ks.yaml": ENTRY.format(name="cluster-apps", tree="lab/apps"),
        "kubernetes/lab/apps/network/kustomization.yaml": "resources: []\n",
        "kubernetes/main/apps/network/kustomization.yaml": (
            "namespace: network\nresources:\n  - namespace.yaml\n  - echo/install.yaml\n  - external\n"),
        "kubernetes/main/apps/network/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: network}\n",
        "kubernetes/main/apps/network/echo/install.yaml": KS.format(name="echo", path="echo", extra="").replace(
            "./kubernetes/apps/ai/echo/app", "./kubernetes/main/apps/network/echo/app"),
        "kubernetes/main/apps/network/echo/app/kustomization.yaml": "resources: []\n",
        "kubernetes/main/apps/network/external/kustomization.yaml": "resources:\n  - nas\n",
        "kubernetes/main/apps/network/external/nas/kustomization.yaml": "resources:\n  - service.yaml\n",
        "kubernetes/main/apps/network/external/nas/service.yaml": (
            "apiVersion: v1\nkind: Service\nmetadata: {name: nas}\nspec: {ports: [{port: 80}]}\n"),
    }
    main = _write(tmp_path, files, cluster="main")
    assert main.rel(main.flux_dir) == "kubernetes/main/cluster" and main.rel(main.apps_dir) == "kubernetes/main/apps"
    assert [(a.name, a.state, a.ks_file) for a in main.apps()] == [
        ("echo", "active", "kubernetes/main/apps/network/echo/install.yaml")]
    assert problems(main) == []
    lab = Repository.open(tmp_path, cluster="lab")
    assert lab.rel(lab.apps_dir) == "kubernetes/lab/apps" and lab.apps() == []


def test_the_kustomize_mutating_webhook_hands_its_sources_to_every_kustomization(tmp_path: Path) -> None:
    """rwlove/home-ops installs xunholy's kustomize-mutating-webhook, which adds postBuild.substitute with every key
    of cluster-config and cluster-secrets to each Kustomization the API server admits: an app whose ks.yaml
    substitutes only APP, or has no postBuild at all, gets ${SECRET_DOMAIN} on the cluster. Without the webhook
    both are true problems; with it (its values file naming the two), none."""
    page = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: page\ndata:\n  url: https://tei.${SECRET_DOMAIN}\n"
    files = {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/flux/meta/cluster-config.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-config\ndata:\n"
            "  SECRET_DOMAIN: example.invalid\n"),
        "kubernetes/apps/ai/kustomization.yaml": "namespace: ai\nresources:\n  - ./tei/ks.yaml\n  - ./lsp/ks.yaml\n",
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra=(
            "  postBuild:\n    substitute:\n      APP: tei\n")),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": "resources:\n  - ./page.yaml\n",
        "kubernetes/apps/ai/tei/app/page.yaml": page,
        "kubernetes/apps/ai/lsp/ks.yaml": KS.format(name="lsp", path="lsp", extra=""),
        "kubernetes/apps/ai/lsp/app/kustomization.yaml": "resources:\n  - ./page.yaml\n",
        "kubernetes/apps/ai/lsp/app/page.yaml": page,
    }
    without = _write(tmp_path / "without", files)
    assert [f.where for f in problems(without) if "SECRET_DOMAIN" in f.what] == ["ai/tei"]
    assert without.app("lsp").unsubstituted == ["SECRET_DOMAIN"]  # no postBuild: applied as written
    webhook = "kubernetes/apps/flux-system/kustomize-mutating-webhook/app"
    files.update({
        f"{webhook}/helmrelease.yaml": (
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: kustomize-mutating-webhook\n"
            "spec:\n  chartRef: {kind: OCIRepository, name: kustomize-mutating-webhook}\n  valuesFrom:\n"
            "    - {kind: ConfigMap, name: kustomize-mutating-webhook-values}\n"),
        f"{webhook}/values.yaml": (
            "configMaps:\n  - create: false\n    name: cluster-config\nsecrets:\n  - create: false\n"
            "    name: cluster-secrets\n"),
    })
    repo = _write(tmp_path / "with", files)
    assert repo.mutating_webhook_sources() == ["cluster-config", "cluster-secrets"]
    assert [f.what for f in problems(repo) if "SECRET_DOMAIN" in f.what] == []
    assert repo.app("lsp").variables == ["SECRET_DOMAIN"] and repo.app("lsp").unsubstituted == []


def test_the_listed_file_that_holds_the_flux_kustomizations_is_the_apps(tmp_path: Path) -> None:
    """tyriis/home-ops lists a GitRepository file from an app's folder before the file with its Kustomizations
    (./cnpg/git-repository.yaml, then ./cnpg/flux-sync.yaml): the app is the second one's, its dependency found;
    and a namespace-level flux-sync.yaml holding hermes-agent-tyriis and hermes-agent-jazzlyn is the app
    hermes-agent, not "flux-sync"."""
    source = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: cnpg\n"
              "  labels:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"  # the group's name, yet no Kustomization
              "spec:\n  url: https://example.test/cnpg.git\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": ("namespace: ai\nresources:\n  - ./cnpg/git-repository.yaml\n"
                                                  "  - ./cnpg/flux-sync.yaml\n  - ./tei/ks.yaml\n"),
        "kubernetes/apps/ai/cnpg/git-repository.yaml": source,
        "kubernetes/apps/ai/cnpg/flux-sync.yaml": KS.format(name="cnpg-operator", path="cnpg", extra=""),
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(
            name="tei", path="tei", extra="  dependsOn:\n    - name: cnpg-operator\n"),
        "kubernetes/apps/hermes/kustomization.yaml": "namespace: hermes\nresources:\n  - ./flux-sync.yaml\n",
        "kubernetes/apps/hermes/flux-sync.yaml": "\n---\n".join(
            KS.format(name=f"hermes-agent-{who}", path=f"../hermes/{who}", extra="") for who in ("tyriis", "jazzlyn")),
        # a file beside the folder app tei whose Kustomizations' names begin with tei: not a second app tei
        "kubernetes/apps/ai/extras.yaml": "\n---\n".join(
            KS.format(name=f"tei-{kind}", path=f"extras/{kind}", extra="") for kind in ("gpu", "cpu")),
        **{f"kubernetes/apps/{folder}/app/kustomization.yaml": "resources: []\n"
           for folder in ("ai/cnpg", "ai/tei", "hermes/tyriis", "hermes/jazzlyn", "ai/extras/gpu", "ai/extras/cpu")},
    })
    apps = {a.name: a for a in repo.apps()}
    assert apps["cnpg"].state == "active" and apps["cnpg"].ks_file == "kubernetes/apps/ai/cnpg/flux-sync.yaml"
    assert [k.name for k in apps["cnpg"].kustomizations] == ["cnpg-operator"]
    assert apps["hermes-agent"].ks_file == "kubernetes/apps/hermes/flux-sync.yaml" and "flux-sync" not in apps
    assert [k.name for k in repo.app("hermes-agent").kustomizations] == ["hermes-agent-tyriis", "hermes-agent-jazzlyn"]
    assert [a.name for a in repo.apps() if a.name.startswith("tei")] == ["tei"] and "extras" in apps
    assert [f.what for f in problems(repo) if f.level == "error"] == []


def test_claims_flux_or_helm_leave_behind_are_kept(tmp_path: Path) -> None:
    """A claim labelled or annotated kustomize.toolkit.fluxcd.io/prune: disabled (any case, as fluxcd/pkg
    compares it), and app-template persistence with retain: true (Helm's resource policy keep, which the
    rehearsal's chart sets), are kept; another claim is not."""
    from mediaops.sim import charts

    claim = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\n{meta}"
             "spec:\n  resources: {{requests: {{storage: 1Gi}}}}\n")
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tei\nspec:\n"
               "  chart: {spec: {chart: app-template, version: 4.1.0, sourceRef: {kind: HelmRepository, name: x}}}\n"
               "  values:\n    persistence:\n      cache: {type: persistentVolumeClaim, size: 1Gi, retain: true}\n"
               "      scratch: {type: persistentVolumeClaim, size: 1Gi}\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": "namespace: ai\nresources:\n  - ./tei/ks.yaml\n",
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra=""),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": ("resources:\n  - ./helmrelease.yaml\n  - ./a.yaml\n"
                                                          "  - ./b.yaml\n  - ./c.yaml\n"),
        "kubernetes/apps/ai/tei/app/helmrelease.yaml": release,
        "kubernetes/apps/ai/tei/app/a.yaml": claim.format(
            name="labelled", meta="  labels:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"),
        "kubernetes/apps/ai/tei/app/b.yaml": claim.format(
            name="annotated", meta="  annotations:\n    kustomize.toolkit.fluxcd.io/prune: Disabled\n"),
        "kubernetes/apps/ai/tei/app/c.yaml": claim.format(name="pruned", meta=""),
    })
    assert {v.name: v.kept for v in repo.app("tei").volumes} == {
        "labelled": True, "annotated": True, "pruned": False, "tei-cache": True, "tei-scratch": False}
    rendered = {o["metadata"]["name"]: o for o in charts.render("tei", "ai", "app-template", {"persistence": {
        "cache": {"size": "1Gi", "retain": True}, "scratch": {"size": "1Gi"}}}) if o["kind"] == "PersistentVolumeClaim"}
    assert rendered["tei-cache"]["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert "annotations" not in rendered["tei-scratch"]["metadata"]


def test_a_release_is_where_its_kustomizations_target_namespace_puts_it(tmp_path: Path) -> None:
    """tyriis/home-ops's argo-events HelmRelease names namespace argo-events, its Kustomization's targetNamespace
    is argo-system: Flux puts it (and the namespace its chartRef and dependsOn default to) in argo-system, where
    `check` must look for it; apps --check still warns of the difference."""
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tei\n"
               "  namespace: elsewhere\nspec:\n  chartRef: {kind: OCIRepository, name: app-template}\n"
               "  dependsOn:\n    - name: redis\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": "namespace: ai\nresources:\n  - ./tei/ks.yaml\n",
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra="  targetNamespace: ai\n"),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        "kubernetes/apps/ai/tei/app/helmrelease.yaml": release,
    })
    (helm,) = repo.app("tei").helmreleases
    assert (helm.namespace, helm.chart_ref, [str(d) for d in helm.depends_on]) == (
        "ai", "OCIRepository/ai/app-template", ["ai/redis"])
    assert any("names namespace elsewhere" in f.what for f in problems(repo) if f.level == "warning")


def test_an_app_template_1_release_has_its_image_at_the_top(tmp_path: Path) -> None:
    """app-template 1.x values (truxnell/home-cluster: chart 1.5.1): no controllers, the main container's image
    at the top level; read as the release's one controller, so --image-tag finds where to write."""
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: sonarr\nspec:\n"
               "  chart: {spec: {chart: app-template, version: 1.5.1, sourceRef: {kind: HelmRepository, name: x}}}\n"
               "  values:\n    image: {repository: ghcr.io/onedr0p/sonarr-develop, tag: 4.0.1.1014}\n")
    repo = _write(tmp_path, {
        "kubernetes/flux/cluster/cluster-apps.yaml": ENTRY.format(name="cluster-apps", tree="apps"),
        "kubernetes/apps/ai/kustomization.yaml": "namespace: ai\nresources:\n  - ./tei/ks.yaml\n",
        "kubernetes/apps/ai/tei/ks.yaml": KS.format(name="tei", path="tei", extra=""),
        "kubernetes/apps/ai/tei/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        "kubernetes/apps/ai/tei/app/helmrelease.yaml": release,
    })
    assert [(c.controller, c.name, c.image, c.tag) for c in repo.app("tei").images] == [
        ("sonarr", "main", "ghcr.io/onedr0p/sonarr-develop", "4.0.1.1014")]
