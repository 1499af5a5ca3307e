"""The one client layer: configuration, retries, errors and watches for every cluster call.

Objects are plain dicts at raw API paths (from ``mediaops.cluster.kinds``): no discovery round trips and no
per-kind model classes. Transient failures (5xx, 429 with Retry-After, connection resets, timeouts)
are retried with backoff up to a bound; 401/403/404 become one clear line naming the verb, the
resource and the object. ``watch`` resumes from the last resourceVersion, re-listing when a watch expires
(410) or drops; the waits built on it live in ``mediaops.cluster.waits``.
"""

from __future__ import annotations

import json
import os
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
        import yaml
        from kubernetes import client, config

        configuration = client.Configuration()
        self.context = context or ""
        path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
        in_cluster = not kubeconfig and "KUBERNETES_SERVICE_HOST" in os.environ and not os.environ.get("KUBECONFIG")
        with guard.trusted_read():  # the client writes certificate data to temporary files
            try:
                if in_cluster:
                    config.load_incluster_config(client_configuration=configuration)
                    self.context = "in-cluster"
                else:
                    config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                            persist_config=False)
                    if not self.context:
                        _, active = config.list_kube_config_contexts(config_file=path)
                        self.context = active["name"]
            except config.ConfigException as exc:
                raise UsageError(f"cannot load the cluster configuration: {exc}",
                                 hint="pass --kubeconfig and --context, or --sim to rehearse") from None
            except (ValueError, TypeError, AttributeError, yaml.YAMLError) as exc:  # not YAML, or not a kubeconfig
                mark = getattr(exc, "problem_mark", None)
                first = (f"line {mark.line + 1}: " if mark else "") + (
                    getattr(exc, "problem", None) or str(exc).strip().splitlines()[0] if str(exc).strip()
                    else type(exc).__name__)
                raise UsageError(f"kubeconfig {path or '~/.kube/config'} cannot be read: {first}",
                                 hint="check the file, or pass --kubeconfig") from None
            except FileNotFoundError:
                raise UsageError(f"kubeconfig {path or '~/.kube/config'} does not exist",
                                 hint="pass --kubeconfig, or --sim to rehearse") from None
        configuration.retries = False
        self.server = configuration.host
        self.api = client.ApiClient(configuration)
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        self._served: dict[str, str] = {}  # group/kind -> the version the server serves it at (asked when needed)

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
        import urllib3

        url = self.api.configuration.host + path + (f"?{urlencode(query)}" if query else "")
        verb = verb or method.lower()
        last = ""
        uncertain = False
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
            if body is not None:
                headers["Content-Type"] = content_type
            self.api.update_params_for_auth(headers, [], ["BearerToken"], path, method, body)
            try:
                response = self.api.call_api(method, url, header_params=headers, body=body,
                                             _request_timeout=timeout or self.timeout)
            except (urllib3.exceptions.HTTPError, OSError) as exc:  # refused, reset, timed out
                last = type(exc).__name__
                uncertain = method != "GET"
                self._pause(attempt, None)
                continue
            status = response.status
            if 200 <= status < 300:
                if stream:
                    return response
                data = response.read()
                return json.loads(data) if data else {}
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
        from kubernetes.watch.watch import iter_resp_lines

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
                for line in iter_resp_lines(response.response):
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
                response.response.release_conn()


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


def _exec_api(kube: Kube) -> Any:
    from kubernetes import client

    return client.CoreV1Api(kube.api)


def exec_in(kube: Kube, namespace: str, pod: str, command: list[str], *, container: str = "",
            stdin: bytes | None = None, timeout: float = 60) -> tuple[str, str, int]:
    """Run a command in a container through the API (no terminal): (stdout, stderr, exit code).

    Data for the command goes on stdin, never on its command line, so it shows in no process list.
    """
    from kubernetes.stream import stream

    api = _exec_api(kube)
    kwargs: dict[str, Any] = {"command": command, "stdin": stdin is not None, "stdout": True, "stderr": True,
                              "tty": False, "_preload_content": False}
    if container:
        kwargs["container"] = container
    try:
        client = stream(api.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
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
