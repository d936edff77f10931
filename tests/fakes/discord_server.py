"""A fake Discord webhook endpoint that enforces Discord's documented limits.

Validates content and embed limits (400 code 50035 "Invalid Form Body"),
rate-limits each webhook (5 requests per 2 s by default) with real
``X-RateLimit-*`` headers and 429 ``retry_after`` bodies, and answers 404
code 10015 for an unknown (deleted) webhook. Accepted embeds are rendered the
way Discord's markdown does for links: ``links`` holds every (label, url) a
reader could click (the embed ``url`` under its title, and masked links
``[label](url)`` in descriptions and field values whose brackets are not
backslash-escaped); :func:`visible` is text as shown.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import serve

_ids = itertools.count(1_100_000_000_000_000_000)


@dataclass
class FakeDiscord:
    limit: int = 5
    per_s: float = 2.0
    deleted: bool = False
    every_nth_429: int = 0  # also refuse every Nth request (a bucket shared with others)
    messages: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) users can click
    _stamps: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _requests: int = 0

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET":  # the webhook object, as Discord answers with a valid token
            if self.deleted or not path.startswith("/api/webhooks/"):
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            parts = path.split("?")[0].split("/")
            return 200, {"type": 1, "id": parts[3], "name": "chirpflow", "channel_id": "1"}, {}
        status, out, extra = self._handle(path, body)
        self.statuses.append(status)
        return status, out, extra

    def _handle(self, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.deleted or not path.startswith("/api/webhooks/"):
            return 404, {"message": "Unknown Webhook", "code": 10015}, {}
        now = time.monotonic()
        with self._lock:
            self._requests += 1
            if self.every_nth_429 and self._requests % self.every_nth_429 == 0:
                body_429 = {"message": "You are being rate limited.", "retry_after": 0.3}
                return 429, {**body_429, "global": False}, {"retry-after": "1"}
            while self._stamps and now - self._stamps[0] >= self.per_s:
                self._stamps.popleft()
            if len(self._stamps) >= self.limit:
                retry = self.per_s - (now - self._stamps[0])
                return (
                    429,
                    {
                        "message": "You are being rate limited.",
                        "retry_after": round(retry, 3),
                        "global": False,
                    },
                    {"retry-after": str(max(1, round(retry))), **self._limit_headers(0, retry)},
                )
            self._stamps.append(now)
            remaining = self.limit - len(self._stamps)
            reset = self.per_s - (now - self._stamps[0])
        problem = _invalid(body)
        if problem:
            return 400, {"code": 50035, "errors": problem, "message": "Invalid Form Body"}, {}
        self.messages.append(body)
        self.links.extend(_links(body))
        message = {
            "id": str(next(_ids)),
            "type": 0,
            "content": body.get("content", ""),
            "embeds": body.get("embeds", []),
        }
        headers = self._limit_headers(remaining, reset)
        return (200, message, headers) if "wait=true" in path else (204, None, headers)

    def _limit_headers(self, remaining: int, reset_after: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset-after": f"{max(reset_after, 0):.3f}",
            "x-ratelimit-reset": f"{time.time() + max(reset_after, 0):.3f}",
            "x-ratelimit-bucket": "fakebucket",
        }


_ESCAPED = re.compile(r"\\([^0-9A-Za-z\s])")
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(<?(https?://[^\s)>]+)>?\)")


def visible(text: str) -> str:
    """Markdown text as Discord shows it: an escaped punctuation character as itself."""
    return _ESCAPED.sub(r"\1", text)


def _links(body: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for e in body.get("embeds") or []:
        if e.get("url"):
            out.append((visible(e.get("title") or ""), e["url"]))
        texts = [e.get("description") or ""] + [f.get("value", "") for f in e.get("fields") or []]
        for text in texts:
            # escaped characters cannot take part in link syntax: blank them out first
            plain = _ESCAPED.sub(lambda m: "\x00" * len(m.group(0)), text)
            for m in _MASKED_LINK.finditer(plain):
                out.append((visible(text[m.start(1) : m.end(1)]), m.group(2)))
    return out


def _invalid(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict):
        return {"_errors": [{"code": "BASE_TYPE_REQUIRED"}]}
    if len(body.get("content") or "") > 2000:
        return {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
    embeds = body.get("embeds") or []
    if not body.get("content") and not embeds:
        return {"_errors": [{"code": "MESSAGE_EMPTY"}]}
    if len(embeds) > 10:
        return {"embeds": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
    total = 0
    for e in embeds:
        limits = (("title", 256), ("description", 4096))
        for key, limit in limits:
            if len(e.get(key) or "") > limit:
                return {"embeds": {key: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}
        fields = e.get("fields") or []
        if len(fields) > 25:
            return {"embeds": {"fields": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}
        for f in fields:
            if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024 or not f.get("value"):
                return {"embeds": {"fields": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}}
        footer = (e.get("footer") or {}).get("text", "")
        if len(footer) > 2048:
            return {"embeds": {"footer": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}}
        total += len(e.get("title") or "") + len(e.get("description") or "") + len(footer)
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    if total > 6000:
        return {"embeds": {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED"}]}}
    return None


@contextmanager
def running(fake: FakeDiscord | None = None) -> Iterator[tuple[FakeDiscord, str]]:
    """Yields the fake and a webhook URL on it."""
    fake = fake or FakeDiscord()
    with serve(fake.handle) as base:
        yield fake, f"{base}/api/webhooks/123/tok-abc"
