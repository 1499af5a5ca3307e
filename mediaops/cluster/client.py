"""The one client layer: configuration, retries, errors and watches for every cluster call.

Objects are plain dicts at raw API paths (from ``mediaops.cluster.kinds``): no discovery round trips and no
per-kind model classes. Transient failures (5xx, 429 with Retry-After, connection resets, timeouts)
are retried with backoff up to a bound; 401/403/404 become one clear line naming the verb, the
resource and the object. ``watch`` resumes from the last resourceVersion, re-listing when a watch expires
(410) or drops; the waits built on it live in ``mediaops.cluster.waits``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from mediaops.cluster import kinds
from mediaops.cluster.kinds import Resource, kind
from mediaops.engine import guard
from mediaops.errors import MediaopsError, UsageError

RETRYABLE = {500, 502, 503, 504, 429}


class KubeError(MediaopsError):
    """A cluster call that did not succeed, in one line."""

    code = 0


class NotFound(KubeError):
    code = 404


class Conflict(KubeError):
    code = 409


def _written(obj: dict[str, Any]) -> dict[str, Any]:
    """What of an object a write sets and a read shows again (not what the server fills in)."""
    meta = obj.get("metadata") or {}
    mine = {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind", "stringData")}
    mine["metadata"] = {k: meta[k] for k in ("labels", "annotations") if meta.get(k)}
    return mine


def _contains(live: Any, wanted: Any) -> bool:
    """Whether ``live`` holds everything ``wanted`` says, as a JSON merge patch reads it (None: absent)."""
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return False
        return all((key not in live) if value is None else (key in live and _contains(live[key], value))
                   for key, value in wanted.items())
    return bool(live == wanted)


def _what(res: Resource, name: str | None, namespace: str | None) -> str:
    where = f"{namespace}/" if namespace and res.namespaced else ""
    return f"{res.kind} {where}{name}" if name else f"{res.plural}" + (f" in {namespace}" if namespace else "")


class Kube:
    """A connection to one cluster (kubeconfig + context, or in-cluster)."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, *, timeout: float = 15.0,
                 attempts: int = 6, backoff: float = 0.2) -> None:
        from mediaops.cluster import kubeconfig as loader

        self._kubeconfig, self._context_asked = kubeconfig, context
        self._official: Any = None  # the kubernetes package's ApiClient, made only when needed
        try:
            self.endpoint: loader.Endpoint | None = loader.load(kubeconfig, context)
        except loader.Unsupported:
            # An exec plugin, an auth provider, impersonation, a proxy: the official client does those.
            self.endpoint = None
            self._official = _official_client(kubeconfig, context)
        if self.endpoint is not None:
            self.context, self.server = self.endpoint.context, self.endpoint.server
        else:
            self.context = context or _official_context(kubeconfig)
            self.server = self._official.configuration.host
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        self._served: dict[str, str] = {}  # group/kind -> the version the server serves it at (asked when needed)
        self._pool = threading.local()  # one kept-alive connection per thread
        self._answered = False  # whether the API server has answered this client yet

    @property
    def api(self) -> Any:
        """The official client's ApiClient on the same cluster (for exec over websockets)."""
        if self._official is None:
            self._official = _official_client(self._kubeconfig, self._context_asked)
        return self._official

    # -- transport ----------------------------------------------------------------------------------

    def path(self, res: Resource, namespace: str | None = None, name: str | None = None,
             sub: str | None = None) -> str:
        base = f"/apis/{res.group}/{self.version(res)}" if res.group else f"/api/{res.version}"
        if res.namespaced and namespace:
            base += f"/namespaces/{quote(namespace)}"
        base += f"/{res.plural}"
        if name:
            base += f"/{quote(name)}"
        if sub:
            base += f"/{sub}"
        return base

    def version(self, res: Resource) -> str:
        """The version to speak for a kind the cluster may serve at an older version only: OCIRepository is
        ``source.toolkit.fluxcd.io/v1`` since source-controller v1.8 (which stopped serving v1beta2), older Flux
        serves only v1beta2. Asked once per kind and client (GET /apis/GROUP/VERSION), as kubectl discovers."""
        older = kinds.OLDER_VERSIONS.get((res.group, res.kind))
        if not older:
            return res.version
        key = f"{res.group}/{res.kind}"
        if key not in self._served:
            self._served[key] = res.version
            for version in (res.version, *older):  # the first version whose resource list has the kind
                try:
                    listed = self.request("GET", f"/apis/{res.group}/{version}", what=f"API {res.group}/{version}",
                                          verb="discover")
                except MediaopsError:
                    continue
                if any(r.get("name") == res.plural for r in listed.get("resources") or []):
                    self._served[key] = version
                    break
        return self._served[key]

    def request(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
                content_type: str = "application/json", what: str = "", verb: str = "",
                stream: bool = False, timeout: float | None = None,
                applied: Callable[[], Any] | None = None) -> Any:
        """One API call, retried on 5xx, 429, resets and timeouts. A write whose attempt ended without a
        definite answer (a 5xx or a lost connection can come after the server committed it) is not sent
        blindly again: ``applied`` re-reads the object first and, when the write is already there, that is
        the answer (a retried create would otherwise meet itself as a 409)."""
        url = path + (f"?{urlencode(query)}" if query else "")
        verb = verb or method.lower()
        last = ""
        uncertain = False
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        for attempt in range(1, self.attempts + 1):
            if uncertain and applied is not None:
                uncertain = False
                try:
                    done = applied()
                except (MediaopsError, OSError):
                    done = None
                if done is not None:
                    return done
            headers = {"Accept": "application/json", "User-Agent": "mediaops"}
            if data is not None:
                headers["Content-Type"] = content_type
            try:
                response = self._send(method, url, data, headers, timeout or self.timeout, stream=stream)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
                if isinstance(exc, ConnectionRefusedError) and not self._answered:
                    # Nothing listens there: client-go does not retry a refused connection (rest/request.go
                    # isErrRetryableFunc: resets and EOFs of GETs only), and kubectl says so at once. Once the
                    # server has answered, a refusal is taken for its restart and retried like a reset.
                    raise KubeError(f"cannot {verb} {what}: the connection to the server {self.server} was refused",
                                    hint="is the kubeconfig's server (or --context) the right one, and is the API "
                                         "server up?") from None
                last = type(exc).__name__
                uncertain = method != "GET"
                self._pause(attempt, None)
                continue
            self._answered = True
            status = response.status
            if 200 <= status < 300:
                if stream:
                    return response
                answer = response.body
                return json.loads(answer) if answer else {}
            message = _message(response)
            if status in RETRYABLE and attempt < self.attempts:
                last = f"HTTP {status}: {message}"
                uncertain = method != "GET" and status != 429  # a 429 was refused before any write
                self._pause(attempt, response.getheader("Retry-After"))
                continue
            if status == 404:
                raise NotFound(f"cannot {verb} {what}: not found")
            if status in (401, 403):
                word = "unauthorized" if status == 401 else "forbidden"
                raise KubeError(f"cannot {verb} {what}: {word} ({message})",
                                hint="check the kube context and your credentials")
            if status == 409:
                raise Conflict(f"cannot {verb} {what}: {message}")
            if status in RETRYABLE:
                raise KubeError(f"cannot {verb} {what}: HTTP {status}: {message} "
                                f"(gave up after {self.attempts} attempts)",
                                hint=f"is the API server at {self.server} healthy?")
            raise KubeError(f"cannot {verb} {what}: HTTP {status}: {message}")
        raise KubeError(f"cannot {verb} {what}: {last} (gave up after {self.attempts} attempts)",
                        hint=f"is the API server at {self.server} reachable?")

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """A new connection to the API server (TLS as the kubeconfig says)."""
        from urllib.parse import urlsplit

        assert self.endpoint is not None
        url = urlsplit(self.endpoint.server)
        if url.scheme == "https":
            with guard.trusted_read():  # a client certificate is loaded through private temporary files
                context = self.endpoint.ssl_context()
            return _TLSConnection(url.hostname or "", url.port or 443, timeout=timeout, context=context,
                                  server_name=self.endpoint.tls_server_name)
        return http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=timeout)

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float, *,
              stream: bool = False) -> _Response:
        """One HTTP exchange. A non-streaming one reuses this thread's kept-alive connection (made again, once,
        when the server had closed it while idle); a stream has a connection of its own until it is closed."""
        if self.endpoint is None:
            return self._send_official(method, url, data, headers, timeout, stream=stream)
        authorization = self.endpoint.authorization()
        if authorization:
            headers["Authorization"] = authorization
        prefix = self.endpoint.server.split("://", 1)[-1].partition("/")[2]
        target = (f"/{prefix.strip('/')}" if prefix.strip("/") else "") + url
        if stream:
            own = self._connection(timeout)
            own.request(method, target, body=data, headers=headers)
            return _Response(own.getresponse(), own)
        for fresh in (False, True):
            connection: http.client.HTTPConnection | None = None if fresh else getattr(self._pool, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = self._connection(timeout)
                self._pool.connection = connection
            elif connection.sock is not None:
                connection.sock.settimeout(timeout)
            try:
                connection.request(method, target, body=data, headers=headers)
                raw = connection.getresponse()
                body = raw.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                connection.close()
                self._pool.connection = None
                if reused and not fresh:
                    continue  # the server closed the idle connection: the request never reached it
                raise
            except BaseException:
                connection.close()
                self._pool.connection = None
                raise
            if raw.will_close:
                connection.close()
                self._pool.connection = None
            return _Response(raw, None, body)
        raise http.client.CannotSendRequest("no connection")  # not reached

    def _send_official(self, method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float,
                       *, stream: bool) -> _Response:
        """The same exchange through the official client (a kubeconfig only it can use)."""
        import urllib3

        api = self.api
        api.update_params_for_auth(headers, [], ["BearerToken"], url, method, data)
        try:
            raw = api.rest_client.pool_manager.request(method, api.configuration.host + url, body=data,
                                                       headers=headers, preload_content=not stream,
                                                       timeout=timeout, retries=False)
        except urllib3.exceptions.HTTPError as exc:
            raise OSError(str(exc)) from None
        return _Response(raw, None, None if stream else raw.data)

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        if attempt >= self.attempts:
            return
        delay = min(self.backoff * (2 ** (attempt - 1)), 3.0)
        if retry_after:
            try:
                delay = min(float(retry_after), 10.0)
            except ValueError:
                pass
        time.sleep(delay)

    # -- objects ------------------------------------------------------------------------------------
    def get(self, kind_name: str, name: str, namespace: str | None = None, sub: str | None = None) -> dict[str, Any]:
        res = kind(kind_name)
        result: dict[str, Any] = self.request("GET", self.path(res, namespace, name, sub),
                                              what=_what(res, name, namespace), verb="get")
        return result

    def find(self, kind_name: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.get(kind_name, name, namespace)
        except NotFound:
            return None

    def list(self, kind_name: str, namespace: str | None = None, *, labels: str = "",
             fields: str = "") -> tuple[list[dict[str, Any]], str]:
        res = kind(kind_name)
        query = {k: v for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v}
        data = self.request("GET", self.path(res, namespace), query=query, what=_what(res, None, namespace),
                            verb="list")
        return list(data.get("items") or []), str((data.get("metadata") or {}).get("resourceVersion", ""))

    def create(self, kind_name: str, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        res = kind(kind_name)
        namespace = namespace or (obj.get("metadata") or {}).get("namespace")
        obj = {"apiVersion": res.api_version, "kind": res.kind, **obj}
        name = (obj.get("metadata") or {}).get("name")
        result: dict[str, Any] = self.request(
            "POST", self.path(res, namespace), body=obj, verb="create", what=_what(res, name, namespace),
            applied=(lambda: self._already(kind_name, name, namespace, _written(obj))) if name else None)
        return result

    def patch(self, kind_name: str, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: str = "merge", sub: str | None = None) -> dict[str, Any]:
        res = kind(kind_name)
        content = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                   "strategic": "application/strategic-merge-patch+json"}[patch_type]
        result: dict[str, Any] = self.request(
            "PATCH", self.path(res, namespace, name, sub), body=patch, content_type=content,
            what=_what(res, name, namespace), verb="patch",
            applied=(lambda: self._already(kind_name, name, namespace, patch)) if patch_type == "merge" else None)
        return result

    def replace(self, kind_name: str, obj: dict[str, Any]) -> dict[str, Any]:
        res = kind(kind_name)
        meta = obj["metadata"]
        result: dict[str, Any] = self.request(
            "PUT", self.path(res, meta.get("namespace"), meta["name"]), body=obj,
            what=_what(res, meta["name"], meta.get("namespace")), verb="update",
            applied=lambda: self._already(kind_name, meta["name"], meta.get("namespace"), _written(obj),
                                          moved_from=str(meta.get("resourceVersion") or "")))
        return result

    def update(self, kind_name: str, name: str, change: Callable[[dict[str, Any]], None],
               namespace: str | None = None, attempts: int = 5) -> dict[str, Any]:
        """Read, change, write with the read resourceVersion; on 409 read again and retry."""
        for _ in range(attempts):
            obj = self.get(kind_name, name, namespace)
            change(obj)
            try:
                return self.replace(kind_name, obj)
            except Conflict:
                continue
        raise Conflict(f"cannot update {kind_name} {name}: it kept changing under us ({attempts} attempts)")

    def delete(self, kind_name: str, name: str, namespace: str | None = None) -> None:
        res = kind(kind_name)
        self.request("DELETE", self.path(res, namespace, name), what=_what(res, name, namespace), verb="delete",
                     applied=lambda: {} if self.find(kind_name, name, namespace) is None else None)

    def _already(self, kind_name: str, name: str, namespace: str | None, wanted: Any,
                 moved_from: str = "") -> dict[str, Any] | None:
        """The object as it is, when it already holds what a write asked for (and, for an update, its
        resourceVersion moved past the one we sent); None when the write has to be sent again."""
        live = self.find(kind_name, name, namespace)
        if live is None or not _contains(live, wanted):
            return None
        if moved_from and live["metadata"].get("resourceVersion") == moved_from:
            return None
        return live

    # -- watches ------------------------------------------------------------------------------------
    def watch(self, kind_name: str, namespace: str | None = None, *, name: str | None = None, labels: str = "",
              since: str = "", timeout: float = 300) -> Iterator[tuple[str, dict[str, Any]]]:
        """Events from ``since`` on; when the stream drops or the version expires, re-list and resume.

        After a re-list the current objects are yielded as ``SYNC`` events, so nothing is missed.
        """
        res = kind(kind_name)
        fields = f"metadata.name={name}" if name else ""
        deadline = time.monotonic() + timeout
        rv = since
        while time.monotonic() < deadline:
            if not rv:
                items, rv = self.list(kind_name, namespace, labels=labels, fields=fields)
                for item in items:
                    yield "SYNC", item
            remaining = max(1, int(deadline - time.monotonic()))
            query = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": remaining,
                     "allowWatchBookmarks": "true"}
            if labels:
                query["labelSelector"] = labels
            if fields:
                query["fieldSelector"] = fields
            try:
                response = self.request("GET", self.path(res, namespace), query=query, stream=True,
                                        what=_what(res, name, namespace), verb="watch", timeout=remaining + 5)
            except KubeError:
                rv = ""  # could not even open the watch: re-list next round
                continue
            try:
                for line in response.lines():
                    event = json.loads(line)
                    kind_of_event, obj = event.get("type"), event.get("object") or {}
                    if kind_of_event == "ERROR":
                        rv = ""  # 410 Gone: our version is too old; re-list
                        break
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if kind_of_event == "BOOKMARK":
                        continue
                    yield kind_of_event, obj
            except Exception:
                pass
            finally:
                response.close()


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS with the server name the kubeconfig's tls-server-name gives, when it gives one."""

    def __init__(self, host: str, port: int, *, timeout: float, context: Any, server_name: str = "") -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name

    def connect(self) -> None:
        if not self._server_name:
            super().connect()
            return
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_name)  # type: ignore[attr-defined]


class _Response:
    """An answer: its status and headers, and its body read whole, or (a stream) read as it comes."""

    def __init__(self, raw: Any, connection: http.client.HTTPConnection | None, body: bytes | None = None) -> None:
        self.raw, self._connection, self.body = raw, connection, body
        self.status: int = int(raw.status)
        self.reason: str = str(getattr(raw, "reason", "") or "")

    def getheader(self, name: str) -> str | None:
        value = self.raw.getheader(name) if hasattr(self.raw, "getheader") else self.raw.headers.get(name)
        return None if value is None else str(value)

    def read(self) -> bytes:
        if self.body is None:
            self.body = bytes(self.raw.read())
        return self.body

    def lines(self) -> Iterator[bytes]:
        """The body line by line as the server flushes it (a watch's events)."""
        if isinstance(self.raw, http.client.HTTPResponse):  # chunked transfer decoded by http.client
            yield from (line for line in iter(self.raw.readline, b"") if line.strip())
            return
        pending = b""  # urllib3's response (the official client's path): chunks, split on newlines
        for chunk in self.raw.stream(4096, decode_content=False):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from (c for c in complete if c.strip())

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        elif hasattr(self.raw, "release_conn"):
            self.raw.release_conn()


def _official_client(kubeconfig: str | None, context: str | None) -> Any:
    """The kubernetes package's ApiClient for a kubeconfig, loaded as it loads it (imports the package)."""
    import yaml
    from kubernetes import client, config

    from mediaops.cluster import kubeconfig as loader

    configuration = client.Configuration()
    path = str(loader.files(kubeconfig)[0]) if not loader.in_cluster_wanted(kubeconfig) else None
    with guard.trusted_read():  # the client writes certificate data to temporary files
        try:
            if path is None:
                config.load_incluster_config(client_configuration=configuration)
            else:
                config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                        persist_config=False)
        except config.ConfigException as exc:
            raise UsageError(f"cannot load the cluster configuration: {exc}",
                             hint="pass --kubeconfig and --context, or --sim to rehearse") from None
        except (ValueError, TypeError, AttributeError, yaml.YAMLError) as exc:
            raise UsageError(f"kubeconfig {path} cannot be read: {exc}", hint="check the file") from None
    configuration.retries = False
    return client.ApiClient(configuration)


def _official_context(kubeconfig: str | None) -> str:
    from kubernetes import config

    from mediaops.cluster import kubeconfig as loader

    if loader.in_cluster_wanted(kubeconfig):
        return "in-cluster"
    _, active = config.list_kube_config_contexts(config_file=str(loader.files(kubeconfig)[0]))
    return str(active["name"])


def _message(response: Any) -> str:
    try:
        data = json.loads(response.read() or b"{}")
        return str(data.get("message") or response.reason or "")
    except (ValueError, AttributeError):
        return str(getattr(response, "reason", ""))


def condition(obj: dict[str, Any] | None, type_: str = "Ready") -> dict[str, Any] | None:
    for entry in ((obj or {}).get("status") or {}).get("conditions") or []:
        if entry.get("type") == type_:
            return dict(entry)
    return None


def exec_in(kube: Kube, namespace: str, pod: str, command: list[str], *, container: str = "",
            stdin: bytes | None = None, timeout: float = 60) -> tuple[str, str, int]:
    """Run a command in a container through the API (no terminal): (stdout, stderr, exit code).

    Data for the command goes on stdin, never on its command line, so it shows in no process list.

    The request is the one ``kubernetes.stream.stream(CoreV1Api(...).connect_get_namespaced_pod_exec, ...)``
    makes (kubernetes-client/python, kubernetes/stream/stream.py: the generated method's request, serialized as
    ``_connect_get_namespaced_pod_exec_serialize`` in kubernetes/client/api/core_v1_api.py does, handed to
    ``ws_client.websocket_call``), built here from the same ApiClient without importing ``CoreV1Api``: that
    module defines a pydantic model for every core kind and costs most of a second of CPU to import.
    """
    from kubernetes.stream import ws_client

    api = kube.api
    query: list[tuple[str, Any]] = [("command", command)]
    if container:
        query.append(("container", container))
    query += [("stderr", True), ("stdin", stdin is not None), ("stdout", True), ("tty", False)]
    try:
        method, url, headers, _, _ = api.param_serialize(
            method="GET", resource_path="/api/v1/namespaces/{namespace}/pods/{name}/exec",
            path_params={"name": pod, "namespace": namespace}, query_params=query, header_params={"Accept": "*/*"},
            auth_settings=["BearerToken"], collection_formats={"command": "multi"})
        client = ws_client.websocket_call(api.configuration, method, url, headers=headers, _preload_content=False)
    except Exception as exc:  # the websocket layer raises its own types
        raise KubeError(f"cannot exec in Pod {namespace}/{pod}: {exc}") from None
    try:
        if stdin is not None:
            client.write_stdin(stdin.decode())
            client.close_channel(0)  # v5: end of stdin
        client.run_forever(timeout=timeout)
        out, err = client.read_stdout(), client.read_stderr()
        return out, err, int(client.returncode or 0)
    finally:
        client.close()


def logs(kube: Kube, namespace: str, pod: str, *, container: str = "", tail: int = 200) -> str:
    query: dict[str, Any] = {"tailLines": tail}
    if container:
        query["container"] = container
    response = kube.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/log", query=query, stream=True,
                            what=f"logs of Pod {namespace}/{pod}", verb="read")
    return str(response.read().decode())
