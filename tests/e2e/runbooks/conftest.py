"""Helpers of the runbook tests: VolSync's objects as the home-ops volsync component writes them."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.conftest import KUBECTL, Mediaops

VOLSYNC_SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tautulli-volsync-secret",
                                                                      "namespace": "media"},
                  "stringData": {"RESTIC_REPOSITORY": "s3:http://127.0.2.40:9091/volsync/tautulli",
                                 "RESTIC_PASSWORD": "rehearsal"}}


def apply(ops: Mediaops, *objects: dict[str, object]) -> None:
    applied = subprocess.run([KUBECTL, "apply", "-f", "-"], input="\n---\n".join(json.dumps(o) for o in objects),
                             env=ops.env, capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stderr


def volsync_source(ops: Mediaops, trigger: dict[str, Any]) -> None:
    """VolSync installed, and a restic ReplicationSource ``tautulli`` of tautulli's claim with ``trigger``."""
    installed = ops.run("sim", "fault", "volsync-installed", "on")
    assert installed.returncode == 0, installed.stderr
    apply(ops, VOLSYNC_SECRET)
    apply(ops, {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
                "metadata": {"name": "tautulli", "namespace": "media"},
                "spec": {"sourcePVC": "tautulli-config", "trigger": trigger,
                         "restic": {"repository": "tautulli-volsync-secret", "copyMethod": "Snapshot",
                                    "retain": {"last": 7},
                                    "moverSecurityContext": {"runAsUser": 568, "runAsGroup": 568, "fsGroup": 568}}}})
