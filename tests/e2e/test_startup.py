"""Start-up stays light: --help, list and show import neither the Kubernetes client nor questionary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
