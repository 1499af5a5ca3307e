"""The rehearsal's Overseerr, held to the upstream contract (sct/overseerr overseerr-api.yml, server/index.ts,
server/middleware/auth.ts, server/routes/index.ts, request.ts, settings/notifications.ts; express-openapi-validator
4.13.8's security, metadata and request validation): the API shapes, the key, the pending filter and pages, test
notifications, and the faults that break it."""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import pytest

from mediaops.sim.overseerr import AGENTS, API_KEY, WEBHOOK_PAYLOAD, Overseerr
from tests.conftest import Cluster, Mediaops

Answer = tuple[int, Any]


def call(base: str, method: str, path: str, *, key: str | None = API_KEY, body: Any = None,
         content_type: str | None = "application/json", headers: dict[str, str] | None = None) -> Answer:
    sent = dict(headers or {})
    if key is not None:
        sent["X-Api-Key"] = key
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if content_type:
            sent["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None


def age_days(stamp: str) -> float:
    return (time.time() - datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()) / 86400


# -- the status and the key -------------------------------------------------------------------------------------
def test_status_answers_without_a_key(overseerr: Overseerr) -> None:
    assert overseerr.url.startswith("http://127.0.0.1:")
    status, body = call(overseerr.url, "GET", "/api/v1/status", key=None)
    assert status == 200
    assert body == {"version": "1.34.0", "commitTag": "c617bba6a43af42d421d254defa95b22e8b353d2",
                    "updateAvailable": False, "commitsBehind": 0, "restartRequired": False}
    assert call(overseerr.url, "GET", "/api/v1/status", key="anything")[0] == 200  # security: [] ignores a key


def test_everything_else_needs_the_key(overseerr: Overseerr) -> None:
    for path in ("/api/v1/request", "/api/v1/request/count", "/api/v1/settings/notifications/discord"):
        status, body = call(overseerr.url, "GET", path, key=None)
        assert (status, body) == (401, {"message": "cookie 'connect.sid' required",
                                        "errors": [{"path": path, "message": "cookie 'connect.sid' required"}]})
        # a wrong key passes the validator (it checks presence) and finds no user: isAuthenticated's 403
        assert call(overseerr.url, "GET", path, key="not-the-key") == (
            403, {"status": 403, "error": "You do not have permission to access this endpoint"})
        assert call(overseerr.url, "GET", path, key=None, headers={"Cookie": "connect.sid=s%3Astale"})[0] == 403
        assert call(overseerr.url, "GET", path)[0] == 200
    assert call(overseerr.url, "GET", "/api/v1/nothing-here") == (
        404, {"message": "not found", "errors": [{"path": "/api/v1/nothing-here", "message": "not found"}]})
    assert call(overseerr.url, "DELETE", "/api/v1/request")[1]["message"] == "DELETE method not allowed"


# -- requests -------------------------------------------------------------------------------------------------------
def test_requests_have_the_media_request_shape(overseerr: Overseerr) -> None:
    status, body = call(overseerr.url, "GET", "/api/v1/request")
    assert status == 200
    assert body["pageInfo"] == {"pages": 1, "pageSize": 10, "results": 6, "page": 1}
    results = body["results"]
    assert [r["id"] for r in results] == [6, 5, 4, 3, 2, 1]  # sort=added: request.id DESC
    for request in results:
        assert {"id", "status", "createdAt", "updatedAt", "type", "media", "requestedBy", "modifiedBy",
                "is4k", "seasons"} <= set(request)
        assert request["status"] in (1, 2, 3) and request["type"] in ("movie", "tv")
        assert isinstance(request["media"]["tmdbId"], int) and request["media"]["mediaType"] == request["type"]
        assert request["requestedBy"]["displayName"] and request["requestedBy"]["id"] in (2, 3, 4)
        assert request["createdAt"].endswith("Z") and request["createdAt"] <= request["updatedAt"]
    by_status: dict[int, list[dict[str, Any]]] = {}
    for request in results:
        by_status.setdefault(request["status"], []).append(request)
    assert len(by_status[1]) == 2 and len(by_status[2]) == 3 and len(by_status[3]) == 1
    assert all(r["modifiedBy"]["displayName"] == "ops" for r in by_status[2] + by_status[3])
    assert all(r["modifiedBy"] is None for r in by_status[1])
    assert call(overseerr.url, "GET", "/api/v1/request/count") == (200, {
        "total": 6, "movie": 4, "tv": 2, "pending": 2, "approved": 3, "declined": 1, "processing": 2,
        "available": 1})


def test_pending_filter_and_pages(overseerr: Overseerr) -> None:
    status, body = call(overseerr.url, "GET", "/api/v1/request?filter=pending&take=20&skip=0&sort=added")
    assert status == 200 and body["pageInfo"] == {"pages": 1, "pageSize": 20, "results": 2, "page": 1}
    pending = body["results"]
    assert [r["status"] for r in pending] == [1, 1]
    assert [round(age_days(r["createdAt"])) for r in pending] == [1, 7]  # newest first; the oldest a week old
    first = call(overseerr.url, "GET", "/api/v1/request?filter=pending&take=1")[1]
    second = call(overseerr.url, "GET", "/api/v1/request?filter=pending&take=1&skip=1")[1]
    assert first["pageInfo"] == {"pages": 2, "pageSize": 1, "results": 2, "page": 1}
    assert second["pageInfo"] == {"pages": 2, "pageSize": 1, "results": 2, "page": 2}
    assert [first["results"][0]["id"], second["results"][0]["id"]] == [r["id"] for r in pending]
    assert call(overseerr.url, "GET", "/api/v1/request?take=0")[1]["pageInfo"]["pageSize"] == 10  # 0 is falsy
    approved = call(overseerr.url, "GET", "/api/v1/request?filter=approved")[1]["results"]
    assert {r["status"] for r in approved} == {2} and len(approved) == 3
    available = call(overseerr.url, "GET", "/api/v1/request?filter=available")[1]["results"]
    assert [r["media"]["status"] for r in available] == [5]
    modified = call(overseerr.url, "GET", "/api/v1/request?sort=modified")[1]["results"]
    assert [r["updatedAt"] for r in modified] == sorted((r["updatedAt"] for r in modified), reverse=True)
    assert [r["id"] for r in call(overseerr.url, "GET", "/api/v1/request?requestedBy=2")[1]["results"]] == [6, 4, 1]

    status, body = call(overseerr.url, "GET", "/api/v1/request?filter=declined")  # not in the spec's enum
    assert status == 400 and body["message"] == ("request/query/filter must be equal to one of the allowed values: "
                                                 "all, approved, available, pending, processing, unavailable, failed")
    assert body["errors"][0]["path"] == "/query/filter"
    assert call(overseerr.url, "GET", "/api/v1/request?take=ten")[1]["message"] == "request/query/take must be number"
    assert call(overseerr.url, "GET", "/api/v1/request?page=2")[1]["message"] == "Unknown query parameter 'page'"
    assert call(overseerr.url, "GET", "/api/v1/request?take=")[1]["message"] == \
        "Empty value found for query parameter 'take'"


def test_pending_requests_can_be_set(overseerr: Overseerr) -> None:
    overseerr.set_pending(4)
    pending = call(overseerr.url, "GET", "/api/v1/request?filter=pending")[1]["results"]
    assert len(pending) == 4 and [round(age_days(r["createdAt"])) for r in pending] == [1, 2, 3, 4]
    assert call(overseerr.url, "GET", "/api/v1/request/count")[1]["pending"] == 4
    overseerr.set_pending(0)
    assert call(overseerr.url, "GET", "/api/v1/request?filter=pending")[1]["results"] == []
    overseerr.set_pending(None)
    assert call(overseerr.url, "GET", "/api/v1/request/count")[1]["total"] == 6


# -- notification agents ------------------------------------------------------------------------------------------
def test_agents_answer_their_settings(overseerr: Overseerr) -> None:
    enabled = []
    for agent in AGENTS:
        status, settings = call(overseerr.url, "GET", f"/api/v1/settings/notifications/{agent}")
        assert status == 200 and isinstance(settings["enabled"], bool) and isinstance(settings["options"], dict)
        assert ("types" in settings) == (agent not in ("email", "webpush"))  # settings.ts: no types until saved
        if settings["enabled"]:
            enabled.append(agent)
    assert enabled == ["discord", "webhook"]
    webhook = call(overseerr.url, "GET", "/api/v1/settings/notifications/webhook")[1]
    assert webhook["options"]["jsonPayload"] == WEBHOOK_PAYLOAD  # the default template comes back as its text
    assert json.loads(webhook["options"]["jsonPayload"])["notification_type"] == "{{notification_type}}"
    assert call(overseerr.url, "GET", "/api/v1/settings/notifications/matrix")[0] == 404


def test_a_test_notification_is_recorded(overseerr: Overseerr) -> None:
    for agent in ("discord", "webhook"):  # what a client does: post back the settings it read
        settings = call(overseerr.url, "GET", f"/api/v1/settings/notifications/{agent}")[1]
        assert call(overseerr.url, "POST", f"/api/v1/settings/notifications/{agent}/test", body=settings) == \
            (204, None)
    assert overseerr.tests == ["discord", "webhook"]

    slack = call(overseerr.url, "GET", "/api/v1/settings/notifications/slack")[1]  # no webhookUrl: axios rejects
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/slack/test", body=slack) == \
        (500, {"message": "Failed to send Slack notification."})
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/discord/test", body=None) == (
        415, {"message": "unsupported media type undefined", "errors": [
            {"path": "/api/v1/settings/notifications/discord/test", "message": "unsupported media type undefined"}]})
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/discord/test", body=b"{not json") == \
        (400, {"message": "Unexpected token n in JSON at position 1"})
    broken: dict[str, Any] = {"enabled": True, "types": 2, "options": {"webhookUrl": "https://hooks.example.test/x",
                                                        "jsonPayload": "{\"a\": }"}}
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/webhook/test", body=broken) == \
        (500, {"message": "Unexpected token } in JSON at position 6"})
    as_object = {**broken, "options": {**broken["options"], "jsonPayload": {"a": 1}}}
    status, body = call(overseerr.url, "POST", "/api/v1/settings/notifications/webhook/test", body=as_object)
    assert status == 400 and body["message"] == "request/body/options/jsonPayload must be string"
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/webhook/test", body={"enabled": True}) == \
        (500, {"message": "Cannot read properties of undefined (reading 'jsonPayload')"})
    assert overseerr.tests == ["discord", "webhook"]


def test_saving_settings(overseerr: Overseerr) -> None:
    payload = json.dumps({"text": "{{subject}}"})
    saved = {"enabled": True, "types": 4, "options": {"webhookUrl": "https://hooks.example.test/y",
                                                      "jsonPayload": payload, "authHeader": ""}}
    status, answer = call(overseerr.url, "POST", "/api/v1/settings/notifications/webhook", body=saved)
    assert status == 200 and json.loads(base64.b64decode(answer["options"]["jsonPayload"])) == \
        {"text": "{{subject}}"}  # upstream answers what it stored: the payload base64-encoded
    again = call(overseerr.url, "GET", "/api/v1/settings/notifications/webhook")[1]
    assert again["types"] == 4 and again["options"]["jsonPayload"] == {"text": "{{subject}}"}  # JSON.parse of it
    slack = {"enabled": True, "types": 2, "options": {"webhookUrl": "https://slack.example.test/hook"}}
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/slack", body=slack) == (200, slack)
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/slack/test", body=slack)[0] == 204
    assert call(overseerr.url, "POST", "/api/v1/settings/notifications/slack", body={"enabled": "yes"})[0] == 400


# -- in the rehearsal, and its faults ------------------------------------------------------------------------------
def refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


def test_the_rehearsal_serves_it_and_its_faults_break_it(cluster: Cluster) -> None:
    sim = cluster.sim
    url, key = sim.overseerr_url, sim.overseerr_api_key
    assert url.startswith("http://127.0.0.1:") and key == API_KEY
    assert sim.summary()["overseerr"] == url and sim.summary()["overseerr_api_key"] == key
    discord = call(url, "GET", "/api/v1/settings/notifications/discord", key=key)[1]

    assert sim.set_fault("overseerr-notify-fail", "discord") == "overseerr-notify-fail: discord"
    assert call(url, "POST", "/api/v1/settings/notifications/discord/test", key=key, body=discord) == \
        (500, {"message": "Failed to send Discord notification."})
    assert sim.overseerr_tests() == []
    assert sim.set_fault("overseerr-notify-fail", "discord=off") == "overseerr-notify-fail: off"
    assert call(url, "POST", "/api/v1/settings/notifications/discord/test", key=key, body=discord)[0] == 204
    assert sim.overseerr_tests() == ["discord"]
    with pytest.raises(ValueError):
        sim.set_fault("overseerr-notify-fail", "matrix")

    assert sim.set_fault("overseerr-pending", "5") == "overseerr-pending: 5 pending, the oldest 5 days old"
    pending = call(url, "GET", "/api/v1/request?filter=pending&take=50", key=key)[1]
    assert pending["pageInfo"]["results"] == 5 and round(age_days(pending["results"][-1]["createdAt"])) == 5
    assert sim.summary()["faults"]["overseerr-pending"] == "5 pending, the oldest 5 days old"
    assert sim.set_fault("overseerr-pending", "off").startswith("overseerr-pending: off")
    assert call(url, "GET", "/api/v1/request/count", key=key)[1]["pending"] == 2
    with pytest.raises(ValueError):
        sim.set_fault("overseerr-pending", "-1")

    assert sim.set_fault("overseerr-down") == "overseerr-down: on"
    assert refused(url)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/api/v1/status", timeout=5)
    assert sim.set_fault("overseerr-down", "off") == "overseerr-down: off"
    assert sim.overseerr_url == url and call(url, "GET", "/api/v1/status", key=None)[0] == 200


def test_the_background_rehearsal_names_it_in_its_state(sim: Mediaops) -> None:
    state = json.loads((sim.state / "sim" / "state.json").read_text())
    url, key = state["overseerr"], state["overseerr_api_key"]
    assert url.startswith("http://127.0.0.1:") and key == API_KEY
    assert call(url, "GET", "/api/v1/request/count", key=key)[1]["pending"] == 2
    faulted = sim.run("sim", "fault", "overseerr-down")
    assert faulted.returncode == 0 and "overseerr-down: on" in faulted.stdout
    assert refused(url)
    assert "overseerr-down: off" in sim.run("sim", "fault", "overseerr-down", "off").stdout
    assert call(url, "GET", "/api/v1/status", key=None)[0] == 200
