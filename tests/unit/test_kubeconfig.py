"""The kubeconfig as client-go reads it, over real TLS on 127.0.0.1: a CA and a client certificate (data or
files, paths relative to the kubeconfig), tls-server-name, a token file read again on each request, files of
$KUBECONFIG merged first-wins, and the official client taking over for an exec plugin."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediaops.cluster.client import Kube, KubeError
from mediaops.errors import UsageError
from tests.unit.conftest import ApiServer, Pki, ca_certificate, new_key, pem_key


def _write(path: Path, cluster: dict[str, Any], user: dict[str, Any], *, context: str = "home") -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": cluster}], "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "media"}}]}))
    return path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_client_certificate_and_ca_as_data(tmp_path: Path, pki: Pki, server: ApiServer) -> None:
    config = _write(tmp_path / "config", {"server": server.url, "certificate-authority-data": _b64(pki.ca_pem)},
                    {"client-certificate-data": _b64(pki.client_pem),
                     "client-key-data": _b64(pem_key(pki.client_key))})
    kube = Kube(str(config), attempts=1)
    assert kube.get("ConfigMap", "x", "media")["metadata"]["name"] == "x"
    assert kube.get("ConfigMap", "x", "media")["kind"] == "ConfigMap"
    assert [s["cn"] for s in server.seen] == ["operator", "operator"]
    assert kube.context == "home" and kube.endpoint is not None  # read here, not by the official client
    assert "kubernetes" not in sys.modules or kube._official is None


def test_files_relative_to_the_kubeconfig_and_tls_server_name(tmp_path: Path, pki: Pki, server: ApiServer) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "client.crt").write_bytes(pki.client_pem)
    (tmp_path / "creds" / "client.key").write_bytes(pem_key(pki.client_key))
    port = server.url.rsplit(":", 1)[1]
    # The certificate names kube.internal and 127.0.0.1; localhost is not in it, tls-server-name makes it match.
    config = _write(tmp_path / "config", {"server": f"https://localhost:{port}", "certificate-authority": "ca.crt",
                                          "tls-server-name": "kube.internal"},
                    {"client-certificate": "creds/client.crt", "client-key": "creds/client.key"})
    assert Kube(str(config), attempts=1).get("ConfigMap", "x", "media")["metadata"]["name"] == "x"
    no_name = _write(tmp_path / "plain", {"server": f"https://localhost:{port}", "certificate-authority": "ca.crt"},
                     {"client-certificate": "creds/client.crt", "client-key": "creds/client.key"})
    with pytest.raises(KubeError, match="SSLCertVerificationError"):
        Kube(str(no_name), attempts=1).get("ConfigMap", "x", "media")


def test_a_wrong_ca_is_refused(tmp_path: Path, pki: Pki, server: ApiServer) -> None:
    other = ca_certificate("other-ca", new_key())
    config = _write(tmp_path / "config", {"server": server.url, "certificate-authority-data": _b64(other)},
                    {"client-certificate-data": _b64(pki.client_pem),
                     "client-key-data": _b64(pem_key(pki.client_key))})
    with pytest.raises(KubeError):
        Kube(str(config), attempts=1).get("ConfigMap", "x", "media")
    assert server.seen == []


def test_a_token_file_is_read_again_on_each_request(tmp_path: Path, pki: Pki) -> None:
    running = ApiServer(pki, require_client_cert=False)
    try:
        token = tmp_path / "token"
        token.write_text("first\n")
        config = _write(tmp_path / "config", {"server": running.url, "certificate-authority-data": _b64(pki.ca_pem)},
                        {"tokenFile": "token"})
        kube = Kube(str(config), attempts=1)
        kube.get("ConfigMap", "x", "media")
        token.write_text("rotated\n")
        kube.get("ConfigMap", "x", "media")
        assert [s["authorization"] for s in running.seen] == ["Bearer first", "Bearer rotated"]
    finally:
        running.stop()


def test_kubeconfig_files_merge_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _write(tmp_path / "a", {"server": "https://127.0.0.1:1"}, {"token": "a"}, context="home")
    second = tmp_path / "b"
    second.write_text(yaml.safe_dump({
        "current-context": "lab", "clusters": [{"name": "home", "cluster": {"server": "https://127.0.0.1:2"}},
                                               {"name": "lab", "cluster": {"server": "https://127.0.0.1:3"}}],
        "users": [{"name": "lab", "user": {"token": "b"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab"}}]}))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}:{second}")
    home = Kube()
    assert (home.context, home.server) == ("home", "https://127.0.0.1:1")  # the first current-context, its cluster
    lab = Kube(context="lab")
    assert lab.server == "https://127.0.0.1:3" and lab.endpoint is not None and lab.endpoint.token == "b"
    with pytest.raises(UsageError, match="context 'nowhere' is not in"):
        Kube(context="nowhere")


def test_an_exec_plugin_is_left_to_the_official_client(tmp_path: Path, pki: Pki) -> None:
    running = ApiServer(pki, require_client_cert=False)
    try:
        plugin = tmp_path / "plugin.py"
        plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                          "'kind': 'ExecCredential', 'status': {'token': 'from-exec'}}))\n")
        config = _write(tmp_path / "config", {"server": running.url, "certificate-authority-data": _b64(pki.ca_pem)},
                        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                                  "args": [str(plugin)], "interactiveMode": "Never"}})
        kube = Kube(str(config), attempts=1)
        assert kube.endpoint is None
        assert kube.get("ConfigMap", "x", "media")["metadata"]["name"] == "x"
        assert running.seen[-1]["authorization"] == "Bearer from-exec"
    finally:
        running.stop()


def test_a_refused_connection_fails_at_once_until_the_server_has_answered(tmp_path: Path) -> None:
    """client-go (rest/request.go isErrRetryableFunc) does not retry a refused connection: nothing listens there.
    Once the server has answered, a refusal is its restart, and is retried."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"kind": "ConfigMap", "metadata": {"name": "x"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _write(tmp_path / "config", {"server": f"http://127.0.0.1:{port}"}, {"token": "t"})
    with pytest.raises(KubeError, match=f"the connection to the server http://127.0.0.1:{port} was refused") as once:
        Kube(str(config), backoff=0.01).get("ConfigMap", "x", "media")
    assert "gave up" not in str(once.value) and "API server up" in (once.value.hint or "")

    first = HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=first.serve_forever, daemon=True).start()
    kube = Kube(str(config), backoff=0.05)
    assert kube.get("ConfigMap", "x", "media")["metadata"]["name"] == "x"
    first.shutdown()
    first.server_close()  # the server restarts: refused until it listens again
    again = HTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
    again.allow_reuse_address = True
    listening = threading.Event()

    def restart() -> None:
        again.server_bind()
        again.server_activate()
        listening.set()
        again.serve_forever()

    timer = threading.Timer(0.1, restart)
    timer.daemon = True
    timer.start()
    try:
        assert kube.get("ConfigMap", "x", "media")["metadata"]["name"] == "x"
        assert listening.is_set()  # answered by the restarted server, after refusals
    finally:
        listening.wait(10)
        again.shutdown()
        again.server_close()
