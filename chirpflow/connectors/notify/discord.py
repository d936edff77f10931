"""Discord webhook sender: embeds within Discord's limits, no pings, rate limits honoured.

Limits: content 2000, embed title 256, description 4096, 25 fields (name 256,
value 1024), footer 2048, 10 embeds and 6000 embed characters per message.
A long text is split over several embeds and, when needed, several messages.
``allowed_mentions: {"parse": []}`` means tweet text can never ping
@everyone, roles or users. 429 ``retry_after`` and ``X-RateLimit-*`` headers
are honoured without sleeping before the first request (``ready_in``);
``?wait=true`` returns the message id, stored as the row's remote id;
404 (unknown webhook) disables the channel.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from chirpflow.connectors.notify.channel import ChannelGone, RateLimited, Rejected, Transient
from chirpflow.connectors.notify.discord_text import escaped
from chirpflow.model import Notification

TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER = 256, 4096, 25, 256, 1024, 2048
EMBEDS_PER_MESSAGE, EMBED_CHARS_PER_MESSAGE = 10, 6000
MAX_RETRIES = 5


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _color(severity: int) -> int:
    return 0xD0021B if severity >= 70 else 0xF5A623 if severity >= 40 else 0x4A90E2


def embeds_for(n: Notification) -> list[dict[str, Any]]:
    """The notification as embeds, each within Discord's limits (not yet grouped).

    Long text is split over several embeds; fields continue in further embeds
    when one would pass 25 fields or 6000 characters.
    """
    n = escaped(n)  # tweet text and usernames stay text: no markdown, no masked links
    description = n.body
    if n.links:
        description += "\n\n" + "\n".join(f"[{_cut(label, 200)}]({url})" for label, url in n.links)
    pieces = [description[i : i + DESCRIPTION] for i in range(0, len(description), DESCRIPTION)]
    color = _color(n.severity)
    embeds: list[dict[str, Any]] = [
        {"description": piece, "color": color} for piece in pieces or [""]
    ]
    embeds[0]["title"] = _cut(n.title, TITLE)
    if n.url:
        embeds[0]["url"] = n.url
    footer = _cut(f"chirpflow · {n.rule}", FOOTER)
    budget = EMBED_CHARS_PER_MESSAGE - len(footer)
    current = embeds[-1]
    for name, value in n.fields:
        field: dict[str, Any] = {
            "name": _cut(name, FIELD_NAME),
            "value": _cut(value, FIELD_VALUE) or "-",
            "inline": len(value) < 40,
        }
        fields = current.setdefault("fields", [])
        if (
            len(fields) == FIELDS
            or _size(current) + len(field["name"]) + len(field["value"]) > budget
        ):
            current = {"color": color, "fields": []}
            embeds.append(current)
        current["fields"].append(field)
    embeds[-1]["footer"] = {"text": footer}
    return embeds


def _size(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    return total + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


def messages_for(n: Notification) -> list[dict[str, Any]]:
    """Request bodies: embeds grouped at most 10 and 6000 characters per message."""
    bodies: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    size = 0
    for embed in embeds_for(n):
        s = _size(embed)
        if group and (len(group) == EMBEDS_PER_MESSAGE or size + s > EMBED_CHARS_PER_MESSAGE):
            bodies.append({"embeds": group})
            group, size = [], 0
        group.append(embed)
        size += s
    bodies.append({"embeds": group})
    for body in bodies:
        body["allowed_mentions"] = {"parse": []}
        body["username"] = "chirpflow"
    return bodies


class DiscordChannel:
    def __init__(self, name: str, webhook_url: str, timeout: float = 10.0) -> None:
        self.name = name
        self._url = webhook_url
        self._http = httpx.Client(timeout=timeout)
        self._not_before = 0.0  # from X-RateLimit-Remaining: 0 / Reset-After, or a 429

    def ready_in(self) -> float:
        return max(0.0, self._not_before - time.monotonic())

    def send(self, n: Notification) -> str:
        """Post every message of ``n``; the message ids (``?wait=true``), comma-separated.

        The first request is made at once or not at all (``RateLimited``): the
        caller waits for ``ready_in()``. Later parts of a long notification wait
        for the bucket here, since the earlier parts are already delivered.
        """
        ids = [self._post(body, first=i == 0) for i, body in enumerate(messages_for(n))]
        return ",".join(ids)

    def _post(self, body: dict[str, Any], first: bool) -> str:
        for _ in range(MAX_RETRIES):
            wait = self.ready_in()
            if wait > 0:
                if first:
                    raise RateLimited("discord: rate limit bucket empty", wait)
                time.sleep(wait)  # the row is already partly delivered
            try:
                r = self._http.post(self._url, params={"wait": "true"}, json=body)
            except httpx.HTTPError as err:
                raise Transient(f"discord: {type(err).__name__}") from err
            self._note_limits(r.headers)
            if r.status_code in (200, 204):
                return str(r.json().get("id", "")) if r.status_code == 200 else ""
            if r.status_code == 429:
                retry = _retry_after(r)
                self._not_before = max(self._not_before, time.monotonic() + retry)
                if first:
                    raise RateLimited(f"discord 429 (retry after {retry:.2f}s)", retry)
                continue
            if r.status_code == 404:
                raise ChannelGone(f"discord webhook unknown (404): {r.text[:200]}")
            if r.status_code in (401, 403):
                raise ChannelGone(f"discord webhook refused ({r.status_code}): {r.text[:200]}")
            if r.status_code >= 500:
                raise Transient(f"discord {r.status_code}")
            raise Rejected(f"discord {r.status_code}: {r.text[:300]}")
        raise Transient("discord: still rate limited after retries")

    def _note_limits(self, headers: httpx.Headers) -> None:
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                after = float(headers.get("x-ratelimit-reset-after", "1"))
            except ValueError:
                after = 1.0
            self._not_before = time.monotonic() + after

    def close(self) -> None:
        self._http.close()


def _retry_after(r: httpx.Response) -> float:
    try:
        return float(r.json().get("retry_after", 1.0))
    except (ValueError, AttributeError):
        return float(r.headers.get("retry-after", "1") or 1)
