"""The stand-ins the checks and the maintenance bracket talk to besides the API server, each held to its upstream
contract: a DNS server for the ExternalName Services' targets (RFC 1035 through dnspython), the kubelet's stats
summary through the API server's node proxy (k8s.io/kubelet pkg/apis/stats/v1alpha1/types.go, read with the
real kubectl), and an Alertmanager API v2 for silences (prometheus/alertmanager api/v2/openapi.yaml, api.go,
silence/silence.go)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from mediaops.cluster.kinds import kind
from mediaops.sim.standins import Alertmanager, DnsServer, parse_quantity
from tests.conftest import Cluster, Mediaops
from tests.contracts.conftest import kubectl

KUBECTL = str(Path(sys.executable).parent / "kubectl")
TARGET = "radarr.mediabox.example.test"  # the sample's radarr Service: type ExternalName


def resolver(address: str) -> dns.resolver.Resolver:
    host, port = address.split(":")
    found = dns.resolver.Resolver(configure=False)  # the machine's resolv.conf is never read
    found.nameservers, found.port, found.lifetime = [host], int(port), 3
    return found


# -- DNS ---------------------------------------------------------------------------------------------------------
def test_dns_resolves_external_name_targets_until_the_fault(cluster: Cluster) -> None:
    address = cluster.sim.dns_address
    assert address.startswith("127.0.0.1:") and cluster.sim.summary()["dns"] == address
    ask = resolver(address)
    for tcp in (False, True):
        answer = ask.resolve(TARGET, "A", tcp=tcp)
        assert [r.address for r in answer] == ["127.0.0.1"] and answer.rrset is not None and answer.rrset.ttl == 30
    with pytest.raises(dns.resolver.NoAnswer):  # a known name, another type: NOERROR without data (NODATA)
        ask.resolve(TARGET, "AAAA")
    with pytest.raises(dns.resolver.NXDOMAIN):
        ask.resolve("nothing-by-that-name.example.test", "A")

    assert cluster.sim.set_fault("dns-nxdomain", TARGET.upper()) == f"dns-nxdomain: {TARGET}"
    for tcp in (False, True):
        with pytest.raises(dns.resolver.NXDOMAIN):
            ask.resolve(TARGET, "A", tcp=tcp)
    assert [r.address for r in ask.resolve("sonarr.mediabox.example.test", "A")] == ["127.0.0.1"]
    assert cluster.sim.summary()["faults"]["dns-nxdomain"] == [TARGET]
    assert cluster.sim.set_fault("dns-nxdomain", "off") == "dns-nxdomain: off"
    assert [r.address for r in ask.resolve(TARGET, "A")] == ["127.0.0.1"]
    with pytest.raises(ValueError):
        cluster.sim.set_fault("dns-nxdomain", "on")  # a name is needed


def test_dns_follows_the_services_in_the_store(cluster: Cluster) -> None:
    ask = resolver(cluster.sim.dns_address)
    with pytest.raises(dns.resolver.NXDOMAIN):
        ask.resolve("nas.lan.example.test", "A")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nas", "namespace": "media"},
               "spec": {"type": "ExternalName", "externalName": "nas.lan.example.test"}}
    created = kubectl(cluster, "apply", "-f", "-", input=json.dumps(service))
    assert created.returncode == 0, created.stderr
    assert [r.address for r in ask.resolve("nas.lan.example.test", "A")] == ["127.0.0.1"]
    assert kubectl(cluster, "delete", "service", "nas", "-n", "media").returncode == 0
    with pytest.raises(dns.resolver.NXDOMAIN):
        ask.resolve("nas.lan.example.test", "A")
    # A message that is not a query gets no answer; one that cannot be parsed, FORMERR with its ID.
    server = cluster.sim.dns
    assert server.answer(dns.message.make_response(dns.message.make_query(TARGET, "A")).to_wire()) is None
    garbled = server.answer(b"\x12\x34" + b"\x01\x00\x00\x01" + b"\xff" * 8)
    assert garbled is not None and garbled[:2] == b"\x12\x34" and garbled[3] & 0x0F == dns.rcode.FORMERR


# -- the kubelet's stats summary ---------------------------------------------------------------------------------
def _summary(cluster: Cluster, node: str) -> dict[str, Any]:
    raw = kubectl(cluster, "get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary")
    assert raw.returncode == 0, raw.stderr
    return dict(json.loads(raw.stdout))


def _volume(summary: dict[str, Any], namespace: str, claim: str) -> dict[str, Any]:
    return next(v for p in summary["pods"] for v in p.get("volume", [])
                if v.get("pvcRef") == {"name": claim, "namespace": namespace})


def test_stats_summary_through_the_node_proxy_with_kubectl(cluster: Cluster) -> None:
    sim = cluster.sim
    pod = next(p for p in sim.store.all_of(kind("Pod")) if p["metadata"]["namespace"] == "media"
               and (p.get("status") or {}).get("phase") == "Running"
               and any((v.get("persistentVolumeClaim") or {}).get("claimName") == "tautulli-config"
                       for v in p["spec"].get("volumes") or []))
    node = pod["spec"]["nodeName"]
    claim = sim.store.get(kind("PersistentVolumeClaim"), "media", "tautulli-config")
    requested = claim["spec"]["resources"]["requests"]["storage"]
    capacity = {"1Gi": 1 << 30, "2Gi": 2 << 30, "5Gi": 5 << 30, "10Gi": 10 << 30, "500Mi": 500 << 20}[requested]
    held = sum(len(data) for data in sim.volumes[("pvc", "media", "tautulli-config")].values())
    assert held > 0  # the seeded config.ini

    summary = _summary(cluster, node)
    assert summary["node"]["nodeName"] == node
    entry = next(p for p in summary["pods"] if p["podRef"]["name"] == pod["metadata"]["name"])
    assert entry["podRef"] == {"name": pod["metadata"]["name"], "namespace": "media", "uid": pod["metadata"]["uid"]}
    assert {c["name"] for c in entry["containers"]} == {c["name"] for c in pod["spec"]["containers"]}
    volume = _volume(summary, "media", "tautulli-config")
    assert (volume["usedBytes"], volume["capacityBytes"], volume["availableBytes"]) == \
        (held, capacity, capacity - held)
    assert volume["inodes"] == volume["inodesFree"] + volume["inodesUsed"] and volume["time"].endswith("Z")
    assert all(node == p["spec"]["nodeName"] for p in sim.store.all_of(kind("Pod"))
               if p["metadata"]["name"] in {e["podRef"]["name"] for e in summary["pods"]})

    # More data on the claim counts at once; the fault reports it that full instead.
    sim.volumes[("pvc", "media", "tautulli-config")]["logs/tautulli.log"] = b"x" * 4096
    assert _volume(_summary(cluster, node), "media", "tautulli-config")["usedBytes"] == held + 4096
    assert sim.set_fault("pvc-usage", "media/tautulli-config=92") == "pvc-usage: media/tautulli-config 92%"
    volume = _volume(_summary(cluster, node), "media", "tautulli-config")
    assert (volume["usedBytes"], volume["availableBytes"]) == (int(capacity * 0.92), capacity - int(capacity * 0.92))
    assert sim.set_fault("pvc-usage", "off") == "pvc-usage: off"
    assert _volume(_summary(cluster, node), "media", "tautulli-config")["usedBytes"] == held + 4096
    for wrong in ("media/tautulli-config=101", "media/tautulli-config", "tautulli-config=50", "media/x=many"):
        with pytest.raises(ValueError):
            sim.set_fault("pvc-usage", wrong)

    # The kubelet's other paths, an unknown node, and only_cpu_and_memory.
    other = ("node-arm64-1" if node == "node-amd64-1" else "node-amd64-1")
    assert all(p["podRef"]["name"] != pod["metadata"]["name"] for p in _summary(cluster, other)["pods"])
    unknown = kubectl(cluster, "get", "--raw", "/api/v1/nodes/node-nowhere/proxy/stats/summary")
    assert unknown.returncode == 1 and 'Error from server (NotFound): nodes "node-nowhere" not found' in unknown.stderr
    lean = kubectl(cluster, "get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary?only_cpu_and_memory=true")
    assert all("volume" not in p for p in json.loads(lean.stdout)["pods"])
    missing = kubectl(cluster, "get", "--raw", f"/api/v1/nodes/{node}/proxy/no-such-path")
    assert missing.returncode == 1


def test_quantities_parse_as_kubernetes_does() -> None:
    assert parse_quantity("5Gi") == 5 * 1024**3
    assert parse_quantity("500Mi") == 500 * 1024**2
    assert parse_quantity("1G") == 10**9
    assert parse_quantity("1.5Gi") == 3 * 1024**3 // 2
    assert parse_quantity("1e3") == parse_quantity("1k") == 1000
    assert parse_quantity("1E") == 10**18  # decimalSI exa, not an exponent
    assert parse_quantity("100m") == 1  # Value() rounds up
    assert parse_quantity("2048") == 2048
    for wrong in ("5GB", "Gi", "5 Gi", "1K", ""):
        with pytest.raises(ValueError):
            parse_quantity(wrong)


# -- Alertmanager API v2 -------------------------------------------------------------------------------------------
def am(cluster: Cluster, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the Alertmanager stand-in: status and decoded JSON (None for an empty body)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(cluster.sim.alertmanager_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, code = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, code = exc.read(), exc.code
    return code, json.loads(raw) if raw else None


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def silence(start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    return {"matchers": [{"name": "namespace", "value": "media", "isRegex": False, "isEqual": True}],
            "startsAt": stamp(start), "endsAt": stamp(end), "createdBy": "mediaops",
            "comment": "maintenance: upgrade tautulli", **extra}


def test_alertmanager_silences_create_list_expire(cluster: Cluster) -> None:
    url = cluster.sim.alertmanager_url
    assert url.startswith("http://127.0.0.1:") and cluster.sim.summary()["alertmanager"] == url
    code, status = am(cluster, "GET", "/api/v2/status")
    assert code == 200 and status["cluster"]["status"] == "disabled" and status["versionInfo"]["version"]
    assert set(status) == {"cluster", "versionInfo", "config", "uptime"} and "route:" in status["config"]["original"]

    now = datetime.now(UTC)
    first = silence(now - timedelta(minutes=5), now + timedelta(hours=1))
    code, created = am(cluster, "POST", "/api/v2/silences", first)
    assert code == 200 and set(created) == {"silenceID"}
    active = created["silenceID"]
    code, got = am(cluster, "GET", f"/api/v2/silence/{active}")
    assert code == 200 and got["status"] == {"state": "active"} and got["id"] == active
    assert got["startsAt"] >= stamp(now)  # a start in the past becomes now (silence.go Set)
    assert got["matchers"] == [{"name": "namespace", "value": "media", "isRegex": False, "isEqual": True}]
    assert got["createdBy"] == "mediaops" and got["comment"] == "maintenance: upgrade tautulli"

    later = silence(now + timedelta(hours=2), now + timedelta(hours=3))
    later["matchers"] = [{"name": "alertname", "value": "Watchdog|InfoInhibitor", "isRegex": True}]
    code, created = am(cluster, "POST", "/api/v2/silences", later)
    pending = created["silenceID"]
    assert code == 200 and am(cluster, "GET", f"/api/v2/silence/{pending}")[1]["status"]["state"] == "pending"
    assert am(cluster, "GET", f"/api/v2/silence/{pending}")[1]["matchers"][0]["isEqual"] is True  # the default

    code, listed = am(cluster, "GET", "/api/v2/silences")
    assert code == 200 and [s["id"] for s in listed] == [active, pending]  # active first, then pending
    assert [s["id"] for s in cluster.sim.silences()] == [active, pending]
    assert [s["id"] for s in am(cluster, "GET", "/api/v2/silences?filter=namespace%3D%22media%22")[1]] == [active]
    assert am(cluster, "GET", "/api/v2/silences?filter=namespace%3D~%22media%22")[1] == []  # another match type
    assert [s["id"] for s in am(cluster, "GET", "/api/v2/silences?active=false")[1]] == [pending]

    # Extending an active silence keeps its ID (silence.go canUpdate); other matchers make a new one.
    extended = silence(datetime.fromisoformat(got["startsAt"]), now + timedelta(hours=4), id=active)
    code, updated = am(cluster, "POST", "/api/v2/silences", extended)
    assert (code, updated) == (200, {"silenceID": active})
    assert am(cluster, "GET", f"/api/v2/silence/{active}")[1]["endsAt"] == stamp(now + timedelta(hours=4))

    code, body = am(cluster, "DELETE", f"/api/v2/silence/{active}")
    assert (code, body) == (200, None)
    code, expired = am(cluster, "GET", f"/api/v2/silence/{active}")
    assert expired["status"]["state"] == "expired" and expired["endsAt"] <= stamp(datetime.now(UTC))
    assert am(cluster, "DELETE", f"/api/v2/silence/{active}")[0] == 200  # expiring again is no error
    assert [s["status"]["state"] for s in cluster.sim.silences()] == ["pending", "expired"]
    code, body = am(cluster, "DELETE", f"/api/v2/silence/{pending}")
    pending_now = am(cluster, "GET", f"/api/v2/silence/{pending}")[1]
    assert pending_now["status"]["state"] == "expired" and pending_now["startsAt"] == pending_now["endsAt"]

    # Re-posting an expired silence's ID creates a new silence (canUpdate: an expired one is never updated).
    code, again = am(cluster, "POST", "/api/v2/silences", silence(now, now + timedelta(hours=1), id=active))
    assert code == 200 and again["silenceID"] != active
    assert am(cluster, "GET", "/api/v2/silences?expired=false")[1][0]["id"] == again["silenceID"]


def test_alertmanager_refuses_bad_silences_as_upstream(cluster: Cluster) -> None:
    now = datetime.now(UTC)
    start, end = now + timedelta(minutes=1), now + timedelta(hours=1)
    backwards = am(cluster, "POST", "/api/v2/silences", silence(end, start))
    assert backwards == (400, "Failed to create silence: start time must be before end time")
    past = am(cluster, "POST", "/api/v2/silences", silence(now - timedelta(hours=2), now - timedelta(hours=1)))
    assert past == (400, "Failed to create silence: end time can't be in the past")
    nameless = silence(start, end, matchers=[{"name": "", "value": "media", "isRegex": False, "isEqual": True}])
    assert am(cluster, "POST", "/api/v2/silences", nameless) == \
        (400, 'invalid silence: invalid label matcher 0 in set 0: invalid label name ""')
    empty = silence(start, end, matchers=[{"name": "namespace", "value": "", "isRegex": False}])
    assert am(cluster, "POST", "/api/v2/silences", empty) == \
        (400, "invalid silence: matcher set 0: at least one matcher must not match the empty string")
    bad_regex = silence(start, end, matchers=[{"name": "app", "value": "(", "isRegex": True}])
    assert am(cluster, "POST", "/api/v2/silences", bad_regex)[0] == 400
    # No matchers fails the OpenAPI schema (matchers minItems: 1) before the handler: go-openapi answers 422.
    assert am(cluster, "POST", "/api/v2/silences", silence(start, end, matchers=[])) == \
        (422, {"code": 612, "message": "matchers in body should have at least 1 items"})
    unsigned = silence(start, end)
    del unsigned["createdBy"]
    assert am(cluster, "POST", "/api/v2/silences", unsigned) == \
        (422, {"code": 602, "message": "createdBy in body is required"})
    assert am(cluster, "POST", "/api/v2/silences", b"{not json")[0] == 400
    assert am(cluster, "POST", "/api/v2/silences", silence(start, end, id="no-such-silence")) == \
        (404, "silence not found")
    assert am(cluster, "GET", "/api/v2/silence/6a1e5d4e-0000-4000-8000-000000000000") == (404, None)
    assert am(cluster, "DELETE", "/api/v2/silence/6a1e5d4e-0000-4000-8000-000000000000") == (404, None)
    assert am(cluster, "GET", "/api/v2/silence/not-a-uuid")[0] == 422
    assert am(cluster, "PUT", "/api/v2/silences", {})[0] == 405
    assert am(cluster, "GET", "/api/v2/silences?filter=%7Bbad")[0] == 400
    assert cluster.sim.silences() == []


def test_alertmanager_state_follows_the_clock() -> None:
    """silence/state.go CurrentState: pending before startsAt, active before endsAt, expired from endsAt on."""
    clock = [datetime(2026, 11, 24, 22, 0, tzinfo=UTC)]
    manager = Alertmanager(clock=lambda: clock[0])
    begin, finish = clock[0] + timedelta(minutes=10), clock[0] + timedelta(minutes=70)
    silence_id = manager.post(silence(begin, finish))
    states = []
    for minutes in (0, 10, 69, 70, 71):
        clock[0] = datetime(2026, 11, 24, 22, 0, tzinfo=UTC) + timedelta(minutes=minutes)
        found = manager.get(silence_id)
        assert found is not None
        states.append(found["status"]["state"])
    assert states == ["pending", "active", "active", "expired", "expired"]


# -- start-up and the background process -------------------------------------------------------------------------
def test_the_stand_ins_answer_as_soon_as_they_are_started() -> None:
    """No wait after start(): the servers are listening when it returns (how long it takes is a benchmark's
    business, not a test's)."""
    dns_server, manager = DnsServer(lambda: [TARGET], lambda: []), Alertmanager()
    dns_server.start()
    manager.start()
    try:
        with urllib.request.urlopen(manager.url + "/api/v2/silences", timeout=2) as response:
            assert json.loads(response.read()) == []
        host, port = dns_server.address.split(":")
        reply = dns.query.udp(dns.message.make_query(TARGET, "A"), host, port=int(port), timeout=2)
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer
    finally:
        dns_server.stop()
        manager.stop()


def test_the_background_rehearsal_publishes_the_stand_ins(sim: Mediaops) -> None:
    state = json.loads((sim.state / "sim" / "state.json").read_text())
    assert state["dns"].startswith("127.0.0.1:") and state["alertmanager"].startswith("http://127.0.0.1:")
    switched = sim.run("sim", "fault", "dns-nxdomain", TARGET)
    assert switched.returncode == 0 and switched.stdout.strip() == f"dns-nxdomain: {TARGET}"
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(state["dns"]).resolve(TARGET, "A")
    with urllib.request.urlopen(state["alertmanager"] + "/api/v2/silences", timeout=10) as response:
        assert json.loads(response.read()) == []
