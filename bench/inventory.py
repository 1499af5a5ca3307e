"""`mediaops apps --json` over a generated repository of 300 apps: target at most 0.5 s for the process."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from bench.common import MEDIAOPS, clean_env, side_by_side

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "home-ops"
TARGET = 0.5
SHAPES = ["calibre-web", "overseerr", "plex-exporter", "plex-trakt-sync", "tautulli", "mediabox"]


def generate(root: Path, apps: int) -> Path:
    """A repository with ``apps`` apps in ten namespaces, each a renamed copy of a sample app, plus the
    sample's neighbours (network, security, storage) they depend on."""
    repo = root / "repo"
    shutil.copytree(SAMPLE / "kubernetes" / "flux", repo / "kubernetes" / "flux")
    shutil.copytree(SAMPLE / "kubernetes" / "components", repo / "kubernetes" / "components")
    for neighbour in ("network", "security", "storage"):  # what the apps depend on
        shutil.copytree(SAMPLE / "kubernetes" / "apps" / neighbour, repo / "kubernetes" / "apps" / neighbour)
    for index in range(apps):
        namespace = f"ns{index % 10}"
        shape = SHAPES[index % len(SHAPES)]
        name = f"{shape}-{index}"
        target = repo / "kubernetes" / "apps" / namespace / name
        shutil.copytree(SAMPLE / "kubernetes" / "apps" / "media" / shape, target)
        own = re.compile(rf"\b{re.escape(shape)}\b(?!-automated)")
        for path in target.rglob("*"):
            if path.is_file() and path.suffix in (".yaml", ".dis", ".yml"):
                text = own.sub(name, path.read_text())  # names first, then the paths holding them
                text = text.replace(f"/media/{name}/", f"/{namespace}/{name}/")
                path.write_text(text.replace("&namespace media", f"&namespace {namespace}"))
    for ns_dir in (repo / "kubernetes" / "apps").iterdir():
        if not ns_dir.name.startswith("ns"):
            continue
        listed = sorted(p.name for p in ns_dir.iterdir() if (p / "ks.yaml").exists())
        lines = ["---", "apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization",
                 f"namespace: {ns_dir.name}", "components:", "  - ../../components/common", "resources:",
                 *[f"  - ./{n}/ks.yaml" for n in listed]]
        (ns_dir / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return repo


def main(rounds: int = 10, apps: int = 300) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        repo = generate(Path(scratch), apps)
        medians = side_by_side(
            {"apps --json": [MEDIAOPS, "--repo", str(repo), "apps", "--json"],
             "--help": [MEDIAOPS, "--help"]},
            clean_env(), rounds,
        )
    seconds = medians["apps --json"]
    print(f"inventory: mediaops apps --json over {apps} apps {seconds * 1000:.0f} ms "
          f"(target <= {TARGET * 1000:.0f} ms; mediaops --help alone {medians['--help'] * 1000:.0f} ms) "
          f"median of {rounds}")
    return seconds


if __name__ == "__main__":
    main()
