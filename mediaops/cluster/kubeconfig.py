"""A kubeconfig read as client-go reads it, for what home-ops kubeconfigs hold (a server, its CA, a client
certificate, a token or a token file, basic auth), and the connection it describes, over the standard library.

Why not the official client here: importing the ``kubernetes`` package costs a quarter of a second on every
cluster command, more than most commands take. What this module does not do (exec credential plugins,
auth-provider, impersonation, proxies) it says: ``Unsupported``, and the caller falls back to the official
client, which does all of it. The rules followed (kubernetes/client-go 32ce75a):

- which files (tools/clientcmd/loader.go ``Load``): an explicit --kubeconfig must exist and is the only file;
  else each file of $KUBECONFIG (missing ones skipped), else ~/.kube/config; merged so that the first file to
  name a cluster, user or context, or to set current-context, wins; relative paths in a file are relative to
  that file's directory (``ResolveLocalPaths``);
- the user (tools/clientcmd/client_config.go ``getUserIdentificationPartialConfig``): ``token`` wins over
  ``tokenFile`` at load, but a token file is read again on each request and its content used while readable
  (transport/round_trippers.go ``NewBearerAuthWithRefreshRoundTripper``); client certificate and key from
  files or data; username and password as basic auth;
- in-cluster (rest/config.go ``InClusterConfig``): KUBERNETES_SERVICE_HOST and _PORT, the service account's
  token file and CA.
"""

from __future__ import annotations

import base64
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediaops.errors import UsageError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class Unsupported(Exception):
    """The kubeconfig needs what only the official client does (an exec plugin, an auth provider …)."""


@dataclass
class Endpoint:
    """Where the API server is and how to authenticate to it."""

    server: str
    context: str
    namespace: str = ""
    token: str = field(default="", repr=False)  # credentials never in a repr (a log, a debugger)
    token_file: str = ""
    basic: str = field(default="", repr=False)  # base64 of user:password
    ca_file: str = ""
    ca_data: bytes = b""
    cert: tuple[bytes, bytes] | None = field(default=None, repr=False)  # client certificate and key, PEM
    insecure: bool = False
    tls_server_name: str = ""
    _ssl: ssl.SSLContext | None = field(default=None, repr=False)

    def authorization(self) -> str:
        """The Authorization header, the token file read again (a rotated token is picked up)."""
        token = self.token
        if self.token_file:
            try:
                token = Path(self.token_file).read_text(encoding="utf-8").strip() or token
            except OSError:
                pass
        if token:
            return f"Bearer {token}"
        return f"Basic {self.basic}" if self.basic else ""

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            context = ssl.create_default_context(cafile=self.ca_file or None,
                                                 cadata=self.ca_data.decode() if self.ca_data else None)
            if self.insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if self.cert is not None:
                # The ssl module loads a chain only from files: written for the call, private, removed at once.
                import tempfile

                with tempfile.TemporaryDirectory(prefix="mediaops-tls-") as folder:
                    cert, key = Path(folder) / "client.crt", Path(folder) / "client.key"
                    for path, data in ((cert, self.cert[0]), (key, self.cert[1])):
                        path.touch(mode=0o600)
                        path.write_bytes(data)
                    context.load_cert_chain(str(cert), str(key))
            self._ssl = context
        return self._ssl


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UsageError(f"kubeconfig {path} cannot be read: {exc.strerror}", hint="check the file") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise UsageError(f"kubeconfig {path} cannot be read: {where}{getattr(exc, 'problem', None) or exc}",
                         hint="check the file, or pass --kubeconfig") from None
    if not isinstance(data, dict):
        raise UsageError(f"kubeconfig {path} cannot be read: it is not a kubeconfig (a YAML map)",
                         hint="check the file, or pass --kubeconfig")
    return data


def _named(data: dict[str, Any], key: str, inner: str, base: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in data.get(key) or []:
        if isinstance(entry, dict) and entry.get("name") and isinstance(entry.get(inner) or {}, dict):
            value = dict(entry.get(inner) or {})
            for field_name in ("certificate-authority", "client-certificate", "client-key", "tokenFile"):
                if value.get(field_name) and not os.path.isabs(str(value[field_name])):
                    value[field_name] = str(base / str(value[field_name]))  # ResolveLocalPaths
            found.setdefault(str(entry["name"]), value)
    return found


def files(explicit: str | None) -> list[Path]:
    """The kubeconfig files in their precedence (loader.go NewDefaultClientConfigLoadingRules, Load)."""
    if explicit:
        return [Path(explicit).expanduser()]
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in listed] if listed else [Path.home() / ".kube" / "config"]


def in_cluster_wanted(explicit: str | None) -> bool:
    return not explicit and "KUBERNETES_SERVICE_HOST" in os.environ and not os.environ.get("KUBECONFIG")


def load(explicit: str | None = None, context: str | None = None) -> Endpoint:
    """The endpoint of the context (the current one unless named); UsageError for a kubeconfig that cannot
    be used, Unsupported for one only the official client can."""
    if in_cluster_wanted(explicit):
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        host = f"[{host}]" if ":" in host else host
        return Endpoint(f"https://{host}:{port}", "in-cluster", token_file=str(SERVICE_ACCOUNT / "token"),
                        ca_file=str(SERVICE_ACCOUNT / "ca.crt"))
    paths = files(explicit)
    if explicit and not paths[0].exists():
        raise UsageError(f"kubeconfig {paths[0]} does not exist", hint="pass --kubeconfig, or --sim to rehearse")
    clusters: dict[str, dict[str, Any]] = {}
    users: dict[str, dict[str, Any]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    current = ""
    read_any = False
    for path in paths:
        try:
            data = _read(path)
        except FileNotFoundError:
            continue  # skipped, as client-go skips a missing file of the list
        read_any = True
        base = path.resolve().parent
        for target, key, inner in ((clusters, "clusters", "cluster"), (users, "users", "user"),
                                   (contexts, "contexts", "context")):
            for name, value in _named(data, key, inner, base).items():
                target.setdefault(name, value)
        current = current or str(data.get("current-context") or "")
    where = " or ".join(str(p) for p in paths)
    if not read_any:
        raise UsageError(f"kubeconfig {where} does not exist", hint="pass --kubeconfig, or --sim to rehearse")
    name = context or current
    if not name:
        raise UsageError("cannot load the cluster configuration: no current context is set and none was given",
                         hint="pass --context, or set one with `kubectl config use-context`")
    if name not in contexts:
        raise UsageError(f"cannot load the cluster configuration: context {name!r} is not in {where}",
                         hint="pass --kubeconfig and --context, or --sim to rehearse")
    chosen = contexts[name]
    cluster = clusters.get(str(chosen.get("cluster") or ""))
    if cluster is None or not cluster.get("server"):
        raise UsageError(f"cannot load the cluster configuration: context {name!r} names no cluster with a server",
                         hint="check the kubeconfig's clusters")
    user = users.get(str(chosen.get("user") or ""), {})
    for unsupported in ("exec", "auth-provider", "as", "as-groups", "as-uid", "as-user-extra"):
        if user.get(unsupported):
            raise Unsupported(unsupported)
    if cluster.get("proxy-url"):
        raise Unsupported("proxy-url")
    endpoint = Endpoint(str(cluster["server"]).rstrip("/"), name, namespace=str(chosen.get("namespace") or ""),
                        ca_file=str(cluster.get("certificate-authority") or ""),
                        ca_data=_data(cluster.get("certificate-authority-data")),
                        insecure=bool(cluster.get("insecure-skip-tls-verify")),
                        tls_server_name=str(cluster.get("tls-server-name") or ""))
    if user.get("token"):
        endpoint.token, endpoint.token_file = str(user["token"]), str(user.get("tokenFile") or "")
    elif user.get("tokenFile"):
        try:
            endpoint.token = Path(str(user["tokenFile"])).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot load the cluster configuration: token file {user['tokenFile']}: "
                             f"{exc.strerror}", hint="check the kubeconfig's user") from None
        endpoint.token_file = str(user["tokenFile"])
    if user.get("client-certificate") or user.get("client-certificate-data"):
        try:
            pem = _data(user.get("client-certificate-data")) or Path(str(user["client-certificate"])).read_bytes()
            pem_key = _data(user.get("client-key-data")) or Path(str(user.get("client-key") or "")).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot load the cluster configuration: {exc.filename}: {exc.strerror}",
                             hint="check the kubeconfig's user") from None
        endpoint.cert = (pem, pem_key)
    if user.get("username") or user.get("password"):
        endpoint.basic = base64.b64encode(f"{user.get('username', '')}:{user.get('password', '')}".encode()).decode()
    return endpoint


def _data(value: Any) -> bytes:
    """A *-data field: base64 of PEM."""
    if not value:
        return b""
    try:
        return base64.b64decode(str(value), validate=False)
    except ValueError:
        raise UsageError("cannot load the cluster configuration: a *-data field is not base64",
                         hint="check the kubeconfig") from None
