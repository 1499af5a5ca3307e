"""Overseerr's API (sct/overseerr overseerr-api.yml), as the weekly check reads it: status, pending requests,
notification agents and their test. The API key goes in the `X-Api-Key` header and nowhere else."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from mediaops.errors import MediaopsError

# server/lib/settings.ts NotificationAgentKey: every agent Overseerr can notify through.
AGENTS = ("discord", "email", "gotify", "lunasea", "pushbullet", "pushover", "slack", "telegram", "webhook",
          "webpush")
PENDING = 1  # server/constants/media.ts MediaRequestStatus.PENDING


class OverseerrError(MediaopsError):
    pass


class Overseerr:
    def __init__(self, url: str, api_key: str = "", timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json", "User-Agent": "mediaops"}
        if self.api_key:
            headers["X-Api-Key"] = self.api_key
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read() or b"{}").get("message") or exc.reason
            except ValueError:
                message = exc.reason
            hint = "check MEDIAOPS_OVERSEERR_API_KEY (Settings > General > API Key)" if exc.code in (401, 403) else ""
            raise OverseerrError(f"{method} {path}: HTTP {exc.code} {message}", hint=hint) from None
        except (urllib.error.URLError, OSError) as exc:
            raise OverseerrError(f"no answer from Overseerr at {self.url} ({getattr(exc, 'reason', exc)})") from None

    def status(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/status"))

    def pending(self, page: int = 100) -> list[dict[str, Any]]:
        """Every pending request, oldest first (GET /api/v1/request?filter=pending, paged)."""
        found: list[dict[str, Any]] = []
        skip = 0
        while True:
            query = urlencode({"take": page, "skip": skip, "filter": "pending", "sort": "added"})
            answer = self._call("GET", f"/api/v1/request?{query}")
            results = list(answer.get("results") or [])
            found += [r for r in results if r.get("status") == PENDING]
            info = answer.get("pageInfo") or {}
            skip += page
            if not results or skip >= int(info.get("results", 0)):
                break
        return sorted(found, key=lambda r: str(r.get("createdAt", "")))

    def agent(self, name: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/settings/notifications/{name}"))

    def test(self, name: str, settings: dict[str, Any]) -> None:
        """Send a test notification through an agent with its own settings (POST …/{agent}/test)."""
        self._call("POST", f"/api/v1/settings/notifications/{name}/test", settings)

    def curl(self, path: str) -> str:
        """The curl line for a GET, the key named by its variable, never written out."""
        key = " -H \"X-Api-Key: $OVERSEERR_API_KEY\"" if path != "/api/v1/status" else ""
        return f"curl -s{key} '{self.url}{path}'"


def test_curl(url: str, agent: str) -> str:
    """The pipe that sends an agent's test as Overseerr's settings page does: its settings, posted to …/test."""
    base, key = url.rstrip("/") + f"/api/v1/settings/notifications/{agent}", "-H \"X-Api-Key: $OVERSEERR_API_KEY\""
    return (f"curl -s {key} '{base}' | curl -s -X POST {key} -H 'Content-Type: application/json' -d @- "
            f"'{base}/test'")


def age_days(stamp: str) -> float:
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (datetime.now(UTC) - when).total_seconds() / 86400
