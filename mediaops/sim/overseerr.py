"""The rehearsal's Overseerr: its API on 127.0.0.1, for the status check and the weekly requests-and-notifications
runbook, held to the upstream contract (sct/overseerr at the v1.34.0 release line):

- ``overseerr-api.yml``: the paths, their parameters and schemas (MediaRequest, MediaInfo, PageInfo, the
  ``*Settings`` of each notification agent), the global ``security`` (cookieAuth or apiKey ``X-Api-Key``) and
  ``security: []`` of ``/status``;
- ``server/index.ts``: express-openapi-validator 4.13.8 runs before the routes (``validateRequests: true``), and
  every error is answered ``{message, errors}`` with its status;
- ``server/middleware/auth.ts``: ``checkUser`` acts as user 1 (the administrator) for the right ``X-Api-Key``;
  ``isAuthenticated`` answers 403 ``{status, error}`` when there is no user;
- ``server/routes/index.ts``: ``GET /status`` (version, commitTag, updateAvailable, commitsBehind,
  restartRequired), the ``/request`` and ``/settings`` routers behind ``isAuthenticated``;
- ``server/routes/request.ts``: ``GET /request`` (take default 10, skip, filter, sort added = id DESC, modified =
  updatedAt DESC; pageInfo {pages, pageSize, results, page}) and ``GET /request/count``;
- ``server/routes/settings/notifications.ts``: ``GET``/``POST /settings/notifications/{agent}`` and
  ``POST .../{agent}/test`` (the body is the settings to test; 204 when sent, else 500 "Failed to send …");
- ``server/constants/media.ts``: MediaRequestStatus (1 pending, 2 approved, 3 declined, 4 failed), MediaStatus
  (1 unknown … 5 available); ``server/lib/settings.ts``: the agents' default settings.

And express-openapi-validator 4.13.8 (cdimascio/express-openapi-validator): ``src/middlewares/openapi.security.ts``
(a missing key is 401 with the first scheme's error, "cookie 'connect.sid' required"; the key's value is the
routes' business), ``openapi.metadata.ts`` (404 "not found", 405 "GET method not allowed"),
``openapi.request.validator.ts`` (400 "Unknown query parameter 'x'", "Empty value found for query parameter
'x'", ajv's "request/query/filter must be equal to one of the allowed values: …"), ``parsers/body.parse.ts``
(415 "unsupported media type …").

The rehearsal never sends anything: a test notification is recorded (``tests``) instead.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mediaops.sim.standins import LoopbackHTTP

HOST = "127.0.0.1"
VERSION = "1.34.0"
COMMIT_TAG = "c617bba6a43af42d421d254defa95b22e8b353d2"  # the commit of the v1.34.0 tag
# The rehearsal's API key, fixed; shaped like settings.ts generateApiKey: base64(`${Date.now()}${randomUUID()}`).
API_KEY = "MTc2NDU0NzIwMDAwMDZkNjU2NDY5LTYxNmYtNDA3My1hMjY1LTY4NjU2MTcyNzM2MQ=="
DAY = 86400.0

# server/constants/media.ts
PENDING, APPROVED, DECLINED, FAILED = 1, 2, 3, 4  # MediaRequestStatus
UNKNOWN, MEDIA_PENDING, PROCESSING, PARTIALLY_AVAILABLE, AVAILABLE = 1, 2, 3, 4, 5  # MediaStatus

# overseerr-api.yml GET /request: the filter and sort enums, and its query parameters.
FILTERS = ["all", "approved", "available", "pending", "processing", "unavailable", "failed"]
SORTS = ["added", "modified"]
_QUERY: dict[str, dict[str, str]] = {
    "/api/v1/request": {"take": "number", "skip": "number", "filter": "filter", "sort": "sort",
                        "requestedBy": "number"},
}

# server/routes/settings/notifications.ts: the agents, and the message each test answers when it fails (lunasea's
# is upstream's own, copied from web push).
AGENTS = {
    "discord": "Failed to send Discord notification.",
    "email": "Failed to send email notification.",
    "gotify": "Failed to send Gotify notification.",
    "lunasea": "Failed to send web push notification.",
    "pushbullet": "Failed to send Pushbullet notification.",
    "pushover": "Failed to send Pushover notification.",
    "slack": "Failed to send Slack notification.",
    "telegram": "Failed to send Telegram notification.",
    "webhook": "Failed to send webhook notification.",
    "webpush": "Failed to send web push notification.",
}
# Where each agent sends (lib/notifications/agents/*.ts): without it the agent's request fails (axios rejects an
# empty URL; the provider refuses an empty token) and the test answers the agent's failure.
_DESTINATION = {"discord": ("webhookUrl",), "slack": ("webhookUrl",), "lunasea": ("webhookUrl",),
                "webhook": ("webhookUrl",), "gotify": ("url", "token"), "telegram": ("botAPI", "chatId"),
                "pushbullet": ("accessToken",), "pushover": ("accessToken", "userToken"),
                "email": ("smtpHost", "emailFrom"), "webpush": ()}

# settings.ts: the default webhook jsonPayload. Upstream keeps the posted text base64-encoded and GET answers
# JSON.parse of it; the default is the JSON string of this template's text, so GET answers the text.
_WEBHOOK_TEMPLATE: dict[str, Any] = {
    "notification_type": "{{notification_type}}", "event": "{{event}}", "subject": "{{subject}}",
    "message": "{{message}}", "image": "{{image}}",
    "{{media}}": {"media_type": "{{media_type}}", "tmdbId": "{{media_tmdbid}}", "tvdbId": "{{media_tvdbid}}",
                  "status": "{{media_status}}", "status4k": "{{media_status4k}}"},
    "{{request}}": {"request_id": "{{request_id}}", "requestedBy_email": "{{requestedBy_email}}",
                    "requestedBy_username": "{{requestedBy_username}}",
                    "requestedBy_avatar": "{{requestedBy_avatar}}",
                    "requestedBy_settings_discordId": "{{requestedBy_settings_discordId}}",
                    "requestedBy_settings_telegramChatId": "{{requestedBy_settings_telegramChatId}}"},
    "{{issue}}": {"issue_id": "{{issue_id}}", "issue_type": "{{issue_type}}", "issue_status": "{{issue_status}}",
                  "reportedBy_email": "{{reportedBy_email}}", "reportedBy_username": "{{reportedBy_username}}",
                  "reportedBy_avatar": "{{reportedBy_avatar}}",
                  "reportedBy_settings_discordId": "{{reportedBy_settings_discordId}}",
                  "reportedBy_settings_telegramChatId": "{{reportedBy_settings_telegramChatId}}"},
    "{{comment}}": {"comment_message": "{{comment_message}}", "commentedBy_email": "{{commentedBy_email}}",
                    "commentedBy_username": "{{commentedBy_username}}",
                    "commentedBy_avatar": "{{commentedBy_avatar}}",
                    "commentedBy_settings_discordId": "{{commentedBy_settings_discordId}}",
                    "commentedBy_settings_telegramChatId": "{{commentedBy_settings_telegramChatId}}"},
    "{{extra}}": [],
}
WEBHOOK_PAYLOAD = json.dumps(_WEBHOOK_TEMPLATE, indent=2)
_WEBHOOK_STORED = json.dumps(WEBHOOK_PAYLOAD)  # what upstream's base64 decodes to
# lib/notifications/index.ts Notification: pending, approved, available, failed, declined, auto-approved.
MEDIA_TYPES = 2 | 4 | 8 | 16 | 64 | 128


def default_agents() -> dict[str, dict[str, Any]]:
    """settings.ts notifications.agents (email and webpush have no ``types`` until saved), with Discord and a
    webhook enabled as the rehearsal's Overseerr has them."""
    agents: dict[str, dict[str, Any]] = {
        "email": {"enabled": False, "options": {"emailFrom": "", "smtpHost": "", "smtpPort": 587, "secure": False,
                                                "ignoreTls": False, "requireTls": False, "allowSelfSigned": False,
                                                "senderName": "Overseerr"}},
        "discord": {"enabled": False, "types": 0, "options": {"webhookUrl": "", "enableMentions": True}},
        "lunasea": {"enabled": False, "types": 0, "options": {"webhookUrl": ""}},
        "slack": {"enabled": False, "types": 0, "options": {"webhookUrl": ""}},
        "telegram": {"enabled": False, "types": 0, "options": {"botAPI": "", "chatId": "", "sendSilently": False}},
        "pushbullet": {"enabled": False, "types": 0, "options": {"accessToken": ""}},
        "pushover": {"enabled": False, "types": 0, "options": {"accessToken": "", "userToken": "", "sound": ""}},
        "webhook": {"enabled": False, "types": 0, "options": {"webhookUrl": "", "jsonPayload": _WEBHOOK_STORED}},
        "webpush": {"enabled": False, "options": {}},
        "gotify": {"enabled": False, "types": 0, "options": {"url": "", "token": ""}},
    }
    agents["discord"] = {"enabled": True, "types": MEDIA_TYPES, "options": {
        "botUsername": "Overseerr", "botAvatarUrl": "",
        "webhookUrl": "https://discord.example.test/api/webhooks/1000/rehearsal", "enableMentions": True}}
    agents["webhook"] = {"enabled": True, "types": MEDIA_TYPES, "options": {
        "webhookUrl": "https://hooks.example.test/overseerr", "jsonPayload": _WEBHOOK_STORED, "authHeader": ""}}
    return agents


# The users the requests name (entity/User.ts: displayName is username || plexUsername || email). Permission
# values from lib/permissions.ts: ADMIN 2, REQUEST 32.
USERS = {
    1: {"displayName": "ops", "email": "ops@example.test", "plexUsername": "ops", "permissions": 2, "plexId": 1001},
    2: {"displayName": "alice", "email": "alice@example.test", "plexUsername": "alice", "permissions": 32,
        "plexId": 1002},
    3: {"displayName": "bob", "email": "bob@example.test", "plexUsername": "bob", "permissions": 32, "plexId": 1003},
    4: {"displayName": "carol", "email": "carol@example.test", "plexUsername": "carol", "permissions": 32,
        "plexId": 1004},
}
# (type, tmdbId, request status, media status, days old, requested by): ids follow in this order, oldest first.
SEED = [
    ("movie", 603, APPROVED, AVAILABLE, 30, 2),
    ("tv", 1399, APPROVED, PARTIALLY_AVAILABLE, 21, 3),
    ("movie", 27205, DECLINED, UNKNOWN, 14, 3),
    ("movie", 157336, APPROVED, PROCESSING, 10, 2),
    ("movie", 438631, PENDING, MEDIA_PENDING, 7, 4),
    ("tv", 94997, PENDING, MEDIA_PENDING, 1, 2),
]
# What the overseerr-pending fault requests, in turn.
PENDING_TITLES = [("movie", 693134), ("tv", 100088), ("movie", 872585), ("tv", 76479), ("movie", 569094),
                  ("tv", 84958), ("movie", 502356), ("tv", 114461)]


def js_date(moment: float) -> str:
    """JavaScript's Date.prototype.toJSON: ISO 8601 in UTC with milliseconds."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class Answer(Exception):
    """An answer other than 200: its status and JSON payload (None: no body)."""

    def __init__(self, code: int, payload: Any = None) -> None:
        super().__init__(code, payload)
        self.code, self.payload = code, payload


def _error(code: int, message: str, path: str | None = None, errors: list[dict[str, Any]] | None = None) -> Answer:
    """server/index.ts's error handler: ``{message, errors}`` (errors left out when undefined, as JSON.stringify
    does); express-openapi-validator's HttpError gives ``errors: [{path, message}]``."""
    payload: dict[str, Any] = {"message": message}
    if errors is not None:
        payload["errors"] = errors
    elif path is not None:
        payload["errors"] = [{"path": path, "message": message}]
    return Answer(code, payload)


def _node_json_error(text: str) -> str:
    """The SyntaxError message of JSON.parse in Node 18 (V8 10.2; the image is node:18-alpine)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text):
            return "Unexpected end of JSON input"
        return f"Unexpected token {text[exc.pos]} in JSON at position {exc.pos}"
    return ""


class Overseerr:
    """Overseerr's API (the endpoints above) with its requests, notification agents and the tests sent."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.seeded = clock()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = self._seed()
        self.agents = default_agents()
        self.failing: set[str] = set()  # agents whose test fails (the overseerr-notify-fail fault)
        self.tests: list[str] = []  # agents a test notification was sent to, in order
        self.http = LoopbackHTTP("overseerr", self._answer)

    # -- the requests ------------------------------------------------------------------------------------------
    def _request(self, ident: int, media_type: str, tmdb: int, status: int, media_status: int, days: float,
                 user: int) -> dict[str, Any]:
        created = self.seeded - days * DAY
        decided = created + 3600 if status in (APPROVED, DECLINED) else created
        return {"id": ident, "status": status, "type": media_type, "tmdbId": tmdb, "mediaStatus": media_status,
                "createdAt": created, "updatedAt": decided, "requestedBy": user,
                "modifiedBy": 1 if status in (APPROVED, DECLINED) else None}

    def _seed(self) -> list[dict[str, Any]]:
        return [self._request(i, *row) for i, row in enumerate(SEED, start=1)]

    def set_pending(self, count: int | None) -> None:
        """``count`` pending requests, the oldest ``count`` days old and one a day after it (None: as seeded)."""
        with self._lock:
            if count is None:
                self.requests = self._seed()
                return
            kept = [r for r in self.requests if r["status"] != PENDING]
            ident = max((r["id"] for r in self.requests), default=0)
            for index in range(count):
                media_type, tmdb = PENDING_TITLES[index % len(PENDING_TITLES)]
                ident += 1
                kept.append(self._request(ident, media_type, tmdb, PENDING, MEDIA_PENDING, count - index,
                                          2 + index % 3))
            self.requests = kept

    @staticmethod
    def _user(ident: int | None, requests: list[dict[str, Any]]) -> dict[str, Any] | None:
        """entity/User.ts as the request routes serialize it (password, plexToken etc. are not selected)."""
        if ident is None:
            return None
        user = USERS[ident]
        stamp = "2024-01-15T20:00:00.000Z"
        return {"permissions": user["permissions"], "id": ident, "email": user["email"],
                "plexUsername": user["plexUsername"], "username": None, "recoveryLinkExpirationDate": None,
                "userType": 1, "plexId": user["plexId"], "avatar": f"https://plex.tv/users/{ident:016x}/avatar",
                "movieQuotaLimit": None, "movieQuotaDays": None, "tvQuotaLimit": None, "tvQuotaDays": None,
                "createdAt": stamp, "updatedAt": stamp,
                "requestCount": sum(1 for r in requests if r["requestedBy"] == ident),
                "displayName": user["displayName"]}

    def _serialize(self, request: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, Any]:
        """entity/MediaRequest.ts with its media (entity/Media.ts), seasons, modifiedBy and requestedBy."""
        created, updated = js_date(request["createdAt"]), js_date(request["updatedAt"])
        media = {"downloadStatus": [], "downloadStatus4k": [], "id": request["id"], "mediaType": request["type"],
                 "tmdbId": request["tmdbId"], "tvdbId": None, "imdbId": None, "status": request["mediaStatus"],
                 "status4k": UNKNOWN, "createdAt": created, "updatedAt": updated, "lastSeasonChange": created,
                 "mediaAddedAt": updated if request["mediaStatus"] in (PARTIALLY_AVAILABLE, AVAILABLE) else None,
                 "serviceId": None, "serviceId4k": None, "externalServiceId": None, "externalServiceId4k": None,
                 "externalServiceSlug": None, "externalServiceSlug4k": None, "ratingKey": None, "ratingKey4k": None}
        seasons = [{"id": request["id"] * 10 + 1, "seasonNumber": 1, "status": request["status"],
                    "createdAt": created, "updatedAt": updated}] if request["type"] == "tv" else []
        return {"id": request["id"], "status": request["status"], "createdAt": created, "updatedAt": updated,
                "type": request["type"], "is4k": False, "serverId": None, "profileId": None, "rootFolder": None,
                "languageProfileId": None, "tags": None, "isAutoRequest": False, "media": media, "seasons": seasons,
                "modifiedBy": self._user(request["modifiedBy"], requests),
                "requestedBy": self._user(request["requestedBy"], requests), "seasonCount": len(seasons)}

    def list_requests(self, query: dict[str, Any]) -> dict[str, Any]:
        """routes/request.ts GET /: the status and media-status filters, the sort, then take and skip."""
        filter_ = str(query.get("filter") or "")
        statuses = {"approved": {APPROVED}, "processing": {APPROVED}, "available": {APPROVED},
                    "pending": {PENDING}, "unavailable": {PENDING, APPROVED},
                    "failed": {FAILED}}.get(filter_, {PENDING, APPROVED, DECLINED, FAILED})
        media = {"available": {AVAILABLE}, "processing": {UNKNOWN, MEDIA_PENDING, PROCESSING, PARTIALLY_AVAILABLE},
                 "unavailable": {UNKNOWN, MEDIA_PENDING, PROCESSING, PARTIALLY_AVAILABLE}}.get(
            filter_, {UNKNOWN, MEDIA_PENDING, PROCESSING, PARTIALLY_AVAILABLE, AVAILABLE})
        # take and skip arrive as numbers (the validator coerces them): take=0 is falsy, so 10 as for none
        page_size = query["take"] if query.get("take") else 10
        skip = query["skip"] if query.get("skip") else 0
        with self._lock:
            requests = copy.deepcopy(self.requests)
        chosen = [r for r in requests if r["status"] in statuses and r["mediaStatus"] in media
                  and (not query.get("requestedBy") or r["requestedBy"] == query["requestedBy"])]
        key = "updatedAt" if query.get("sort") == "modified" else "id"
        chosen.sort(key=lambda r: (r[key], r["id"]), reverse=True)
        skip_n = max(int(skip), 0)
        page = chosen[skip_n:skip_n + int(page_size)] if page_size else chosen[skip_n:]
        return {"pageInfo": {"pages": math.ceil(len(chosen) / page_size) if page_size else None,
                             "pageSize": page_size, "results": len(chosen),
                             "page": (math.ceil(skip / page_size) + 1) if page_size else None},
                "results": [self._serialize(r, requests) for r in page]}

    def count(self) -> dict[str, int]:
        """routes/request.ts GET /count."""
        with self._lock:
            requests = list(self.requests)
        approved = [r for r in requests if r["status"] == APPROVED]
        return {"total": len(requests), "movie": sum(1 for r in requests if r["type"] == "movie"),
                "tv": sum(1 for r in requests if r["type"] == "tv"),
                "pending": sum(1 for r in requests if r["status"] == PENDING), "approved": len(approved),
                "declined": sum(1 for r in requests if r["status"] == DECLINED),
                "processing": sum(1 for r in approved if r["mediaStatus"] != AVAILABLE),
                "available": sum(1 for r in approved if r["mediaStatus"] == AVAILABLE)}

    # -- the notification agents ------------------------------------------------------------------------------
    def agent_settings(self, agent: str) -> dict[str, Any]:
        """GET /settings/notifications/{agent}; the webhook's jsonPayload is JSON.parse of what was saved."""
        with self._lock:
            settings = copy.deepcopy(self.agents[agent])
        if agent == "webhook":
            options = settings.get("options") or {}
            settings = {"enabled": settings.get("enabled"), "types": settings.get("types"),
                        "options": {**options, "jsonPayload": json.loads(options.get("jsonPayload") or "null")}}
        return settings

    def save_agent(self, agent: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /settings/notifications/{agent}: the body replaces the settings and is answered. The webhook's
        jsonPayload must parse; upstream keeps it, and answers it, base64-encoded."""
        answer = body
        if agent == "webhook":
            options = _options(body)
            self._check_payload(options)
            body = {"enabled": body.get("enabled"), "types": body.get("types"),
                    "options": {"jsonPayload": options.get("jsonPayload"), "webhookUrl": options.get("webhookUrl"),
                                "authHeader": options.get("authHeader")}}
            answer = copy.deepcopy(body)
            answer["options"]["jsonPayload"] = base64.b64encode(str(options.get("jsonPayload")).encode()).decode()
        with self._lock:
            self.agents[agent] = copy.deepcopy(body)
        return answer

    @staticmethod
    def _check_payload(options: dict[str, Any]) -> None:
        """notifications.ts: ``JSON.parse(req.body.options.jsonPayload)``; its SyntaxError is a 500."""
        payload = options.get("jsonPayload")
        text = "undefined" if payload is None else str(payload)
        problem = _node_json_error(text)
        if problem:
            raise _error(500, problem)

    def test(self, agent: str, body: dict[str, Any]) -> None:
        """POST /settings/notifications/{agent}/test: the agent sends a test notification with the settings in the
        body; 204 when it was sent, else the agent's failure (500)."""
        options = _options(body) if agent == "webhook" else (body.get("options") or {})
        if agent == "webhook":
            self._check_payload(options)
        with self._lock:
            failing = agent in self.failing
        if failing or not all(isinstance(options, dict) and options.get(k) for k in _DESTINATION[agent]):
            raise _error(500, AGENTS[agent])
        with self._lock:
            self.tests.append(agent)

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """One request: (status, JSON body or b"")."""
        try:
            payload = self._route(method, target, {k.lower(): v for k, v in headers.items()}, body)
            code = 200
        except Answer as answer:
            code, payload = answer.code, answer.payload
        if code == 204 or payload is None:
            return code, b""
        return code, json.dumps(payload).encode()

    def _route(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/") or "/"
        parsed = _parse_json(headers, body)  # express.json() runs before everything else (server/index.ts)
        if not path.startswith("/api/v1/") and path != "/api/v1":
            raise Answer(404, {"message": "not found"})  # outside the API: Next.js's own 404 page
        route, allowed, agent = _match(path)
        if route is None:  # openapi.metadata.ts: a path the spec does not have (or the rehearsal does not serve)
            raise _error(404, "not found", path)
        if method not in allowed:
            raise _error(405, f"{method} method not allowed", path)
        if route not in ("/api/v1/status", "/api/v1/status/appdata"):  # security: [] only for these
            cookies = headers.get("cookie", "")
            if not headers.get("x-api-key") and not re.search(r"(^|;\s*)connect\.sid=", cookies):
                raise _error(401, "cookie 'connect.sid' required", route)
        query = self._query(route, parse_qs(url.query, keep_blank_values=True))
        if method == "POST":
            _validate_body(route, headers, parsed)
        if route == "/api/v1/status":
            return {"version": VERSION, "commitTag": COMMIT_TAG, "updateAvailable": False, "commitsBehind": 0,
                    "restartRequired": False}
        if route == "/api/v1/status/appdata":
            return {"appData": True, "appDataPath": "/app/config"}
        if headers.get("x-api-key") != API_KEY:  # checkUser found no user: isAuthenticated refuses
            raise Answer(403, {"status": 403, "error": "You do not have permission to access this endpoint"})
        if route == "/api/v1/request":
            return self.list_requests(query)
        if route == "/api/v1/request/count":
            return self.count()
        body_object = parsed if isinstance(parsed, dict) else {}
        if route.endswith("/test"):
            self.test(str(agent), body_object)
            raise Answer(204)
        if method == "POST":
            return self.save_agent(str(agent), body_object)
        return self.agent_settings(str(agent))

    @staticmethod
    def _query(route: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """openapi.request.validator.ts: unknown and empty parameters, then ajv (coercing query strings)."""
        schema = _QUERY.get(route, {})
        for name, values in query.items():
            if name not in schema:
                raise _error(400, f"Unknown query parameter '{name}'", f"/query/{name}")
            if values[-1] == "":
                raise _error(400, f"Empty value found for query parameter '{name}'", f"/query/{name}")
        parsed: dict[str, Any] = {}
        for name, values in query.items():
            value, kind = values[-1], schema[name]
            if kind == "number":
                try:
                    number = float(value)
                except ValueError:
                    number = math.nan
                if math.isnan(number) or math.isinf(number):
                    message = "must be number"
                    raise _error(400, f"request/query/{name} {message}", errors=[
                        {"path": f"/query/{name}", "message": message, "errorCode": "type.openapi.validation"}])
                parsed[name] = int(number) if number.is_integer() else number
            else:
                allowed = FILTERS if kind == "filter" else SORTS
                if value not in allowed:
                    message = "must be equal to one of the allowed values: " + ", ".join(allowed)
                    raise _error(400, f"request/query/{name} {message}", errors=[
                        {"path": f"/query/{name}", "message": message, "errorCode": "enum.openapi.validation"}])
                parsed[name] = value
        return parsed

    # -- serving ---------------------------------------------------------------------------------------------------
    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str],
                                                                                              bytes]:
        code, answer = self.handle(method, path, headers, body)
        return code, {"Content-Type": "application/json; charset=utf-8"} if answer else {}, answer

    def start(self) -> None:
        """Serve on 127.0.0.1: a free port the first time, the same port when it comes back up."""
        self.http.start()

    def stop(self) -> None:
        """Stop listening: connections to the port are refused (as to a Service whose pod is down)."""
        self.http.stop()

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def url(self) -> str:
        return self.http.url


def _parse_json(headers: dict[str, str], body: bytes) -> Any:
    """express.json(): a JSON body (strict: an object or an array) when the Content-Type says so; its SyntaxError
    is a 400 with no ``errors``."""
    media = (headers.get("content-type") or "").split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if media != "application/json" or not text.strip():
        return None
    first = text.strip()[0]
    if first not in "{[":
        raise Answer(400, {"message": f"Unexpected token {first} in JSON at position 0"})
    problem = _node_json_error(text)
    if problem:
        raise Answer(400, {"message": problem})
    return json.loads(text)


def _type_error(path: str, wanted: str) -> Answer:
    """ajv's type error as openapi.request.validator.ts answers it."""
    message = f"must be {wanted}"
    return _error(400, f"request{path} {message}", errors=[
        {"path": path, "message": message, "errorCode": "type.openapi.validation"}])


def _validate_body(route: str, headers: dict[str, str], parsed: Any) -> None:
    """body.parse.ts (the spec's content is application/json, required), then ajv against the agent's *Settings
    schema: enabled boolean, types number, options an object; the webhook's jsonPayload a string."""
    content_type = headers.get("content-type")
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise _error(415, f"unsupported media type {content_type or 'undefined'}", route)
    body = {} if parsed is None else parsed
    if not isinstance(body, dict):
        raise _type_error("/body", "object")
    for field, wanted in (("enabled", "boolean"), ("types", "number")):
        value = body.get(field)
        if value is not None and (isinstance(value, bool) != (wanted == "boolean")
                                  or not isinstance(value, (bool, int, float))):
            raise _type_error(f"/body/{field}", wanted)
    options = body.get("options")
    if options is not None and not isinstance(options, dict):
        raise _type_error("/body/options", "object")
    payload = (options or {}).get("jsonPayload")
    if route.startswith("/api/v1/settings/notifications/webhook") and payload is not None \
            and not isinstance(payload, str):
        raise _type_error("/body/options/jsonPayload", "string")


def _options(body: dict[str, Any]) -> dict[str, Any]:
    """``req.body.options`` as the webhook routes read it: without it, the TypeError is a 500."""
    options = body.get("options")
    if not isinstance(options, dict):
        raise _error(500, "Cannot read properties of undefined (reading 'jsonPayload')")
    return options


_AGENT = re.compile(r"^/api/v1/settings/notifications/([a-z]+)(/test)?$")


def _match(path: str) -> tuple[str | None, tuple[str, ...], str | None]:
    """(the route, its methods, the agent) of a path the rehearsal's Overseerr serves."""
    fixed = {"/api/v1/status": ("GET",), "/api/v1/status/appdata": ("GET",), "/api/v1/request": ("GET",),
             "/api/v1/request/count": ("GET",)}
    if path in fixed:
        return path, fixed[path], None
    match = _AGENT.match(path)
    if match and match[1] in AGENTS:
        return path, ("POST",) if match[2] else ("GET", "POST"), match[1]
    return None, (), None
