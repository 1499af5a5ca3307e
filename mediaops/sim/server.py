"""The rehearsal cluster's Kubernetes API over real HTTP on 127.0.0.1.

Serves what the Kubernetes Python client and kubectl use: discovery, get/list/watch, create, update,
merge/JSON/strategic-merge patch, delete, the status and scale subresources, label and field selectors,
resourceVersion semantics (watch from a version, 410 Gone when too old), and server-side Tables for
``kubectl get``. Faults (5xx, 429, timeouts, dropped watches) are injected here, per request.
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mediaops.kinds import BY_PLURAL, RESOURCES, Resource
from mediaops.sim.store import ApiError, Store, apply_patch, field_value


class Faults:
    """Switchable misbehaviour of the API (the controllers have their own switches)."""

    def __init__(self) -> None:
        self.error_rate = 0.0  # share of requests answered 500
        self.throttle_rate = 0.0  # share answered 429 with Retry-After
        self.timeout_rate = 0.0  # share that hang past the client's timeout, then drop
        self.after_write_rate = 0.0  # share of writes committed, then answered 500
        self.timeout_seconds = 3.0
        self.drop_watches = False  # close every watch stream after its first event
        self.rng = random.Random(7)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: Store, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.requests_lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, method: str, path: str) -> None:
        with self.requests_lock:
            self.requests.append((method, path))

    def shutdown(self) -> None:
        self.stopping.set()
        with self.store.lock:
            self.store.changed.notify_all()
        super().shutdown()


def _discovery() -> dict[str, Any]:
    groups: dict[str, dict[str, list[Resource]]] = {}
    for resource in RESOURCES:
        groups.setdefault(resource.group, {}).setdefault(resource.version, []).append(resource)
    return groups


def _resource_list(group: str, version: str, resources: list[Resource]) -> dict[str, Any]:
    items = []
    for r in resources:
        items.append({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": list(r.verbs), "shortNames": list(r.short)})
        for sub in r.subresources:
            kind = "Scale" if sub == "scale" else r.kind
            items.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                          "kind": kind, "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": items}


def _age(stamp: str) -> str:
    try:
        created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return "<unknown>"
    seconds = int((datetime.now(UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ready_cells(obj: dict[str, Any]) -> tuple[str, str]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status", "")), str(condition.get("message", ""))
    return "", ""


def table(resource: Resource, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    """A server-side Table as kubectl get asks for it."""
    columns = [("Name", "string", "name")]
    kind = resource.kind
    if kind in ("Deployment", "StatefulSet"):
        columns += [("Ready", "string", ""), ("Up-to-date", "integer", ""), ("Available", "integer", "")]
    elif kind == "Pod":
        columns += [("Ready", "string", ""), ("Status", "string", ""), ("Restarts", "integer", "")]
    elif kind in ("Backup", "Restore"):
        columns += [("Phase", "string", "")]
    elif kind == "PersistentVolumeClaim":
        columns += [("Status", "string", ""), ("Capacity", "string", "")]
    elif any((o.get("status") or {}).get("conditions") for o in items) or resource.group.endswith("fluxcd.io"):
        columns += [("Ready", "string", ""), ("Status", "string", "")]
    columns.append(("Age", "string", ""))
    rows = []
    for obj in items:
        status = obj.get("status") or {}
        cells: list[Any] = [obj["metadata"]["name"]]
        if kind in ("Deployment", "StatefulSet"):
            want = (obj.get("spec") or {}).get("replicas", 1)
            cells += [f"{status.get('readyReplicas', 0)}/{want}", status.get("updatedReplicas", 0),
                      status.get("availableReplicas", 0)]
        elif kind == "Pod":
            statuses = status.get("containerStatuses") or []
            ready = sum(1 for c in statuses if c.get("ready"))
            reason = next((c["state"]["waiting"].get("reason") for c in statuses
                           if (c.get("state") or {}).get("waiting")), None)
            terminating = "Terminating" if obj["metadata"].get("deletionTimestamp") else None
            cells += [f"{ready}/{len(statuses)}", terminating or reason or status.get("phase", ""),
                      sum(int(c.get("restartCount", 0)) for c in statuses)]
        elif kind in ("Backup", "Restore"):
            cells.append(status.get("phase", ""))
        elif kind == "PersistentVolumeClaim":
            cells += [status.get("phase", ""), ((status.get("capacity") or {}).get("storage", ""))]
        elif len(columns) > 2:
            cells += list(_ready_cells(obj))
        cells.append(_age(obj["metadata"].get("creationTimestamp", "")))
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": obj["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": [{"name": n, "type": t, "format": f, "description": n, "priority": 0}
                                  for n, t, f in columns],
            "rows": rows}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ApiServer
    _raw: bytes | None = None

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and demos read their own output
        return

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, code: int, body: Any, extra: dict[str, str] | None = None) -> None:
        if getattr(self, "_fail_after_write", False) and 200 <= code < 300:
            self._fail_after_write = False
            code, body, extra = 500, ApiError(500, "InternalError", "the rehearsal cluster committed the write, "
                                              "then failed to answer").status(), None
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        """The request's body, read once: a fault answered before the route must still consume it, or the
        next request on the kept-alive connection would start in the middle of it ("Bad request syntax")."""
        if self._raw is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(length) if length else b""
        return self._raw

    def _body(self) -> Any:
        raw = self._read_body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            import yaml

            return yaml.safe_load(raw)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.count(method, url.path)
        faults = self.server.faults
        self._raw = None
        self._fail_after_write = False
        try:
            if method != "GET":
                self._read_body()
            if url.path.startswith("/rehearsal/"):  # the rehearsal's own control: never faulted
                self._route(method, url.path.rstrip("/") or "/", query)
                return
            if faults.roll(faults.timeout_rate):
                time.sleep(faults.timeout_seconds)
                self.close_connection = True
                return
            if faults.roll(faults.error_rate):
                raise ApiError(500, "InternalError", "the rehearsal cluster injected an internal error")
            if faults.roll(faults.throttle_rate):
                self._send(429, ApiError(429, "TooManyRequests", "rehearsal throttling").status(),
                           {"Retry-After": "1"})
                return
            if method != "GET" and faults.roll(faults.after_write_rate):
                self._fail_after_write = True  # the write happens; its answer is lost to a 500
            if method != "GET" and self.headers.get("Authorization", "") == "Bearer denied":
                # A read-only user, to rehearse RBAC refusals: any write is forbidden.
                raise ApiError(403, "Forbidden", f'User "viewer" cannot {method.lower()} this resource')
            self._route(method, url.path.rstrip("/") or "/", query)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- routing ------------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        parts = [p for p in path.split("/") if p]
        control = getattr(self.server, "control", None)
        if parts[:1] == ["rehearsal"] and control is not None:
            code, answer = control(method, path, self._body() if method == "POST" else None)
            self._send(code, answer)
            return
        groups = _discovery()
        if path == "/version":
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-mediaops-rehearsal",
                             "platform": "linux/amd64"})
            return
        if path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                             "serverAddress": "127.0.0.1"}]})
            return
        if path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in versions],
                 "preferredVersion": {"groupVersion": f"{g}/{next(iter(versions))}",
                                      "version": next(iter(versions))}}
                for g, versions in groups.items() if g]})
            return
        if parts[:1] == ["api"] and len(parts) == 2:
            self._send(200, _resource_list("", parts[1], groups.get("", {}).get(parts[1], [])))
            return
        if parts[:1] == ["apis"] and len(parts) == 2 and parts[1] in groups:
            versions = groups[parts[1]]
            first = next(iter(versions))
            self._send(200, {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1],
                             "versions": [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions],
                             "preferredVersion": {"groupVersion": f"{parts[1]}/{first}", "version": first}})
            return
        if parts[:1] == ["apis"] and len(parts) == 3 and parts[2] in groups.get(parts[1], {}):
            self._send(200, _resource_list(parts[1], parts[2], groups[parts[1]][parts[2]]))
            return
        if parts[:1] == ["api"]:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces" and group == "":
            rest = ["namespaces", rest[1]]
        resource = BY_PLURAL.get((group, rest[0])) if rest else None
        if resource is None or resource.version != version:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and sub not in resource.subresources:
            raise ApiError(404, "NotFound", f"{resource.plural} has no subresource {sub}")
        self._resource(method, resource, namespace, name, sub, query)

    def _resource(self, method: str, resource: Resource, namespace: str, name: str, sub: str,
                  query: dict[str, str]) -> None:
        store = self.server.store
        if sub in ("exec", "log"):
            store.get(resource, namespace, name)
            runtime = getattr(self.server, "runtime", None)
            if runtime is None:
                raise ApiError(501, "NotImplemented", f"this server cannot {sub} in pods")
            if sub == "log":
                text = runtime.logs(namespace, name, query.get("container", ""), int(query.get("tailLines") or 0))
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self._exec(runtime, namespace, name)
            return
        wants_table = "as=Table" in (self.headers.get("Accept") or "")
        if method == "GET" and not name:
            if query.get("watch") in ("true", "1"):
                self._watch(resource, namespace, query)
                return
            items, rv = store.select(resource, namespace, query.get("labelSelector", ""),
                                   query.get("fieldSelector", ""))
            if wants_table:
                self._send(200, table(resource, items, rv))
                return
            self._send(200, {"kind": f"{resource.kind}List", "apiVersion": resource.api_version,
                             "metadata": {"resourceVersion": str(rv)}, "items": items})
            return
        if method == "GET":
            obj = store.get(resource, namespace, name)
            if sub == "scale":
                self._send(200, _scale(obj))
            elif wants_table:
                self._send(200, table(resource, [obj], store.rv))
            else:
                self._send(200, obj)
            return
        if method == "POST":
            body = self._body() or {}
            if resource.namespaced:
                body.setdefault("metadata", {})["namespace"] = namespace
            if query.get("dryRun"):
                self._send(201, body)
                return
            self._send(201, store.create(resource, body))
            return
        if method == "PUT":
            body = self._body() or {}
            if sub == "scale":
                replicas = int((body.get("spec") or {}).get("replicas", 0))
                obj = store.update(resource, namespace, name, lambda o: o.setdefault("spec", {}).update(
                    replicas=replicas))
                self._send(200, _scale(obj))
                return
            meta = body.setdefault("metadata", {})
            meta.setdefault("name", name)
            if resource.namespaced:
                meta["namespace"] = namespace
            expect = meta.get("resourceVersion")
            self._send(200, store.replace(resource, body, subresource=sub, expect_rv=expect))
            return
        if method == "PATCH":
            body = self._body()
            content_type = self.headers.get("Content-Type", "")
            with store.lock:
                current = store.get(resource, namespace, name)
                if sub == "scale":
                    scale = apply_patch(_scale(current), body, content_type.replace("strategic-", ""), resource)
                    current.setdefault("spec", {})["replicas"] = int((scale.get("spec") or {}).get("replicas", 0))
                    obj = store.replace(resource, current)
                    self._send(200, _scale(obj))
                    return
                patched = apply_patch(current, body, content_type, resource)
                patched.setdefault("metadata", {})["name"] = name
                if resource.namespaced:
                    patched["metadata"]["namespace"] = namespace
                expect = (body or {}).get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
                result = store.replace(resource, patched, subresource=sub, expect_rv=expect)
            self._send(200, result)
            return
        if method == "DELETE":
            if not name:
                items, _ = store.select(resource, namespace, query.get("labelSelector", ""),
                                      query.get("fieldSelector", ""))
                for item in items:
                    store.delete(resource, item["metadata"].get("namespace", ""), item["metadata"]["name"])
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}})
                return
            self._send(200, store.delete(resource, namespace, name))
            return
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    # -- exec (websocket, channel protocol v4/v5) ---------------------------------------------------------
    def _exec(self, runtime: Any, namespace: str, name: str) -> None:
        import base64
        import hashlib

        url = urlsplit(self.path)
        params = parse_qs(url.query)
        command = params.get("command", [])
        container = (params.get("container") or [""])[-1]
        wants_stdin = (params.get("stdin") or ["false"])[-1] in ("true", "1")
        key = self.headers.get("Sec-WebSocket-Key")
        if not key or "websocket" not in (self.headers.get("Upgrade") or "").lower():
            raise ApiError(400, "BadRequest", "exec needs a websocket upgrade")
        offered = [p.strip() for p in (self.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        protocol = next((p for p in ("v5.channel.k8s.io", "v4.channel.k8s.io") if p in offered), "v4.channel.k8s.io")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        stdin = b""
        while wants_stdin:
            opcode, payload = self._read_frame()
            if opcode == 8 or opcode is None:
                break
            if payload[:1] == b"\x00":
                stdin += payload[1:]
            elif payload[:2] == b"\xff\x00":  # v5: stdin closed
                break
        out, err, code = runtime.exec(namespace, name, container, command, stdin)
        for channel, data in ((1, out), (2, err)):
            if data:
                self._write_frame(bytes([channel]) + data)
        status = {"metadata": {}, "status": "Success"} if code == 0 else {
            "metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        self._write_frame(b"\x03" + json.dumps(status).encode())
        self._write_frame(b"\x03\xe8", opcode=8)
        self.close_connection = True

    def _read_frame(self) -> tuple[int | None, bytes]:
        head = self.rfile.read(2)
        if len(head) < 2:
            return None, b""
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(self.rfile.read(2), "big")
        elif length == 127:
            length = int.from_bytes(self.rfile.read(8), "big")
        mask = self.rfile.read(4) if head[1] & 0x80 else b""
        payload = bytearray(self.rfile.read(length))
        if mask:
            for index in range(len(payload)):
                payload[index] ^= mask[index % 4]
        return opcode, bytes(payload)

    def _write_frame(self, payload: bytes, opcode: int = 2) -> None:
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([len(payload)])
        elif len(payload) < 65536:
            head += bytes([126]) + len(payload).to_bytes(2, "big")
        else:
            head += bytes([127]) + len(payload).to_bytes(8, "big")
        self.wfile.write(head + payload)
        self.wfile.flush()

    # -- watch --------------------------------------------------------------------------------------
    def _watch(self, resource: Resource, namespace: str, query: dict[str, str]) -> None:
        store = self.server.store
        from mediaops.sim.store import parse_field_selector, parse_selector

        labels, fields = parse_selector(query.get("labelSelector", "")), parse_field_selector(
            query.get("fieldSelector", ""))
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        since = query.get("resourceVersion")
        with store.lock:
            if since in (None, "", "0"):
                # No version: the current objects as ADDED, then changes (as a real API server does).
                items, rv = store.select(resource, namespace)
                backlog = [("ADDED", o) for o in items if labels(o) and fields(o)]
                position = rv
            else:
                try:
                    position = int(since)
                    store.events_since(position)
                except ApiError as exc:
                    self._start_stream()
                    self._chunk({"type": "ERROR", "object": exc.status()})
                    self._end_stream()
                    return
                except ValueError:
                    raise ApiError(400, "BadRequest", f"invalid resourceVersion {since!r}") from None
                backlog = []
        self._start_stream()
        drop = self.server.faults.drop_watches
        try:
            for kind, obj in backlog:
                self._chunk({"type": kind, "object": obj})
                if drop:
                    return self._end_stream()
            if query.get("sendInitialEvents") == "true":  # WatchList, as kubectl 1.3x uses it
                self._chunk({"type": "BOOKMARK", "object": {
                    "kind": resource.kind, "apiVersion": resource.api_version,
                    "metadata": {"resourceVersion": str(position),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}})
            while not self.server.stopping.is_set():
                with store.lock:
                    events = [e for e in store.events_since(position)]
                    if not events:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        store.changed.wait(min(remaining, 1.0))
                        continue
                for event in events:
                    position = event.rv
                    if event.resource != resource:
                        continue
                    obj = event.obj
                    if namespace and obj["metadata"].get("namespace") != namespace:
                        continue
                    if not (labels(obj) and fields(obj)):
                        continue
                    self._chunk({"type": event.type, "object": obj})
                    if drop or self.server.faults.drop_watches:
                        return self._end_stream()
                if time.monotonic() >= deadline:
                    break
            self._end_stream()
        except ApiError as exc:
            self._chunk({"type": "ERROR", "object": exc.status()})
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def _scale(obj: dict[str, Any]) -> dict[str, Any]:
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                          "creationTimestamp") if k in obj["metadata"]},
            "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 0))},
            "status": {"replicas": int((obj.get("status") or {}).get("replicas", 0)),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}


__all__ = ["ApiServer", "Faults", "field_value"]
