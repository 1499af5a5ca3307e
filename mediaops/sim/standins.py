"""What the checks and the maintenance bracket talk to besides the API server, standing in as the rehearsal's:

- a DNS server (UDP and TCP) that resolves the targets of the ExternalName Services in the store;
- the kubelet's stats summary, which the API server serves through its node proxy;
- an Alertmanager API v2 for silences.

Each rule follows the upstream source named beside it. Everything listens on 127.0.0.1 and reaches nothing else.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import struct
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    import dns.name


HOST = "127.0.0.1"

# -- quantities -----------------------------------------------------------------------------------------------
# k8s.io/apimachinery pkg/api/resource/quantity.go (ParseQuantity; the grammar in the Quantity comment:
# <signedNumber><suffix>, suffix binarySI Ki..Ei | decimalExponent e<n>/E<n> | decimalSI) and suffix.go (the
# decimal suffixes n, u, m, "", k, M, G, T, P, E). Value() rounds up to a whole number.
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> int:
    """A Kubernetes quantity (``5Gi``, ``500Mi``, ``1G``, ``1e3``) as a whole number, rounded up as Value() does."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        # quantity.go ErrFormatWrong
        raise ValueError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    number, suffix = Decimal(match[1]), match[2] or ""
    if suffix in _BINARY:
        value = number * 1024 ** _BINARY[suffix]
    elif suffix[:1] in ("e", "E") and len(suffix) > 1:
        value = number.scaleb(int(suffix[1:]))
    else:
        value = number.scaleb(_DECIMAL[suffix])
    return int(value.to_integral_value(rounding=ROUND_CEILING))


# -- DNS ------------------------------------------------------------------------------------------------------
class DnsServer:
    """An authoritative DNS server on 127.0.0.1 (UDP, and TCP on the same port) for the names ``known`` gives.

    RFC 1035 §4.1.1: a name it does not know, or one ``blocked`` gives, is RCODE 3 (Name Error, NXDOMAIN); a
    known name answers A 127.0.0.1 with TTL 30; another type of a known name is NOERROR with no answer (RFC 2308
    §2.2, NODATA). §4.2.2: over TCP each message is preceded by its length in two bytes. The wire format is
    dnspython's.
    """

    TTL = 30

    def __init__(self, known: Callable[[], Iterable[str]], blocked: Callable[[], Iterable[str]]) -> None:
        self.known = known
        self.blocked = blocked
        self.port = 0
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}" if self.port else ""

    def start(self) -> None:
        for _ in range(50):  # a free UDP port whose TCP twin is free too
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((HOST, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((HOST, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            break
        else:
            raise OSError("no free port on 127.0.0.1 for both UDP and TCP")
        tcp.listen(16)
        self._udp, self._tcp, self.port = udp, tcp, port
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="sim-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._wake is None:
            return
        try:
            self._wake[1].send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._wake[1].close()
        self._wake = None

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None and self._wake is not None
        udp, tcp, wake = self._udp, self._tcp, self._wake[0]
        with selectors.DefaultSelector() as selector:
            for sock in (udp, tcp, wake):
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        if key.fileobj is wake:
                            return
                        if key.fileobj is udp:
                            try:
                                wire, peer = udp.recvfrom(65535)
                            except OSError:
                                continue
                            reply = self.answer(wire)
                            if reply is not None:
                                try:
                                    udp.sendto(reply, peer)
                                except OSError:
                                    pass
                        else:
                            try:
                                connection, _ = tcp.accept()
                            except OSError:
                                continue
                            threading.Thread(target=self._stream, args=(connection,), name="sim-dns-tcp",
                                             daemon=True).start()
            finally:
                for sock in (udp, tcp, wake):
                    sock.close()

    def _stream(self, connection: socket.socket) -> None:
        """RFC 1035 §4.2.2: queries over TCP, each with a two-byte length, until the client closes."""

        def exactly(count: int) -> bytes | None:
            data = b""
            while len(data) < count:
                chunk = connection.recv(count - len(data))
                if not chunk:
                    return None
                data += chunk
            return data

        with connection:
            connection.settimeout(5)
            try:
                while (head := exactly(2)) is not None:
                    wire = exactly(struct.unpack("!H", head)[0])
                    reply = self.answer(wire) if wire is not None else None
                    if reply is None:
                        return
                    connection.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def answer(self, wire: bytes) -> bytes | None:
        """The response to one message; None for one that is not a query (a response sent to us)."""
        # dnspython is imported by the first query: a rehearsal most tests start never gets one, and importing it
        # costs a fifth of the rehearsal's start-up.
        import dns.exception
        import dns.flags
        import dns.message
        import dns.opcode
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            if len(wire) < 12:
                return None
            # RFC 1035 §4.1.1: RCODE 1, Format error, with the query's ID and no sections.
            return wire[:2] + struct.pack("!HHHHH", 0x8000 | dns.rcode.FORMERR, 0, 0, 0, 0)
        if query.flags & dns.flags.QR:
            return None
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response.to_wire()
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        response.flags |= dns.flags.AA
        name = question.name
        if name in _names(self.blocked()) or name not in _names(self.known()):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_text(name, self.TTL, dns.rdataclass.IN, dns.rdatatype.A, HOST))
        return response.to_wire()


def host_name(text: str) -> str:
    """A host name as the DNS server compares it (case-insensitive, absolute); ValueError when it is none."""
    import dns.exception
    import dns.name

    try:
        name = dns.name.from_text(text.strip())
    except dns.exception.DNSException as exc:
        raise ValueError(f"{text!r} is not a host name: {exc}") from None
    if name == dns.name.root:
        raise ValueError("the root is not a host name")
    return name.to_text(omit_final_dot=True).lower()


def _names(texts: Iterable[str]) -> set[dns.name.Name]:
    import dns.exception
    import dns.name

    names = set()
    for text in texts:
        try:
            names.add(dns.name.from_text(str(text)))
        except dns.exception.DNSException:
            continue
    return names


# -- the kubelet's stats summary --------------------------------------------------------------------------------
# ext4's default bytes-per-inode (mke2fs.conf inode_ratio), for a volume's inode counts.
INODE_RATIO = 16384


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time: RFC 3339, seconds


def stats_summary(sim: Any, node: str, *, only_cpu_and_memory: bool = False) -> dict[str, Any]:
    """The kubelet's ``/stats/summary`` of ``node``: k8s.io/kubelet pkg/apis/stats/v1alpha1/types.go (Summary,
    NodeStats, PodStats, VolumeStats with pvcRef, FsStats), for the running pods on the node that mount
    PersistentVolumeClaims.

    kubernetes pkg/kubelet/server/stats/volume_stat_calculator.go (calcAndStoreStats, parsePodVolumeStats): a
    volume from a claim carries ``pvcRef`` {name, namespace of the pod}, and every FsStats field is set (time,
    availableBytes, capacityBytes, usedBytes, inodes, inodesFree, inodesUsed). ``only_cpu_and_memory``
    (pkg/kubelet/server/stats/handler.go) leaves the volumes out.
    """
    from mediaops.cluster.kinds import kind

    stamp = _stamp()
    found = sim.store.get(kind("Node"), "", node)
    usage = dict(sim.faults.get("pvc-usage") or {})
    pods = []
    for pod in sim.store.all_of(kind("Pod")):
        spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
        if spec.get("nodeName") != node or status.get("phase") != "Running":
            continue
        claims = [(str(v.get("name")), str(v["persistentVolumeClaim"].get("claimName")))
                  for v in spec.get("volumes") or []
                  if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)]
        if not claims:
            continue
        started = status.get("startTime") or meta.get("creationTimestamp") or stamp
        entry: dict[str, Any] = {
            "podRef": {"name": meta["name"], "namespace": meta.get("namespace", ""), "uid": meta.get("uid", "")},
            "startTime": started,
            "containers": [{"name": c.get("name", ""), "startTime": started} for c in spec.get("containers") or []],
        }
        if not only_cpu_and_memory:
            entry["volume"] = [_volume_stats(sim, meta.get("namespace", ""), volume, claim, usage, stamp)
                               for volume, claim in claims]
        pods.append(entry)
    return {"node": {"nodeName": node, "startTime": found["metadata"].get("creationTimestamp", stamp)},
            "pods": pods}


def claim_capacity(claim: dict[str, Any] | None) -> int:
    """The bytes of a claim: its bound capacity, else its requested storage (0 when it says neither)."""
    if claim is None:
        return 0
    size = ((claim.get("status") or {}).get("capacity") or {}).get("storage") or \
        (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return parse_quantity(size) if size is not None else 0
    except ValueError:
        return 0


def _volume_stats(sim: Any, namespace: str, volume: str, claim: str, usage: dict[str, float],
                  stamp: str) -> dict[str, Any]:
    from mediaops.cluster.kinds import kind

    capacity = claim_capacity(sim.store.find(kind("PersistentVolumeClaim"), namespace, claim))
    files = list((sim.volumes.get(("pvc", namespace, claim)) or {}).items())
    used = sum(len(data) for _, data in files)
    percent = usage.get(f"{namespace}/{claim}")
    if percent is not None:  # the pvc-usage fault
        used = int(capacity * percent / 100)
    directories = {path.rsplit("/", 1)[0] for path, _ in files if "/" in path}
    inodes = max(capacity // INODE_RATIO, 1)
    inodes_used = min(len(files) + len(directories) + 1, inodes)  # + the volume's root directory
    return {"time": stamp, "availableBytes": max(capacity - used, 0), "capacityBytes": capacity,
            "usedBytes": used, "inodesFree": inodes - inodes_used, "inodes": inodes, "inodesUsed": inodes_used,
            "name": volume, "pvcRef": {"name": claim, "namespace": namespace}}


def kubelet(sim: Any, node: str, path: str, method: str, query: dict[str, str]) -> tuple[int, str, bytes]:
    """What the kubelet of ``node`` answers at ``path`` (kubernetes pkg/kubelet/server/server.go: the stats
    routes; any other path is the Go mux's "404 page not found")."""
    if path.strip("/") == "stats/summary":
        if method != "GET":
            return 405, "text/plain; charset=utf-8", b"405: Method Not Allowed"
        summary = stats_summary(sim, node, only_cpu_and_memory=query.get("only_cpu_and_memory") == "true")
        return 200, "application/json", json.dumps(summary, indent=2).encode()
    if path.strip("/") == "healthz":
        return 200, "text/plain; charset=utf-8", b"ok"
    return 404, "text/plain; charset=utf-8", b"404 page not found\n"


# -- Alertmanager API v2 ------------------------------------------------------------------------------------
AM_VERSION = "0.34.0"
AM_CONFIG = ("global:\n  resolve_timeout: 5m\nroute:\n  receiver: \"null\"\n  group_by:\n  - alertname\n"
             "receivers:\n- name: \"null\"\ntemplates: []\n")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2})?(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$")
_STATE_ORDER = {"active": 1, "pending": 2, "expired": 3}
# silencepb Matcher types from the API's isEqual/isRegex (api/v2/compat.go PostableSilenceToProto).
_TYPES = {(True, False): "=", (False, False): "!=", (True, True): "=~", (False, True): "!~"}


class ApiAnswer(Exception):
    """An answer other than 200: its status and its JSON payload (None: no body)."""

    def __init__(self, code: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(code, payload)
        self.code, self.payload, self.headers = code, payload, headers or {}


def _swagger(code: int, message: str) -> ApiAnswer:
    """A go-openapi validation error (go-openapi/errors api.go ServeError: codes of 600 and above are sent as 422,
    the body is {code, message})."""
    return ApiAnswer(422 if code >= 600 else code, {"code": code, "message": message})


REQUIRED, INVALID_TYPE, MIN_ITEMS = 602, 601, 612  # go-openapi/errors schema.go (RequiredFailCode, ...)


def _rfc3339_millis(moment: datetime) -> str:
    """go-openapi/strfmt DateTime.MarshalJSON: RFC 3339 with milliseconds, here in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(value: Any, field: str) -> datetime:
    """go-openapi/strfmt ParseDateTime: RFC 3339 (fractions optional, seconds optional, no zone = UTC)."""
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        message = f"parsing time {json.dumps(value)} as date-time: {field} is not RFC 3339"
        raise ApiAnswer(400, {"code": 400, "message": f"parsing silence body from \"\" failed, because {message}"})
    zone = match[5] or "+00:00"
    zone = "+00:00" if zone in ("Z", "z") else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
    fraction = (match[4] or "")[:7]
    return datetime.fromisoformat(f"{match[1]}T{match[2]}{match[3] or ':00'}{fraction}{zone}").astimezone(UTC)


def _is_valid_label_name(name: str) -> bool:
    """matcher/compat/parse.go IsValidLabelName in the default (UTF-8) mode: any non-empty valid UTF-8."""
    return bool(name) and not any(0xD800 <= ord(c) <= 0xDFFF for c in name)


def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


class LoopbackHTTP:
    """An HTTP server on 127.0.0.1 for a stand-in: ``handle(method, path, headers, body)`` answers (code, headers,
    body). Its loop is serve_forever without the poll: a stop wakes it at once, so a rehearsal stops in no extra
    time, and connections to the port are then refused (as to a Service whose pod is down)."""

    def __init__(self, name: str, handle: Callable[[str, str, dict[str, str], bytes],
                                                   tuple[int, dict[str, str], bytes]]) -> None:
        self.name = name
        self.handle = handle
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}" if self.port else ""

    def start(self) -> None:
        """Serve: on a free port the first time, on the same port when started again."""
        if self._server is not None:
            return
        handle = self.handle

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                code, headers, data = handle(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, args=(self._server, self._wake[0]),
                                        name=f"sim-{self.name}", daemon=True)
        self._thread.start()

    @staticmethod
    def _serve(server: ThreadingHTTPServer, wake: socket.socket) -> None:
        server.timeout = None
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while all(key.fileobj is not wake for key, _ in selector.select()):
                server.handle_request()  # a connection is waiting: accepted at once, served in its own thread
        wake.close()

    def stop(self) -> None:
        if self._server is None or self._wake is None:
            return
        try:
            self._wake[1].send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._wake[1].close()
        self._server.server_close()
        self._server, self._wake = None, None


class Alertmanager:
    """The silences of an Alertmanager, through its API v2 (prometheus/alertmanager api/v2/openapi.yaml)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.started = self.clock()
        self._silences: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.http = LoopbackHTTP("alertmanager", lambda method, path, headers, body: self.handle(method, path, body))

    # -- the silences (silence/silence.go) -------------------------------------------------------------------
    @staticmethod
    def _state(silence: dict[str, Any], now: datetime) -> str:
        """silence/silence.go getState: pending before startsAt, expired after endsAt, else active."""
        if now < silence["startsAt"]:
            return "pending"
        if now > silence["endsAt"]:
            return "expired"
        return "active"

    @staticmethod
    def _current_state(silence: dict[str, Any], now: datetime) -> str:
        """silence/state.go CurrentState, which the API shows: active only while now is before endsAt."""
        if now < silence["startsAt"]:
            return "pending"
        if now < silence["endsAt"]:
            return "active"
        return "expired"

    def gettable(self, silence: dict[str, Any], now: datetime) -> dict[str, Any]:
        """api/v2/compat.go GettableSilenceFromProto."""
        out: dict[str, Any] = {
            "id": silence["id"], "status": {"state": self._current_state(silence, now)},
            "updatedAt": _rfc3339_millis(silence["updatedAt"]),
            "matchers": [{"name": m["name"], "value": m["value"], "isRegex": m["type"] in ("=~", "!~"),
                          "isEqual": m["type"] in ("=", "=~")} for m in silence["matchers"]],
            "startsAt": _rfc3339_millis(silence["startsAt"]), "endsAt": _rfc3339_millis(silence["endsAt"]),
            "createdBy": silence["createdBy"], "comment": silence["comment"]}
        if silence["annotations"]:
            out["annotations"] = dict(silence["annotations"])
        return out

    def silences(self, states: Iterable[str] = ("active", "pending", "expired"),
                 filters: list[tuple[str, str, str]] | None = None) -> list[dict[str, Any]]:
        """The silences as GET /api/v2/silences lists them (api/v2/api.go getSilencesHandler: QState by getState,
        CheckSilenceMatchesFilterLabels, SortSilences: active by endsAt, pending by startsAt, expired latest
        first)."""
        now = self.clock()
        wanted = set(states)
        with self._lock:
            chosen = [s for s in self._silences.values() if self._state(s, now) in wanted
                      and all(any((m["name"], m["type"], m["value"]) == f for m in s["matchers"])
                              for f in filters or [])]
            listed = [self.gettable(s, now) for s in chosen]
        by_id = {s["id"]: s for s in chosen}

        def order(item: dict[str, Any]) -> tuple[int, float]:
            state, silence = item["status"]["state"], by_id[item["id"]]
            if state == "active":
                return 1, silence["endsAt"].timestamp()
            if state == "pending":
                return 2, silence["startsAt"].timestamp()
            return 3, -silence["endsAt"].timestamp()

        return sorted(listed, key=order)

    def get(self, silence_id: str) -> dict[str, Any] | None:
        with self._lock:
            silence = self._silences.get(silence_id)
            return self.gettable(silence, self.clock()) if silence is not None else None

    @staticmethod
    def _validate(silence: dict[str, Any]) -> str | None:
        """silence/silence.go validateSilence (with validateMatcher and matchesEmpty): the error, or None."""
        if not silence["matchers"]:
            return "matcher set 0 is empty"
        all_match_empty = True
        for index, matcher in enumerate(silence["matchers"]):
            if not _is_valid_label_name(matcher["name"]):
                return f"invalid label matcher {index} in set 0: invalid label name {json.dumps(matcher['name'])}"
            if matcher["type"] in ("=~", "!~"):
                compiled = _regex(matcher["value"])
                if compiled is None:
                    return (f"invalid label matcher {index} in set 0: invalid regular expression "
                            f"{json.dumps(matcher['value'])}")
                empty = matcher["type"] == "=~" and compiled.search("") is not None  # regexp.MatchString: unanchored
            else:
                empty = matcher["type"] == "=" and matcher["value"] == ""
            all_match_empty = all_match_empty and empty
        if all_match_empty:
            return "matcher set 0: at least one matcher must not match the empty string"
        if silence["endsAt"] < silence["startsAt"]:
            return "end time must not be before start time"
        return None

    def _can_update(self, previous: dict[str, Any], silence: dict[str, Any], now: datetime) -> bool:
        """silence/silence.go canUpdate: same matchers; an active silence keeps its start (to the second) and may
        not end in the past; a pending one may not start in the past; an expired one is never updated."""
        if previous["matchers"] != silence["matchers"]:
            return False
        state = self._state(previous, now)
        if state == "active":
            return int(previous["startsAt"].timestamp()) == int(silence["startsAt"].timestamp()) \
                and not silence["endsAt"] < now
        if state == "pending":
            return not silence["startsAt"] < now
        return False

    def _expire(self, silence_id: str, now: datetime) -> None:
        """silence/silence.go expire: an active silence ends now; a pending one starts and ends now."""
        silence = dict(self._silences[silence_id])
        state = self._state(silence, now)
        if state == "expired":
            return
        if state == "pending":
            silence["startsAt"] = now
        silence["endsAt"] = now
        silence["updatedAt"] = now
        self._silences[silence_id] = silence

    def expire(self, silence_id: str) -> bool:
        """DELETE /api/v2/silence/{id} (api/v2/api.go deleteSilenceHandler → Silences.Expire); False: not found."""
        with self._lock:
            if silence_id not in self._silences:
                return False
            self._expire(silence_id, self.clock())
            return True

    def post(self, body: dict[str, Any]) -> str:
        """POST /api/v2/silences (api/v2/api.go postSilencesHandler → silence/silence.go Set): the silence's ID.

        ApiAnswer 400 for a silence that does not start before it ends, ends in the past or fails
        validateSilence; 404 for an ``id`` that is not there.
        """
        silence = _postable(body)
        now = self.clock()
        if not silence["startsAt"] < silence["endsAt"]:
            raise ApiAnswer(400, "Failed to create silence: start time must be before end time")
        if silence["endsAt"] < now:
            raise ApiAnswer(400, "Failed to create silence: end time can't be in the past")
        problem = self._validate(silence)
        if problem:
            raise ApiAnswer(400, f"invalid silence: {problem}")
        with self._lock:
            previous = self._silences.get(silence["id"]) if silence["id"] else None
            if silence["id"] and previous is None:
                raise ApiAnswer(404, "silence not found")
            if previous is not None and self._can_update(previous, silence, now):
                self._silences[silence["id"]] = {**silence, "updatedAt": now}
                return str(silence["id"])
            new_id = str(uuid.uuid4())
            if silence["startsAt"] < now:
                silence["startsAt"] = now
            if previous is not None and self._state(previous, now) != "expired":
                # the old one is expired, leaving a history of the silence before the change
                self._expire(previous["id"], now)
            self._silences[new_id] = {**silence, "id": new_id, "updatedAt": now}
            return new_id

    def status(self) -> dict[str, Any]:
        """GET /api/v2/status (api/v2/api.go getStatusHandler, clustering disabled)."""
        return {"cluster": {"status": "disabled", "peers": []},
                "versionInfo": {"version": AM_VERSION, "revision": "mediaops-rehearsal", "branch": "HEAD",
                                "buildUser": "mediaops", "buildDate": "", "goVersion": "go1.25"},
                "config": {"original": AM_CONFIG}, "uptime": _rfc3339_millis(self.started)}

    # -- HTTP --------------------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One request: (status, headers, body)."""
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            payload = self._route(method, path, query, body)
            code, headers = 200, {}
        except ApiAnswer as answer:
            code, payload, headers = answer.code, answer.payload, answer.headers
        if isinstance(payload, bytes):
            return code, {"Content-Type": "text/plain; charset=utf-8", **headers}, payload
        if payload is None:
            return code, headers, b""
        return code, {"Content-Type": "application/json", **headers}, (json.dumps(payload) + "\n").encode()

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        if path in ("/-/healthy", "/-/ready"):
            return b"OK"
        routes: dict[str, tuple[str, ...]] = {"/api/v2/status": ("GET",), "/api/v2/silences": ("GET", "POST")}
        allowed = routes.get(path)
        silence_id = ""
        if allowed is None and path.startswith("/api/v2/silence/") and path.count("/") == 4:
            allowed, silence_id = ("DELETE", "GET"), path.rsplit("/", 1)[1]
        if allowed is None:
            if path.startswith("/api/v2/"):
                raise _swagger(404, f"path {path} was not found")
            raise ApiAnswer(404, b"404 page not found\n")
        if method not in allowed:  # go-openapi/errors MethodNotAllowed
            raise ApiAnswer(405, {"code": 405, "message": f"method {method} is not allowed, but "
                                                          f"[{','.join(allowed)}] are"},
                            {"Allow": ",".join(allowed)})
        if path == "/api/v2/status":
            return self.status()
        if silence_id:
            if not _UUID.match(silence_id):  # the silenceID path parameter has format: uuid
                raise _swagger(INVALID_TYPE, f"silenceID in path must be of type uuid: {json.dumps(silence_id)}")
            if method == "DELETE":
                if not self.expire(silence_id):
                    raise ApiAnswer(404)
                return None
            found = self.get(silence_id)
            if found is None:
                raise ApiAnswer(404)
            return found
        if method == "POST":
            return {"silenceID": self.post(_body(body))}
        return self.silences(_states(query), [_filter(f) for f in query.get("filter", [])])

    def start(self) -> None:
        self.started = self.clock()
        self.http.start()

    @property
    def url(self) -> str:
        return self.http.url

    def stop(self) -> None:
        self.http.stop()


def _body(raw: bytes) -> dict[str, Any]:
    """The postableSilence body (api/v2/restapi/operations/silence/post_silences_parameters.go BindRequest)."""
    if not raw.strip():
        raise _swagger(REQUIRED, "silence in body is required")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiAnswer(400, {"code": 400, "message": f"parsing silence body from \"\" failed, because {exc}"}) \
            from None
    if not isinstance(body, dict):
        raise ApiAnswer(400, {"code": 400, "message": "parsing silence body from \"\" failed, because json: cannot "
                                                      "unmarshal into Go value of type models.PostableSilence"})
    return body


def _wrong_type(field: str, wanted: str) -> ApiAnswer:
    return ApiAnswer(400, {"code": 400, "message": f"parsing silence body from \"\" failed, because json: cannot "
                                                   f"unmarshal into Go struct field {field} of type {wanted}"})


def _postable(body: dict[str, Any]) -> dict[str, Any]:
    """api/v2/models/silence.go and matcher.go Validate (required fields, matchers minItems 1; the first error is
    answered, 422), then api/v2/compat.go PostableSilenceToProto (isEqual defaults to true, isRegex to false)."""
    for field in ("id", "comment", "createdBy"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise _wrong_type(f"postableSilence.{field}", "string")
    for field in ("comment", "createdBy", "endsAt"):
        if body.get(field) is None:
            raise _swagger(REQUIRED, f"{field} in body is required")
    ends = _parse_time(body["endsAt"], "endsAt")
    matchers = body.get("matchers")
    if matchers is None:
        raise _swagger(REQUIRED, "matchers in body is required")
    if not isinstance(matchers, list):
        raise _wrong_type("silence.matchers", "models.Matchers")
    if not matchers:
        raise _swagger(MIN_ITEMS, "matchers in body should have at least 1 items")
    parsed = []
    for index, matcher in enumerate(matchers):
        if not isinstance(matcher, dict):
            raise _wrong_type("silence.matchers", "models.Matcher")
        for field in ("isRegex", "name", "value"):
            if matcher.get(field) is None:
                raise _swagger(REQUIRED, f"matchers.{index}.{field} in body is required")
        for field, wanted in (("name", str), ("value", str), ("isRegex", bool), ("isEqual", bool)):
            if matcher.get(field) is not None and not isinstance(matcher[field], wanted):
                raise _wrong_type(f"matcher.{field}", wanted.__name__)
        equal = matcher.get("isEqual", True) is not False
        parsed.append({"name": matcher["name"], "value": matcher["value"],
                       "type": _TYPES[(equal, bool(matcher["isRegex"]))]})
    if body.get("startsAt") is None:
        raise _swagger(REQUIRED, "startsAt in body is required")
    starts = _parse_time(body["startsAt"], "startsAt")
    annotations = body.get("annotations") or {}
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        raise _wrong_type("silence.annotations", "models.LabelSet")
    return {"id": body.get("id") or "", "matchers": parsed, "startsAt": starts, "endsAt": ends,
            "createdBy": body["createdBy"], "comment": body["comment"], "annotations": dict(annotations)}


def _states(query: dict[str, list[str]]) -> list[str]:
    """The active, expired and pending query parameters (booleans, default true) of GET /api/v2/silences."""
    states = []
    for state in ("active", "expired", "pending"):
        value = (query.get(state) or ["true"])[-1].lower()
        if value not in ("true", "false", "1", "0", "t", "f"):  # go-openapi swag.ConvertBool
            raise _swagger(INVALID_TYPE, f"{state} in query must be of type bool: {json.dumps(value)}")
        if value in ("true", "1", "t"):
            states.append(state)
    return states


_FILTER = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[^\s=!~"{}]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$', re.DOTALL)


def _filter(text: str) -> tuple[str, str, str]:
    """A ``filter`` matcher (``alertname="Watchdog"``, ``severity=~"warn.*"``): matcher/parse, the default
    parser of api/v2/api.go parseFilter; the value may be quoted."""
    if text.startswith("{") or text.endswith("}"):
        raise ApiAnswer(400, f"unexpected open or close brace: {text}")
    match = _FILTER.match(text)
    if not match:
        raise ApiAnswer(400, f"bad matcher format: {text}")
    name, operator, value = match[1], match[2], match[3]
    try:
        if name.startswith('"'):
            name = json.loads(name)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = json.loads(value)
    except json.JSONDecodeError:
        raise ApiAnswer(400, f"bad matcher format: {text}") from None
    if operator in ("=~", "!~") and _regex(value) is None:
        raise ApiAnswer(400, f"invalid regular expression {json.dumps(value)}")
    return str(name), operator, str(value)

