"""Start-up stays light: --help, list and show import neither the Kubernetes client nor questionary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import Mediaops

PROBE = """
import sys
sys.argv = ["mediaops", *{args!r}]
from mediaops.cli import cli
try:
    cli.main(prog_name="mediaops", standalone_mode=False)
except SystemExit:
    pass
print("\\n" + __import__("json").dumps(sorted(m for m in ("kubernetes", "questionary", "sh") if m in sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["list"], ["show", "activate"], ["run", "--help"]])
def test_light_commands_import_nothing_heavy(mediaops: Mediaops, args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], env=mediaops.env, cwd=mediaops.cwd,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


RUNBOOK = '''"""A site runbook."""
from mediaops.engine import Runbook

runbook = Runbook(name="site-check", summary="{summary}")


@runbook.step("Say it", why="{why}", command="echo {summary}", mutates=False)
def say(ctx):
    return "{summary}"
'''

IMPORTED = """
import sys
sys.argv = ["mediaops", *{args!r}]
from mediaops.cli import cli
try:
    cli.main(prog_name="mediaops", standalone_mode=False)
except SystemExit:
    pass
print("\\n" + __import__("json").dumps(sorted(m for m in sys.modules if m.startswith("mediaops_runbook_")
                                                or m.startswith("mediaops.cluster"))))
"""


def test_list_and_show_read_the_catalog_and_see_every_edit(mediaops: Mediaops, tmp_path: Path) -> None:
    """Once the catalog is made, `list` and `show` import no runbook (nor the cluster wrappers runbooks import);
    an edited runbook file is seen at once, by its size and modification time."""
    site = tmp_path / "site"
    site.mkdir()
    path = site / "site_check.py"
    path.write_text(RUNBOOK.format(summary="first words", why="because"))
    mediaops.env["MEDIAOPS_RUNBOOK_PATH"] = str(site)
    listed = json.loads(mediaops.run("list", "--json").stdout)
    assert {r["name"]: r["summary"] for r in listed}["site-check"] == "first words"
    for args in (["list"], ["show", "site-check"]):
        probe = subprocess.run([sys.executable, "-c", IMPORTED.format(args=args)], env=mediaops.env,
                               cwd=mediaops.cwd, capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        assert json.loads(probe.stdout.strip().splitlines()[-1]) == [], args
    path.write_text(RUNBOOK.format(summary="second words, longer", why="another reason"))
    listed = json.loads(mediaops.run("list", "--json").stdout)
    assert {r["name"]: r["summary"] for r in listed}["site-check"] == "second words, longer"
    shown = mediaops.run("show", "site-check").stdout
    assert "another reason" in shown and "because" not in shown
    missing = mediaops.run("show", "site-chek")
    assert missing.returncode == 2 and "did you mean site-check?" in missing.stderr


MARKDOWN_IMPORTED = """
import sys
sys.argv = ["mediaops", "show", "activate"]
from mediaops.cli import cli
try:
    cli.main(prog_name="mediaops", standalone_mode=False)
except SystemExit:
    pass
print("\\nrich.markdown" if "rich.markdown" in sys.modules else "\\nnot imported")
"""


def test_show_draws_a_page_once_per_terminal(mediaops: Mediaops, tmp_path: Path) -> None:
    """`show` keeps the page rich drew, keyed by the page and everything rich reads of the terminal: the next `show`
    prints the same text without importing rich's Markdown; another width, or colour, is drawn anew."""
    mediaops.env["MEDIAOPS_CACHE_DIR"] = str(tmp_path / "cache")
    pages = tmp_path / "cache" / "pages"
    first = mediaops.run("show", "activate")
    assert first.returncode == 0 and "List it in the namespace kustomization" in first.stdout, first.stdout
    assert len(list(pages.glob("*.page"))) == 1
    again = subprocess.run([sys.executable, "-c", MARKDOWN_IMPORTED], env=mediaops.env, cwd=mediaops.cwd,
                           capture_output=True, text=True, timeout=60)
    shown, _, imported = again.stdout.rstrip("\n").rpartition("\n")
    assert imported == "not imported" and shown.rstrip("\n") == first.stdout.rstrip("\n")
    mediaops.env["COLUMNS"] = "60"
    narrow = mediaops.run("show", "activate")
    assert narrow.stdout != first.stdout and max(len(line) for line in narrow.stdout.splitlines()) <= 60
    assert len(list(pages.glob("*.page"))) == 2
    del mediaops.env["NO_COLOR"]  # on a terminal, in colour: drawn once, then the same escape codes again
    drawn = []
    for _ in range(2):
        child = mediaops.spawn("show", "activate")
        child.expect(pexpect.EOF)
        drawn.append(child.before)
    assert "\x1b[" in drawn[0] and drawn[0] == drawn[1]
    assert len(list(pages.glob("*.page"))) == 3
    mediaops.env["FORCE_COLOR"] = ""  # set but empty: rich draws no colour, so neither does the kept page
    child = mediaops.spawn("show", "activate")
    child.expect(pexpect.EOF)
    assert "\x1b[" not in child.before and len(list(pages.glob("*.page"))) == 4


def test_a_mistyped_command_gets_the_closest_names(mediaops: Mediaops) -> None:
    result = mediaops.run("stauts")
    assert result.returncode == 2 and "No such command 'stauts'. Did you mean 'status'?" in result.stderr


def test_each_command_is_found_in_its_module_and_list_loads_only_its_own() -> None:
    """The root group imports a command's module when the command is named (root.COMMAND_MODULES): the table names
    every command the modules define, and each where it is defined."""
    probe = """
import importlib, json, pkgutil, sys
import mediaops.cli as package
from mediaops.cli.root import COMMAND_MODULES, cli
sys.argv = ["mediaops", "list"]
try:
    cli.main(prog_name="mediaops", standalone_mode=False)
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith("mediaops.cli."))
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"mediaops.cli.{module.name}")
found = {name: command.callback.__module__.rpartition(".")[2] for name, command in cli.commands.items()}
print("\\n" + json.dumps({"loaded": loaded, "found": found, "table": COMMAND_MODULES}))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MEDIAOPS_CONFIG": "/nonexistent/mediaops.yaml"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["loaded"] == ["mediaops.cli.root", "mediaops.cli.runbooks"]
    assert data["found"] == data["table"]


def test_a_value_that_reads_like_an_emoji_code_is_printed_as_it_is(mediaops: Mediaops, tmp_path: Path) -> None:
    """A result (a tag, a time, a log line) that reads `:name:` is not an emoji: printed as written, through a pipe
    and on a terminal, and rich's table of emoji codes is never loaded."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "site_check.py").write_text(RUNBOOK.format(summary="tag v1:thumbs_up: at 12:100:00", why="because"))
    mediaops.env["MEDIAOPS_RUNBOOK_PATH"] = str(site)
    piped = mediaops.run("run", "site-check", "--yes")
    assert piped.returncode == 0, piped.stderr
    assert "tag v1:thumbs_up: at 12:100:00" in piped.stdout and "\N{THUMBS UP SIGN}" not in piped.stdout
    child = mediaops.spawn("run", "site-check", "--yes")
    child.expect("tag v1:thumbs_up: at 12:100:00")
    child.expect(pexpect.EOF)
    probe = subprocess.run([sys.executable, "-c", PROBE.replace('("kubernetes", "questionary", "sh")',
                                                                '("rich._emoji_codes",)').format(
                                args=["run", "site-check", "--yes"])],
                           env=mediaops.env, cwd=mediaops.cwd, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []


def test_only_a_run_at_a_terminal_imports_rich(mediaops: Mediaops, tmp_path: Path) -> None:
    """`run … --json` speaks JSON lines and a run into a pipe prints plain lines (engine/plainui.py): neither imports
    rich; a run at a terminal (FORCE_COLOR says it is one, as rich reads it) draws with it."""
    probe = PROBE.replace('("kubernetes", "questionary", "sh")', '("rich", "rich.console")')
    run = ["run", "write-files", str(tmp_path), "--dry-run"]
    for args, terminal, rich in (([*run, "--json"], False, []), (run, False, []),
                                 (run, True, ["rich", "rich.console"])):
        env = {**mediaops.env, **({"FORCE_COLOR": "1"} if terminal else {})}
        result = subprocess.run([sys.executable, "-c", probe.format(args=args)], env=env, cwd=mediaops.cwd,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == rich, (args, terminal)


BRACKETS = '''"""A site runbook whose wait reports what the cluster says."""
from mediaops.engine import Runbook

runbook = Runbook(name="site-check", summary="Wait on [init] containers")


@runbook.step("Wait for the [init] container", why="because", mutates=False)
def wait(ctx):
    import time

    with ctx.waiting("Pod media/x [init]") as waiting:
        waiting.update("containers with unready status: [tautulli]")
        time.sleep(0.5)  # the spinner's line is drawn a few times
    return "ready [ok]"
'''


def test_brackets_from_the_cluster_are_shown_as_they_are(mediaops: Mediaops, tmp_path: Path) -> None:
    """A Kubernetes message names containers in brackets ("containers with unready status: [tautulli]"): at a
    terminal and through a pipe it is printed whole, never read as a rich style."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "site_check.py").write_text(BRACKETS)
    mediaops.env["MEDIAOPS_RUNBOOK_PATH"] = str(site)
    piped = mediaops.run("run", "site-check", "--yes")
    assert piped.returncode == 0, piped.stderr
    for text in ("Pod media/x [init]", "containers with unready status: [tautulli]", "ready [ok]",
                 "Wait for the [init] container"):
        assert text in piped.stdout, text
    child = mediaops.spawn("run", "site-check", "--yes")
    child.expect(r"Pod media/x \[init\]")
    child.expect(r"containers with unready status: \[tautulli\]")  # the spinner's line
    child.expect(r"ready \[ok\]")
    child.expect(r"Wait for the \[init\] container")  # the summary's row
    child.expect(pexpect.EOF)


ENDING = """
import atexit, sys, threading, time
from mediaops.cli import end

atexit.register(lambda: print("exit handler ran"))
def late() -> None:
    time.sleep(0.2)
    print("thread finished")
if {thread!r}:
    threading.Thread(target=late).start()
print("buffered, not yet flushed", end="")
end(3)
"""


@pytest.mark.parametrize("thread", [False, True])
def test_the_end_runs_exit_handlers_flushes_output_and_awaits_threads(thread: bool) -> None:
    """A command ends without Python's teardown (mediaops.cli.end), but with everything else an exit does: its exit
    handlers (the parse cache's save), its output flushed through a pipe, a non-daemon thread awaited, its code."""
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a pipe's output normally is
    result = subprocess.run([sys.executable, "-c", ENDING.format(thread=thread)], capture_output=True, text=True,
                            env=buffered, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stderr == ""
    assert "buffered, not yet flushed" in result.stdout
    assert "exit handler ran" in result.stdout
    assert ("thread finished" in result.stdout) is thread


def test_the_end_with_the_output_closed_exits_as_python_does(mediaops: Mediaops) -> None:
    """Started with its output closed (`mediaops --version >&-`: no sys.stdout at all), a command ends as it did
    before it ended without the teardown: code 0, no traceback."""
    from tests.conftest import MEDIAOPS

    result = subprocess.run([MEDIAOPS, "--version"], env=mediaops.env, cwd=mediaops.cwd, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: os.close(1), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
