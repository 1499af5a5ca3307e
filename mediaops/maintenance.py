"""The maintenance bracket: an Alertmanager silence for the apps a run takes down, opened before its first step
that disrupts them and expired when the run ends, is undone or aborted; and notifications of a run's start and end.

Silences follow Alertmanager's API v2 (prometheus/alertmanager api/v2/openapi.yaml: POST /api/v2/silences with
matchers, startsAt, endsAt, createdBy, comment; DELETE /api/v2/silence/{id} expires one). Alert matchers AND
together, so an app gets one silence per label an alert about it carries (`silence_labels`: pod, deployment,
statefulset, persistentvolumeclaim by default), each with `namespace="NS"` and `LABEL=~"APP(-.*)?"`. A run that
crashes leaves its silences to expire on their own at the end of the window (`silence_minutes`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mediaops.errors import MediaopsError

LABELS = ("pod", "deployment", "statefulset", "persistentvolumeclaim")


class MaintenanceError(MediaopsError):
    """Alertmanager or the notification webhook did not take the request."""


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _call(method: str, url: str, body: Any = None, timeout: float = 5.0) -> Any:
    import urllib.error  # here: most runs open no silence, and urllib.request costs every run 7 ms to import
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", "User-Agent": "mediaops"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip()[:200]
        raise MaintenanceError(f"{method} {url}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise MaintenanceError(f"{method} {url}: no answer ({getattr(exc, 'reason', exc)})") from None


class Silences:
    """Open and expire the silences of one run."""

    def __init__(self, url: str, *, labels: tuple[str, ...] = LABELS, minutes: int = 120) -> None:
        self.url = url.rstrip("/")
        self.labels = labels
        self.minutes = minutes

    def matchers(self, namespace: str, app: str) -> list[list[dict[str, Any]]]:
        """One matcher set per label: namespace="NS" and LABEL=~"APP(-.*)?"."""
        return [[{"name": "namespace", "value": namespace, "isRegex": False, "isEqual": True},
                 {"name": label, "value": f"{app}(-.*)?", "isRegex": True, "isEqual": True}]
                for label in self.labels]

    def open(self, apps: list[tuple[str, str]], *, run_id: str, user: str, reason: str) -> list[str]:
        """Create the silences; returns their IDs. They end ``minutes`` from now, whatever happens to the run."""
        now = datetime.now(UTC)
        ids = []
        for namespace, app in apps:
            for matchers in self.matchers(namespace, app):
                body = {"matchers": matchers, "startsAt": _stamp(now),
                        "endsAt": _stamp(now + timedelta(minutes=self.minutes)),
                        "createdBy": f"mediaops {user}", "comment": f"{reason} (mediaops run {run_id})"}
                ids.append(str(_call("POST", f"{self.url}/api/v2/silences", body)["silenceID"]))
        return ids

    def expire(self, ids: list[str]) -> int:
        """Expire the silences still in force; returns how many were."""
        expired = 0
        for silence_id in ids:
            try:
                state = _call("GET", f"{self.url}/api/v2/silence/{silence_id}").get("status", {}).get("state")
            except MaintenanceError:
                continue  # gone (Alertmanager forgot it) or unreachable: it ends on its own
            if state in ("active", "pending"):
                _call("DELETE", f"{self.url}/api/v2/silence/{silence_id}")
                expired += 1
        return expired

    def command(self, apps: list[tuple[str, str]], *, run_id: str, user: str, reason: str) -> str:
        """The amtool lines that open the same silences by hand."""
        import shlex

        comment = shlex.quote(f"{reason} (mediaops run {run_id})")
        lines = []
        for namespace, app in apps:
            for label in self.labels:
                lines.append(f"amtool silence add --alertmanager.url={self.url} --duration={self.minutes}m "
                             f"--author={shlex.quote('mediaops ' + user)} --comment={comment} "
                             f"namespace={namespace} '{label}=~{app}(-.*)?'")
        return "\n".join(lines)


class Notifier:
    """A run's start and end, posted as JSON to a webhook (Slack-compatible `text`, Discord `content`, ntfy)."""

    def __init__(self, url: str, style: str = "slack") -> None:
        self.url = url
        self.style = style

    def body(self, text: str) -> dict[str, Any]:
        if self.style == "discord":
            return {"content": text}
        if self.style == "ntfy":
            topic = self.url.rstrip("/").rsplit("/", 1)[-1]
            return {"topic": topic, "message": text, "title": "mediaops"}
        return {"text": text}

    def send(self, text: str) -> None:
        url = self.url if self.style != "ntfy" else self.url.rstrip("/").rsplit("/", 1)[0] or self.url
        _call("POST", url, self.body(text))


class NotifySink:
    """An event sink: tells the webhook when a run starts and how it ended (never its parameters' values)."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.runbook = ""

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "run_start":
            self.runbook = str(event.get("runbook", ""))
            what = "undo of" if event.get("undo") else "resumed" if event.get("resumed") else "started"
            text = f"mediaops {what} {self.runbook} (run {event.get('run_id')}) by {event.get('user')}@" \
                   f"{event.get('host')}"
        elif kind == "run_end" and event.get("status") != "dry-run":
            text = f"mediaops {self.runbook} (run {event.get('run_id')}) ended: {event.get('status')}: " \
                   f"{event.get('message')}"
        else:
            return
        try:
            self.notifier.send(text)
        except MaintenanceError as exc:  # a notification never stops a run
            import sys

            print(f"mediaops: warning: notification not sent: {exc.line()}", file=sys.stderr)
