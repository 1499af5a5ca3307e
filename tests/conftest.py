"""Fixtures that drive the installed ``mediaops`` command as an operator would."""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDIAOPS = str(Path(sys.executable).parent / "mediaops")
TEST_RUNBOOKS = ROOT / "tests" / "runbooks"
# One cache directory for the whole session, as an operator has one: the runbook catalog, the parsed files and the
# rehearsal's kustomize builds made by one test are found by the next (each is keyed by what it was made from, so a
# test that changes a file misses it). The session's own, made by the controller and handed to its workers through
# the environment (another session running at the same time has another), removed at the end; the in-process
# rehearsals use it too.


def _in_memory() -> str | None:
    """/dev/shm when it is a tmpfs with room for a whole run, else None (the system's temporary directory).

    A run writes some 80,000 small files (copies of the sample, their git repositories, the rehearsals' sources
    and builds, journals) and reads most of them once: on a tmpfs that costs a twentieth less CPU than on the ext4
    disk of the project's machine, in the kernel. A container's /dev/shm is often 64 MB: not used then."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            if not any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts):
                return None
        room = os.statvfs("/dev/shm")
    except (OSError, IndexError):
        return None
    return "/dev/shm" if room.f_bavail * room.f_frsize >= 2 << 30 and os.access("/dev/shm", os.W_OK) else None


IN_MEMORY = _in_memory()
CACHE = Path(os.environ.get("MEDIAOPS_TESTS_CACHE") or
             tempfile.mkdtemp(prefix=f"mediaops-tests-{os.getuid()}-", dir=IN_MEMORY))
os.environ["MEDIAOPS_TESTS_CACHE"] = os.environ["MEDIAOPS_CACHE_DIR"] = str(CACHE)
# The tests run kubectl some 700 times (and the commands they drive run it too): a short-lived Go process with a
# small heap, which collects garbage less often with GOGC=400 (the rehearsal builds with it too, flux.py): a
# `kubectl get` takes a sixth less CPU (61 ms instead of 74, medians of 30 side by side). What it prints is the same.
os.environ.setdefault("GOGC", "400")
# and on one thread: a kubectl run spends a fifteenth less CPU (1.66 s against 1.78 s for 30 `kubectl get`, three
# rounds side by side), its wall time the same; several run at once here, one per core is plenty.
os.environ.setdefault("GOMAXPROCS", "1")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' temporary directories in memory where there is room (``_in_memory``), made by the controller
    (the workers get theirs below it) and removed at the end; ``--basetemp DIR`` keeps them where you say."""
    if not hasattr(config, "workerinput") and IN_MEMORY and not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix=f"mediaops-tests-tmp-{os.getuid()}-", dir=IN_MEMORY)
        config.stash[_MADE_BASETEMP] = config.option.basetemp


_MADE_BASETEMP = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, once every worker is done
        shutil.rmtree(CACHE, ignore_errors=True)
        made = config.stash.get(_MADE_BASETEMP, None)
        if made:
            shutil.rmtree(made, ignore_errors=True)


# The runbooks' end-to-end tests take seconds each, the unit tests milliseconds: the long ones go first, so the
# workers share them out while there are short ones left to even out the end (xdist's worksteal takes tests from
# the end of a busy worker's queue).
FIRST = ("tests/e2e/runbooks/", "tests/e2e/reliability/", "tests/e2e/", "tests/contracts/", "tests/unit/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        where = item.nodeid
        return next((i for i, prefix in enumerate(FIRST) if where.startswith(prefix)), len(FIRST))

    items.sort(key=rank)


def pytest_collection_finish() -> None:
    """What is loaded by now (pytest, the collected tests, every module they import) lives as long as the
    process: left out of the cyclic collector's passes, which would walk it again and again, and those passes
    made less often, as `mediaops.cli.main` has them (the in-process rehearsals allocate much, in bursts). A
    worker's collector took 0.6–1.4 s of CPU per run before, most in full passes over what never dies."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@dataclass
class Mediaops:
    """The installed CLI with an isolated state directory and configuration."""

    env: dict[str, str]
    cwd: Path
    state: Path

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MEDIAOPS, *args], env=self.env, cwd=self.cwd, input=input, text=True,
            capture_output=True, timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL,
        )

    def spawn(self, *args: str, timeout: float = 30) -> pexpect.spawn:
        """The command at a terminal, as an operator's shell starts it: Ctrl-C (SIGINT) and Ctrl-\\ (SIGQUIT) at
        their defaults, whatever this process inherited (a suite started in the background by a script without job
        control has them ignored, and so would every command it spawned: Ctrl-C would do nothing)."""

        def as_a_shell_does() -> None:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGQUIT, signal.SIG_DFL)

        return pexpect.spawn(MEDIAOPS, list(args), env=self.env, cwd=str(self.cwd), encoding="utf-8",
                             timeout=timeout, dimensions=(60, 160), preexec_fn=as_a_shell_does)

    def journals(self) -> dict[str, list[dict[str, Any]]]:
        runs = self.state / "runs"
        if not runs.is_dir():
            return {}
        return {p.stem: [json.loads(line) for line in p.read_text().splitlines()] for p in runs.glob("*.jsonl")}


def answer(child: pexpect.spawn, key: str) -> None:
    """Pick a choice at a prompt: one keystroke, its letter."""
    child.send(key)


def run_steps(child: pexpect.spawn, count: int) -> None:
    """Answer "run" at the next ``count`` step prompts."""
    for _ in range(count):
        child.expect("Run this step")
        answer(child, "r")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of every command a test runs: no operator settings, no kubeconfig, no real cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAOPS_") and k != "KUBECONFIG"}
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),  # no ~/.kube/config, no ~/.gitconfig of the machine's user
        MEDIAOPS_STATE_DIR=str(tmp_path / "state"),
        MEDIAOPS_CONFIG=str(tmp_path / "absent-config.yaml"),
        MEDIAOPS_CACHE_DIR=str(CACHE),
        MEDIAOPS_SIM_TIMING="fast",
        NO_COLOR="1",
        COLUMNS="140",
        TERM="xterm",
        # The pseudo-terminals of the tests never answer prompt_toolkit's cursor-position request: without
        # this, every prompt waits for that answer first.
        PROMPT_TOOLKIT_NO_CPR="1",
        GIT_AUTHOR_NAME="Test Operator",
        GIT_AUTHOR_EMAIL="operator@example.invalid",
        GIT_COMMITTER_NAME="Test Operator",
        GIT_COMMITTER_EMAIL="operator@example.invalid",
    )
    return env


@pytest.fixture
def mediaops(tmp_path: Path) -> Mediaops:
    env = clean_env(tmp_path)
    env["MEDIAOPS_RUNBOOK_PATH"] = str(TEST_RUNBOOKS)
    work = tmp_path / "work"
    work.mkdir()
    return Mediaops(env, work, tmp_path / "state")


def tree_digest(root: Path) -> dict[str, bytes]:
    """Every file under root with its content, to prove a directory is byte-identical afterwards."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def age(root: Path, seconds: float = 10) -> None:
    """Every file and folder under ``root`` dated ``seconds`` ago, as a checkout not written just now: mediaops keeps
    nothing parsed of a file changed in the last two seconds (yamlfiles.RACY_NS)."""
    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


SAMPLE = ROOT / "examples" / "home-ops"
LAYOUTS = ROOT / "tests" / "fixtures" / "layouts"


def git(cwd: Path, *args: str) -> str:
    env = clean_env(Path(tempfile.gettempdir()) / "mediaops-tests")
    result = subprocess.run(["git", *args], cwd=cwd, env=env, text=True, capture_output=True, check=True)
    return result.stdout.strip()


@dataclass
class HomeOps:
    """A copy of the sample repository with a real bare origin it tracks."""

    path: Path
    origin: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def origin_log(self) -> list[str]:
        return git(self.origin, "log", "--format=%s", "main").splitlines()


def make_home_ops(tmp_path: Path, name: str = "home-ops", source: Path = SAMPLE,
                  prepare: Any = None) -> HomeOps:
    """A copy of ``source`` (``prepare`` may add to it) committed and pushed to a bare origin it tracks.

    Made once per test process and copied for each test (both repositories, then the remote's URL set to the
    copy's origin): the same checkout and origin a fresh `git init`, commit and push give, without running them
    for every test."""
    template = _TEMPLATES.get((name, source, prepare))
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="mediaops-tests-template-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        _new_home_ops(template, name, source, prepare)
        _TEMPLATES[(name, source, prepare)] = template
    work, origin = tmp_path / name, tmp_path / f"{name}-origin.git"
    shutil.copytree(template / name, work, symlinks=True)
    shutil.copytree(template / origin.name, origin, symlinks=True)
    git(work, "remote", "set-url", "origin", str(origin))
    git(work, "update-index", "-q", "--refresh")  # the copies' files are new to the index: as a checkout has it
    return HomeOps(work, origin)


_TEMPLATES: dict[tuple[str, Path, Any], Path] = {}


def _new_home_ops(tmp_path: Path, name: str, source: Path, prepare: Any) -> None:
    work, origin = tmp_path / name, tmp_path / f"{name}-origin.git"
    shutil.copytree(source, work)
    if prepare is not None:
        prepare(work)
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "--message", "initial import")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "--quiet", "--set-upstream", "origin", "main")


@pytest.fixture
def home_ops(tmp_path: Path) -> HomeOps:
    return make_home_ops(tmp_path)


def make_layouts(tmp_path: Path) -> HomeOps:
    """tests/fixtures/layouts with its cluster-secrets SOPS-encrypted for a fresh key (the operator's, which the
    rehearsal never holds; one per test process), committed and pushed to a bare origin."""
    return make_home_ops(tmp_path, "layouts", LAYOUTS, _encrypt_secrets)


def _encrypt_secrets(work: Path) -> None:
    from pyrage import x25519

    from mediaops.sim import sops

    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "cluster-secrets", "namespace": "flux-system"},
              "stringData": {"SECRET_API_TOKEN": "not-for-the-rehearsal", "SECRET_ACME_EMAIL": "ops@example.test"}}
    operator = str(x25519.Identity.generate().to_public())
    target = work / "kubernetes" / "flux" / "vars" / "cluster-secrets.sops.yaml"
    target.write_text(json.dumps(sops.encrypt(secret, [operator]), indent=2))


@pytest.fixture
def layouts(tmp_path: Path) -> HomeOps:
    return make_layouts(tmp_path)


@pytest.fixture
def ops(tmp_path: Path, home_ops: HomeOps) -> Mediaops:
    """The CLI run from inside the sample repository (found as the nearest parent with kubernetes/)."""
    env = clean_env(tmp_path)
    return Mediaops(env, home_ops.path, tmp_path / "state")


@dataclass
class Cluster:
    """A rehearsal cluster built from a sample-repository copy, and a client connected to it over HTTP."""

    sim: Any
    kube: Any
    kubeconfig: Path
    home_ops: HomeOps

    def push(self, message: str, change: Any) -> str:
        change(self.home_ops.path)
        self.home_ops.git("add", "--all")
        self.home_ops.git("commit", "--quiet", "-m", message)
        self.home_ops.git("push", "--quiet")
        return self.home_ops.git("rev-parse", "HEAD")


@pytest.fixture
def cluster(tmp_path: Path, home_ops: HomeOps) -> Any:
    from mediaops.cluster.client import Kube
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    sim = Rehearsal(home_ops.path, timing=Timing.fast(), workdir=tmp_path / "rehearsal", nas_port=0)
    sim.start(timeout=60)
    kubeconfig = sim.kubeconfig(tmp_path / "kubeconfig")
    try:
        yield Cluster(sim, Kube(str(kubeconfig), backoff=0.01), kubeconfig, home_ops)
    finally:
        sim.stop()
        assert sim.manager.errors == [], sim.manager.errors[:1]


class Recorder:
    """Stands in for the engine's waiting handle: keeps every status a wait reported."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, int | None, int | None]] = []

    def update(self, status: str, *, completed: int | None = None, total: int | None = None) -> None:
        self.updates.append((status, completed, total))


KUBECTL = str(Path(sys.executable).parent / "kubectl")


@pytest.fixture
def sim(ops: Mediaops) -> Iterator[Mediaops]:
    """A rehearsal as `mediaops sim up --timing fast --nas-port 0` serves it (the same function, with its state
    file: `mediaops sim fault|status` find it), run in the test's own process: the rehearsal's modules and the
    builds it has read are loaded once per test process, not once per test. KUBECONFIG points at it. test_sim_cli
    drives `sim up` and `sim down` themselves (the background process, and its SIGTERM)."""
    from mediaops.sim.background import serve
    from mediaops.sim.cluster import Rehearsal
    from mediaops.sim.manager import Timing

    directory = ops.state / "sim"
    directory.mkdir(parents=True)
    rehearsal = Rehearsal(ops.cwd.resolve(), timing=Timing.fast(), workdir=directory / "work", nas_port=0)
    try:
        state = serve(rehearsal, directory, timeout=120)
        assert state["ready"]
        ops.env["KUBECONFIG"] = state["kubeconfig"]
        ops.env["MEDIAOPS_NAS_PORT"] = state["nas"].rpartition(":")[2]
        yield ops
    finally:
        rehearsal.stop()
        (directory / "state.json").unlink(missing_ok=True)


def kubectl(ops: Mediaops, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, *args], env=ops.env, capture_output=True, text=True, timeout=60)


def read(ops: Mediaops, *args: str) -> Any:
    """What ``kubectl get … -o json`` with these arguments prints, parsed: read over HTTP with the project's client,
    in the test's own process, from the cluster ``ops``' KUBECONFIG points at. A kubectl process costs some 50 ms
    of CPU and the tests look at the cluster a few hundred times. Resources are named as kubectl takes them
    (plural, singular, short name, ``plural.group``); arguments this does not read as kubectl would (a name several
    kinds answer to, a flag it does not know) are handed to kubectl itself."""
    request = _get_request(args)
    if request is None:
        result = kubectl(ops, *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    res, name, namespace = request
    path = ops.env["KUBECONFIG"]
    kube = _READERS.get(path)
    if kube is None:
        from mediaops.cluster.client import Kube

        kube = _READERS[path] = Kube(path, backoff=0.01)
    where = namespace if res.namespaced else None
    if name is not None:
        return kube.get(f"{res.group}/{res.kind}", name, where)
    items, _ = kube.list(f"{res.group}/{res.kind}", where)
    version = f"{res.group}/{res.version}" if res.group else res.version
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": [{"apiVersion": version, "kind": res.kind, **item} for item in items]}


_READERS: dict[str, Any] = {}


def _get_request(args: tuple[str, ...]) -> tuple[Any, str | None, str] | None:
    """(resource, name or None, namespace) of ``get RESOURCE [NAME] [-n NS] -o json``; None for anything else."""
    from mediaops.cluster.kinds import BY_KIND

    if not args or args[0] != "get":
        return None
    words, namespace, output = [], "default", ""
    rest = list(args[1:])
    while rest:
        word = rest.pop(0)
        if word in ("-n", "--namespace") and rest:
            namespace = rest.pop(0)
        elif word.startswith("--namespace="):
            namespace = word.partition("=")[2]
        elif word == "-o" and rest:
            output = rest.pop(0)
        elif word.startswith(("-o=", "--output=")):
            output = word.partition("=")[2]
        elif word.startswith("-"):
            return None
        else:
            words.append(word)
    if output != "json" or not 1 <= len(words) <= 2 or "/" in words[0] or "," in words[0]:
        return None
    asked, _, group = words[0].lower().partition(".")
    found = [r for r in BY_KIND.values()
             if (not group or r.group == group) and asked in (r.plural, r.kind.lower(), *r.short)]
    if len(found) != 1:
        return None
    return found[0], words[1] if len(words) == 2 else None, namespace


@contextmanager
def json_api(routes: dict[str, Any]) -> Iterator[str]:
    """A JSON API on 127.0.0.1: path -> answer (a dict, or a function of the query)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            url = urlparse(self.path)
            answer = routes.get(url.path)
            if answer is None:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(answer(parse_qs(url.query)) if callable(answer) else answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
