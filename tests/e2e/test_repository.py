"""The repository model through the CLI: inventory, details, consistency checks, graph, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import HomeOps, Mediaops, tree_digest


def apps_json(ops: Mediaops, *args: str) -> dict[str, dict]:
    result = ops.run("apps", "--json", *args)
    assert result.returncode == 0, result.stderr
    return {a["name"]: a for a in json.loads(result.stdout)}


def test_inventory_states_of_the_sample(ops: Mediaops) -> None:
    media = apps_json(ops, "--namespace", "media")
    assert {n: a["state"] for n, a in media.items()} == {
        "calibre-web": "active", "mediabox": "active", "tautulli": "active",
        "overseerr": "disabled", "plex-exporter": "disabled", "plex-trakt-sync": "disabled",
    }
    disabled = apps_json(ops, "--state", "disabled")
    assert set(disabled) == {"overseerr", "plex-exporter", "plex-trakt-sync"}
    table = ops.run("apps")
    assert table.returncode == 0 and "plex-trakt-sync" in table.stdout


def test_app_details_follow_kustomize_and_values(ops: Mediaops) -> None:
    exporter = json.loads(ops.run("app", "plex-exporter", "--json").stdout)
    (secret,) = exporter["external_secrets"]
    assert secret["store"]["name"] == "onepassword" and secret["remote_keys"] == ["plex-api"]
    assert secret["target"] == "plex-exporter" and "plex-exporter" in exporter["secrets"]
    assert exporter["node_selectors"] == {"kubernetes.io/arch": "amd64"}
    assert exporter["helmreleases"][0]["depends_on"] == [{"name": "cloudflared", "namespace": "network"}]
    release = exporter["helmreleases"][0]
    assert release["chart_ref"] == "OCIRepository/flux-system/app-template"  # shared, under kubernetes/flux
    assert (release["chart"], release["source_file"]) == (
        "app-template", "kubernetes/flux/meta/repositories/oci/app-template.yaml")
    assert exporter["kustomizations"][0]["depends_on"] == [
        {"name": "external-secrets-secretstores", "namespace": "security"}]
    assert exporter["service_monitors"] == ["plex-exporter"]

    sync = json.loads(ops.run("app", "plex-trakt-sync", "--json").stdout)
    assert {(c["name"], c["type"], c["schedule"]) for c in sync["controllers"]} == {
        ("plex-trakt-sync", "deployment", ""), ("sync", "cronjob", "@daily")}
    assert "SECRET_PLEXTOKEN" in sync["variables"]  # via a values.yaml fed by configMapGenerator + anchors
    assert "PTS_CACHE_DIR" not in sync["variables"]  # plain $VAR in a non-Kubernetes file is not Flux's
    assert sync["volumes"][0]["size"] == "5Gi"

    books = json.loads(ops.run("app", "calibre-web", "--json").stdout)
    assert books["nfs"] == [{"name": "data", "server": "127.0.2.40", "path": "/volume2/data/media/books",
                             "mount_paths": ["/calibre-library"]}]
    assert books["ingresses"][0]["hosts"] == ["books.${SECRET_DOMAIN}"]
    assert {"name": "calibre-web-config", "size": "5Gi", "storage_class": "${MAIN_SC}",
            "source": "kubernetes/apps/media/calibre-web/app/pvc.yaml", "kept": False} in books["volumes"]

    tautulli = json.loads(ops.run("app", "tautulli", "--json").stdout)
    assert [c["name"] for c in tautulli["controllers"][0]["containers"]] == ["main", "jbops"]

    mediabox = json.loads(ops.run("app", "mediabox", "--json").stdout)
    assert sorted(e["name"] for e in mediabox["external_names"]) == ["bazarr", "radarr", "sonarr"]
    assert len(mediabox["ingresses"]) == 3


def test_unknown_app_answers_with_the_closest_names(ops: Mediaops) -> None:
    result = ops.run("app", "plex-exportr")
    assert result.returncode == 2
    assert "did you mean plex-exporter" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _break(home_ops: HomeOps) -> None:
    media = home_ops.path / "kubernetes" / "apps" / "media"
    (media / "overseerr" / "ks.dis").rename(media / "overseerr" / "ks.yaml")  # active but not listed
    (media / "tautulli" / "ks.yaml").rename(media / "tautulli" / "ks.dis")  # listed but missing
    (media / "calibre-web" / "ks.dis").write_text((media / "calibre-web" / "ks.yaml").read_text())  # both
    (media / "scratch").mkdir()  # no ks at all
    (media / "scratch" / "notes.txt").write_text("nothing\n")
    (media / "ghost").mkdir()  # listed, but only a backup of its ks.yaml is left
    (media / "ghost" / "ks.bak").write_text("nothing\n")
    (media / "haunt").mkdir()  # listed as a folder (kustomize reads its kustomization.yaml), which has none
    (media / "haunt" / "notes.md").write_text("nothing\n")
    listing = media / "kustomization.yaml"
    text = listing.read_text()
    listing.write_text(text.replace("  - ./mediabox/ks.yaml\n",
                                    "  - ./ghost/ks.yaml\n  - ./haunt\n  - ./mediabox/ks.yaml\n"))
    ks = media / "plex-exporter" / "ks.dis"
    ks.write_text(ks.read_text().replace("external-secrets-secretstores", "secret-stores-typo"))
    values = media / "plex-trakt-sync" / "app" / "values.yaml"
    values.write_text(values.read_text().replace("${SECRET_ACME_EMAIL}", "${SECRET_UNDEFINED}"))


def test_check_reports_every_inconsistency(ops: Mediaops, home_ops: HomeOps) -> None:
    assert ops.run("apps", "--check").returncode == 0
    _break(home_ops)
    result = ops.run("apps", "--check")
    assert result.returncode == 1
    out = result.stdout
    assert "media/overseerr" not in out  # ks.yaml taken out of the list: disabled, as operators disable apps
    assert "media/tautulli: listed in kubernetes/apps/media/kustomization.yaml but ks.yaml is missing" in out
    assert "media/calibre-web: both ks.yaml and ks.dis are present" in out
    assert "media/scratch" not in out  # a folder of notes that no one lists is not an app
    assert "media/ghost: listed in kubernetes/apps/media/kustomization.yaml but the folder has no ks.yaml" in out
    assert "media/haunt: listed in kubernetes/apps/media/kustomization.yaml but the folder has no ks.yaml" in out
    assert "dependsOn security/secret-stores-typo, which exists nowhere in the repository" in out
    assert ("media/plex-trakt-sync: ${SECRET_UNDEFINED} is defined by none of its substitution sources "
            "(cluster-secrets, cluster-settings); Flux renders it empty") in out
    states = apps_json(ops)
    assert states["overseerr"]["state"] == "disabled" and "scratch" not in states
    assert "taken as disabled" in states["overseerr"]["notes"][0]


def test_unsubstituted_variables_are_flagged(ops: Mediaops, home_ops: HomeOps) -> None:
    kustomization = home_ops.path / "kubernetes/apps/media/plex-trakt-sync/app/kustomization.yaml"
    annotation = "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
    text = kustomization.read_text().replace("generatorOptions:\n", "generatorOptions:\n" + annotation)
    kustomization.write_text(text)
    result = ops.run("apps", "--check")
    assert result.returncode == 1
    assert "${SECRET_PLEXTOKEN} sits in a file Flux does not substitute" in result.stdout


@pytest.mark.parametrize("where", ["namespace", "app"])
def test_a_file_go_rejects_marks_its_apps_only(ops: Mediaops, home_ops: HomeOps, where: str) -> None:
    target = (home_ops.path / "kubernetes/apps/media/kustomization.yaml" if where == "namespace"
              else home_ops.path / "kubernetes/apps/media/overseerr/app/values.yaml")
    target.write_text(target.read_text() + "broken: [unclosed\n")
    before = tree_digest(home_ops.path)
    where_line = f"{target.relative_to(home_ops.path)}:"
    listing = ops.run("apps", "--json")
    assert listing.returncode == 0, listing.stderr
    states = {a["name"]: a for a in json.loads(listing.stdout)}
    assert states["overseerr"]["state"] == "unreadable"
    reason = states["overseerr"]["reasons"][0]
    assert reason.startswith(where_line) and "malformed YAML" in reason
    assert states["cloudflared"]["state"] == "active"  # another namespace reads as usual
    assert states["plex-exporter"]["state"] == ("unreadable" if where == "namespace" else "disabled")
    table = ops.run("apps")
    assert table.returncode == 0 and "unreadable" in table.stdout and "Traceback" not in table.stderr
    check = ops.run("apps", "--check")
    assert check.returncode == 1 and where_line in check.stdout
    assert check.stdout.count(where_line) == 1  # one broken file, one line, however many apps it holds
    shown = ops.run("app", "overseerr")
    assert shown.returncode == 0 and where_line in shown.stdout
    run = ops.run("run", "activate", "overseerr", "--yes", "--json")
    assert run.returncode == 3, run.stdout
    final = json.loads(run.stdout.splitlines()[-1])
    assert where_line in final["message"]
    other = ops.run("run", "activate", "plex-exporter", "--dry-run", "--no-push")
    assert other.returncode == (3 if where == "namespace" else 0), other.stdout + other.stderr
    elsewhere = ops.run("run", "deactivate", "cloudflared", "--dry-run", "--no-push")  # another namespace
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    assert tree_digest(home_ops.path) == before


def test_a_directory_that_is_not_a_repository(mediaops: Mediaops, tmp_path: Path) -> None:
    result = mediaops.run("--repo", str(tmp_path), "apps")
    assert result.returncode == 2
    assert "is not a Flux repository: it has no kubernetes/apps/" in result.stderr
    elsewhere = mediaops.run("apps")
    assert elsewhere.returncode == 2 and "pass --repo PATH" in elsewhere.stderr


def test_repository_from_env_and_config(mediaops: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    mediaops.env["MEDIAOPS_REPO"] = str(home_ops.path)
    assert mediaops.run("apps").returncode == 0
    config = tmp_path / "mediaops.yaml"
    config.write_text(f"repo: {home_ops.path}\nnamespace: media\nnas_host: 127.0.2.40\n")
    del mediaops.env["MEDIAOPS_REPO"]
    mediaops.env["MEDIAOPS_CONFIG"] = str(config)
    mediaops.env["MEDIAOPS_NAMESPACE"] = "network"
    shown = json.loads(mediaops.run("--context", "home", "config", "show", "--json").stdout)
    assert shown["repo"] == {"value": str(home_ops.path), "source": str(config)}
    assert shown["namespace"] == {"value": "network", "source": "MEDIAOPS_NAMESPACE"}
    assert shown["context"] == {"value": "home", "source": "--context"}
    assert shown["allowed_contexts"]["source"] == "default"
    config.write_text("colour: blue\n")
    bad = mediaops.run("config", "show")
    assert bad.returncode == 2 and "unknown setting 'colour'" in bad.stderr


def test_graph_in_three_formats(ops: Mediaops) -> None:
    mermaid = ops.run("graph", "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart LR")
    assert "ks_security_external_secrets_secretstores -.-> ks_media_plex_exporter" in mermaid
    assert "ks_storage_democratic_csi_iscsi --> ks_media_calibre_web" in mermaid
    dot = ops.run("graph", "--format", "dot").stdout
    assert '"Kustomization:flux-system/cluster-meta" -> "Kustomization:flux-system/cluster-apps";' in dot
    tree = ops.run("graph").stdout
    assert "security/kyverno-policies" in tree and "media/tautulli" in tree
    only = ops.run("graph", "--format", "mermaid", "--app", "plex-exporter").stdout
    assert "cloudflared" in only and "calibre" not in only
    assert ops.run("graph", "--app", "plex-exportr").returncode == 2


def test_parsed_files_are_kept_between_runs_and_never_stale(ops: Mediaops, home_ops: HomeOps) -> None:
    del ops.env["MEDIAOPS_CACHE_DIR"]  # where an operator's cache is: under ~/.cache
    first = ops.run("apps", "--json")
    caches = list((Path(ops.env["HOME"]) / ".cache" / "mediaops").glob("parsed-*.marshal"))
    assert first.returncode == 0 and len(caches) == 1
    assert ops.run("apps", "--json").stdout == first.stdout  # from the cache, the same answer
    values = home_ops.path / "kubernetes/apps/media/tautulli/app/values.yaml"
    text = values.read_text()
    tag = text.split("tag: ", 1)[1].split("\n", 1)[0]
    values.write_text(text.replace(f"tag: {tag}", "tag: " + "9" * len(tag), 1))  # same size, new content
    after = {a["name"]: a for a in json.loads(ops.run("apps", "--json").stdout)}
    assert after["tautulli"]["controllers"][0]["containers"][0]["tag"] == "9" * len(tag)
    caches[0].write_bytes(b"not a cache")  # a damaged cache is only slower
    assert ops.run("apps", "--json").returncode == 0


def _group_and_store(work: Path) -> None:
    """tautulli moved into a folder the namespace lists whole (./group, whose kustomization.yaml lists the app), and
    a substitution source only an ExternalSecret of a namespace component makes (its template names one key)."""
    media = work / "kubernetes/apps/media"
    (media / "group").mkdir()
    (media / "tautulli").rename(media / "group" / "tautulli")
    (media / "group" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./tautulli/ks.yaml\n")
    listing = media / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - ./tautulli/ks.yaml\n", "  - ./group\n"))
    ks = media / "group" / "tautulli" / "ks.yaml"
    ks.write_text(ks.read_text().replace("path: ./kubernetes/apps/media/tautulli/app",
                                         "path: ./kubernetes/apps/media/group/tautulli/app")
                  + "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: media-secrets\n")
    component = work / "kubernetes/components/media-secrets"
    component.mkdir(parents=True)
    (component / "externalsecret.yaml").write_text(
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: &name media-secrets\n"
        "spec:\n  secretStoreRef: {kind: ClusterSecretStore, name: vault}\n  target:\n    name: *name\n"
        "    template:\n      data:\n        MEDIA_HOST: '{{ .host }}'\n  dataFrom:\n    - extract: {key: media}\n")
    values = media / "group" / "tautulli" / "app" / "values.yaml"
    values.write_text(values.read_text().replace("TZ: ${TIMEZONE}", "TZ: ${TIMEZONE}\n          HOST: ${MEDIA_HOST}"
                                                 "\n          PORT: ${MEDIA_PORT}"))


def test_a_folder_listed_whole_and_an_externalsecret_made_source(ops: Mediaops, home_ops: HomeOps) -> None:
    """As tscibilia/home-ops has them: observability lists ./exporters, whose kustomization.yaml lists eight apps;
    cluster-secrets comes from an ExternalSecret in a namespace component, the keys its template names
    (external-secrets ApplyTemplate: with a data template and no mergePolicy Merge, only those)."""
    _group_and_store(home_ops.path)
    states = apps_json(ops)
    assert states["tautulli"]["state"] == "active" and "group" not in states
    assert states["tautulli"]["directory"] == "kubernetes/apps/media/group/tautulli"
    out = ops.run("apps", "--check").stdout
    assert "media/group" not in out and "${MEDIA_HOST}" not in out
    assert "media/tautulli: ${MEDIA_PORT} is defined by none of its substitution sources" in out


def _committed(tmp_path: Path, repo: Path, files: dict[str, str]) -> Mediaops:
    """The CLI in a repository of these files, committed once (no origin)."""
    from tests.conftest import clean_env, git

    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "initial import")
    return Mediaops(clean_env(tmp_path), repo, tmp_path / "state")


def test_a_chart_bump_of_a_components_source_names_every_release_it_would_move(tmp_path: Path) -> None:
    """A chartRef's OCIRepository brought into every namespace by a component (components/common/repos, as in
    zhorvath83/home-ops) is one file: bumping it for one app would move every release of every namespace listing
    the component. The upgrade refuses before anything runs and names the others, the app itself not among them."""
    from tests.conftest import git

    repo = tmp_path / "repo"
    ks = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {app}\nspec:\n"
          "  path: ./kubernetes/apps/{ns}/{app}/app\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n"
          "  targetNamespace: {ns}\n")
    release = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {app}\n"
               "spec:\n  chartRef: {{kind: OCIRepository, name: app-template}}\n")
    files = {
        "kubernetes/flux/cluster/ks.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster-apps\n"
            "  namespace: flux-system\nspec:\n  path: ./kubernetes/apps\n"
            "  sourceRef: {kind: GitRepository, name: flux-system}\n"),
        "kubernetes/components/common/kustomization.yaml": "kind: Component\nresources:\n  - ./repos/app-template\n",
        "kubernetes/components/common/repos/app-template/kustomization.yaml": "resources:\n  - ./ocirepository.yaml\n",
        "kubernetes/components/common/repos/app-template/ocirepository.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\n"
            "spec:\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n  ref: {tag: 4.6.2}\n"),
    }
    for ns, apps in (("media", ("plex", "tautulli")), ("home", ("esphome",))):
        files[f"kubernetes/apps/{ns}/kustomization.yaml"] = (
            f"namespace: {ns}\ncomponents:\n  - ../../components/common\nresources:\n"
            + "".join(f"  - ./{app}/ks.yaml\n" for app in apps))
        for app in apps:
            files[f"kubernetes/apps/{ns}/{app}/ks.yaml"] = ks.format(app=app, ns=ns)
            files[f"kubernetes/apps/{ns}/{app}/app/kustomization.yaml"] = "resources:\n  - ./helmrelease.yaml\n"
            files[f"kubernetes/apps/{ns}/{app}/app/helmrelease.yaml"] = release.format(app=app)
    ops = _committed(tmp_path, repo, files)
    refused = ops.run("run", "backup-before-upgrade", "plex", "--chart-version", "4.6.3", "--yes")
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode == 2, said[-2000:]
    assert ("plex takes its chart from OCIRepository/media/app-template "
            "(kubernetes/components/common/repos/app-template/ocirepository.yaml), which 2 other releases use too: "
            "home/esphome, media/tautulli") in said, said[-2000:]
    assert "bump it in kubernetes/components/common/repos/app-template/ocirepository.yaml for all of them" in said
    assert git(repo, "status", "--porcelain") == "" and git(repo, "log", "--format=%s") == "initial import"


def test_an_image_of_another_chart_is_bumped_in_a_file_of_several_documents(tmp_path: Path) -> None:
    """kashalls/home-cluster's shape: the HelmRelease of a chart other than app-template (its image at values.image)
    beside its OCIRepository in one helmrelease.yaml. The upgrade's plan bumps the image tag and the chart's ref.tag
    there (which documents: tests/unit/test_yaml.py); it used to end in a ruamel traceback."""
    from tests.conftest import git
    from tests.unit.test_yaml import MULTI

    repo = tmp_path / "repo"
    files = {
        "kubernetes/flux/cluster/ks.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster-apps\n"
            "  namespace: flux-system\nspec:\n  path: ./kubernetes/apps\n"
            "  sourceRef: {kind: GitRepository, name: flux-system}\n"),
        "kubernetes/apps/minecraft/kustomization.yaml": "namespace: minecraft\nresources:\n  - ./lobby/ks.yaml\n",
        "kubernetes/apps/minecraft/lobby/ks.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: lobby\nspec:\n"
            "  path: ./kubernetes/apps/minecraft/lobby/app\n  sourceRef: {kind: GitRepository, name: flux-system}\n"
            "  targetNamespace: minecraft\n"),
        "kubernetes/apps/minecraft/lobby/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        "kubernetes/apps/minecraft/lobby/app/helmrelease.yaml": MULTI,
    }
    ops = _committed(tmp_path, repo, files)
    for args, bumped in ((("--image-tag", "lobby=2025.9.0"), "bumped image lobby=2025.9.0"),
                         (("--chart-version", "4.26.5"), "bumped chart 4.26.5")):
        planned = ops.run("run", "backup-before-upgrade", "lobby", *args, "--dry-run")
        said = " ".join(planned.stdout.split())
        assert "Traceback" not in planned.stderr + planned.stdout
        # the plan is made before anything else is checked (here: no remote to push to, no cluster)
        assert (f"✓ The new version can be written in the repository — {bumped} in "
                "kubernetes/apps/minecraft/lobby/app/helmrelease.yaml") in said, said[-2000:]
    assert git(repo, "status", "--porcelain") == ""


def test_a_run_reads_the_checkout_through_the_parse_cache(ops: Mediaops, home_ops: HomeOps) -> None:
    """A run keeps the checkout's parsed files between runs as the read-only commands do; a file it edits has a
    new time, so what it reads back is never the kept parse."""
    from mediaops.config import kept
    from mediaops.repo.yamlfiles import DiskCache

    del ops.env["MEDIAOPS_CACHE_DIR"]  # where an operator's cache is: under ~/.cache
    ops.run("run", "activate", "plex-exporter", "--dry-run")
    caches = list((Path(ops.env["HOME"]) / ".cache" / "mediaops").glob("parsed-*.marshal"))
    assert len(caches) == 1
    entries = kept(caches[0], DiskCache.VERSION)
    listing = str(home_ops.path / "kubernetes/apps/media/kustomization.yaml")
    assert isinstance(entries, dict) and listing in entries
