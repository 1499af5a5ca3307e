"""Fixtures of the in-process tests (tests/unit/); the shared ones (the sample repository, the rehearsal cluster)
are in tests/conftest.py."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import HomeOps


@pytest.fixture
def rehearsal(tmp_path: Path, home_ops: HomeOps) -> Iterator[Any]:
    """A rehearsal that was never started: enough for its control endpoint and the faults it switches alone."""
    from mediaops.sim.cluster import Rehearsal

    sim = Rehearsal(home_ops.path, workdir=tmp_path / "rehearsal", nas_port=0)
    try:
        yield sim
    finally:
        sim.server.server_close()


# -- a TLS API server on 127.0.0.1 for the kubeconfig tests ----------------------------------------------------
def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
          *, ca: bool = False, names: list[x509.GeneralName] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    def __init__(self, folder: Path, server_names: list[x509.GeneralName]) -> None:
        self.ca_key = new_key()
        self.ca = _cert("test-ca", self.ca_key, None, ca=True)
        self.ca_pem = self.ca.public_bytes(serialization.Encoding.PEM)
        server_key = new_key()
        server = _cert("apiserver", server_key, ("test-ca", self.ca_key), names=server_names)
        self.client_key = new_key()
        self.client = _cert("operator", self.client_key, ("test-ca", self.ca_key))
        self.client_pem = self.client.public_bytes(serialization.Encoding.PEM)
        (folder / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
        (folder / "server.key").write_bytes(pem_key(server_key))
        (folder / "ca.crt").write_bytes(self.ca_pem)
        self.folder = folder


class ApiServer:
    """A loopback HTTPS server answering one ConfigMap; it records who called (certificate CN, Authorization)."""

    def __init__(self, pki: Pki, *, require_client_cert: bool) -> None:
        self.seen: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
                subject = dict(x[0] for x in (peer or {}).get("subject", ()))
                owner.seen.append({"path": self.path, "cn": subject.get("commonName", ""),
                                   "authorization": self.headers.get("Authorization", "")})
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "x", "namespace": "media"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki.folder / "server.crt"), str(pki.folder / "server.key"))
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=pki.ca_pem.decode())
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()




def ca_certificate(name: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A self-signed CA certificate, PEM."""
    return _cert(name, key, None, ca=True).public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and kube.internal, and a client certificate (CN operator)."""
    return Pki(tmp_path, [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("kube.internal")])


@pytest.fixture
def server(pki: Pki) -> Iterator[ApiServer]:
    """A loopback HTTPS API server that requires a client certificate of the CA."""
    running = ApiServer(pki, require_client_cert=True)
    yield running
    running.stop()
