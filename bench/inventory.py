"""`mediaops apps --json` over generated repositories of 300 and 1,000 apps (targets: 0.5 s and 1.5 s for the
process, growing linearly): cold, with the files parsed by an earlier run (the apps built again, as after an
edit), and with the apps kept (nothing changed since); and, kept, of 3,000 apps (target 1.5 s); beside the cost of
parsing their YAML with the reader mediaops uses and with plain PyYAML, measured side by side in one run."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from bench.common import MEDIAOPS, clean_env, side_by_side
from mediaops.repo import snapshot

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


def parse_side_by_side(repo: Path, rounds: int = 5) -> tuple[float, float, int]:
    """Median seconds to parse every YAML file of the repository, in this process, with the reader mediaops
    uses (Go's YAML semantics on PyYAML's C parser) and with plain PyYAML CSafeLoader (the reader before it),
    interleaved; and the number of files."""
    import statistics
    import time

    import yaml

    from mediaops.repo.yamlfiles import parse_all

    texts = [p.read_text() for p in sorted(repo.rglob("*.y*ml"))]
    samples: dict[str, list[float]] = {"go": [], "pyyaml": []}
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            parse_all(text)
        samples["go"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        samples["pyyaml"].append(time.perf_counter() - started)
    return statistics.median(samples["go"]), statistics.median(samples["pyyaml"]), len(texts)


TARGETS = {300: 0.5, 1000: 1.5}
WARM_AT_SCALE = (3000, 1.5)  # apps, target (seconds) with the parse cache filled


def main(rounds: int = 7) -> dict[int, float]:
    figures: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        repos = {apps: generate(Path(scratch) / str(apps), apps) for apps in TARGETS}
        big, big_target = WARM_AT_SCALE
        cache = Path(scratch) / "cache"
        commands: dict[str, list[str]] = {
            f"warm {big}": [MEDIAOPS, "--repo", str(generate(Path(scratch) / str(big), big)), "apps", "--json"]}
        for apps, repo in repos.items():
            command = [MEDIAOPS, "--repo", str(repo), "apps", "--json"]
            commands[f"warm {apps}"] = command  # the apps kept by the run before (repo/snapshot.py)
            # the parse cache filled, the apps built again: as after an edit of one file
            kept = cache / snapshot.file_name(repo.resolve())
            commands[f"parsed {apps}"] = ["sh", "-c", f'rm -f "{kept}" && exec "$0" "$@"', *command]
            fresh = cache / f"cold-{apps}"  # emptied before each run: every file parsed
            commands[f"cold {apps}"] = ["sh", "-c", f'rm -rf "{fresh}" && MEDIAOPS_CACHE_DIR="{fresh}" exec "$0" "$@"',
                                        *command]
        env = clean_env(MEDIAOPS_CACHE_DIR=str(cache))
        medians = side_by_side({**commands, "--help": [MEDIAOPS, "--help"]}, env, rounds)
        for apps, repo in repos.items():
            cold, warm = medians[f"cold {apps}"], medians[f"warm {apps}"]
            go, plain, files = parse_side_by_side(repo)
            figures[apps] = cold
            parsed = medians[f"parsed {apps}"]
            print(f"inventory: mediaops apps --json over {apps} apps ({files} YAML files): cold {cold * 1000:.0f} ms, "
                  f"files parsed before {parsed * 1000:.0f} ms, apps kept {warm * 1000:.0f} ms "
                  f"(target <= {TARGETS[apps] * 1000:.0f} ms); parsing them all "
                  f"in-process: Go-semantics reader {go * 1000:.0f} ms vs plain PyYAML CSafeLoader "
                  f"{plain * 1000:.0f} ms ({go / plain:.2f}x)")
        print(f"inventory: mediaops apps --json over {big} apps, warm {medians[f'warm {big}'] * 1000:.0f} ms "
              f"(target <= {big_target * 1000:.0f} ms)")
        print(f"inventory: cold, 1000 apps / 300 apps = {figures[1000] / figures[300]:.2f}x "
              f"(mediaops --help alone {medians['--help'] * 1000:.0f} ms), medians of {rounds}")
    return figures


if __name__ == "__main__":
    main()
