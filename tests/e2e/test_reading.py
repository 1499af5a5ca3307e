"""The tests read the cluster with ``read`` (tests/conftest.py): what ``kubectl get … -o json`` prints, without a
kubectl process. It must print what kubectl prints, or the tests would check something else."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Mediaops, _get_request, kubectl, read

ASKED = [
    ("get", "configmaps", "-n", "flux-system", "-o", "json"),  # a list
    ("get", "pvc", "tautulli-config", "-n", "media", "-o", "json"),  # a short name
    ("get", "schedules.k8up.io", "media-daily", "-n", "storage", "-o", "json"),  # plural.group
    ("get", "kustomization", "tautulli", "--namespace=media", "-o=json"),  # the singular, flags with =
    ("get", "clustersecretstores", "-o", "json"),  # cluster-scoped
]


def test_read_prints_what_kubectl_prints(sim: Mediaops) -> None:
    for args in ASKED:
        assert _get_request(args) is not None, args  # read by the client, not handed to kubectl
        for _ in range(5):  # the same state: a controller may write between the two reads
            ours, theirs = read(sim, *args), json.loads(kubectl(sim, *args).stdout)
            if ours == theirs:
                break
        assert ours == theirs, args


@pytest.mark.parametrize("args", [("get", "backups", "-n", "velero", "-o", "json"),  # Velero's and K8up's
                                  ("get", "deploy/tautulli", "-n", "media", "-o", "json"),
                                  ("get", "pods", "-l", "app=x", "-o", "json"),
                                  ("get", "pods", "-o", "yaml"),
                                  ("describe", "pods")])
def test_what_read_does_not_read_as_kubectl_would_goes_to_kubectl(args: tuple[str, ...]) -> None:
    assert _get_request(args) is None
