"""Start-up stays light: --help, list and show import neither the Kubernetes client nor questionary."""

from __future__ import annotations

import json
import subprocess
import sys

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
