"""A fake Telegram Bot API ``sendMessage`` that parses MarkdownV2 like Telegram does.

Unescaped reserved characters outside entities give 400 "can't parse
entities"; text over 4096 characters after parsing gives 400 "message is too
long"; a chat can be blocked (403), migrated to a supergroup (400 with
``migrate_to_chat_id``) or flooded (429 with ``parameters.retry_after``,
1 message per second per chat by default).
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_fake import serve

RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(text: str, links: list[tuple[str, str]] | None = None) -> str | None:
    """The visible text, or None when Telegram would refuse to parse it.

    Supports what chirpflow sends: escapes, *bold* and [label](url); the links
    a reader could click are appended to ``links`` as (label, url).
    """
    out: list[str] = []
    i, bold = 0, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                return None
            out.append(text[i + 1])
            i += 2
            continue
        if c == "*":
            bold = not bold
            i += 1
            continue
        if c == "[":
            close = _find_unescaped(text, "]", i + 1)
            if close < 0 or close + 1 >= len(text) or text[close + 1] != "(":
                return None
            end = _find_unescaped(text, ")", close + 2)
            if end < 0:
                return None
            label = parse_markdown_v2(text[i + 1 : close])
            if label is None:
                return None
            out.append(label)
            if links is not None:
                links.append((label, re.sub(r"\\(.)", r"\1", text[close + 2 : end])))
            i = end + 1
            continue
        if c in RESERVED:
            return None
        out.append(c)
        i += 1
    return None if bold else "".join(out)


def _find_unescaped(text: str, ch: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == ch:
            return i
        i += 1
    return -1


@dataclass
class FakeTelegram:
    token: str = "123:ABC"
    per_chat_interval_s: float = 1.0
    every_nth_429: int = 0  # also flood-wait every Nth message (limits shared with others)
    blocked: set[str] = field(default_factory=set)
    migrations: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)  # accepted requests
    visible: list[str] = field(default_factory=list)  # text as users see it
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) users can click
    errors: list[int] = field(default_factory=list)
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1
    _requests: int = 0

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        status, out = self._handle(path, body)
        if status != 200:
            self.errors.append(status)
        return status, out, {}

    def _error(self, code: int, description: str, **params: Any) -> tuple[int, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if params:
            out["parameters"] = params
        return code, out

    def _handle(self, path: str, body: Any) -> tuple[int, Any]:
        if path == f"/bot{self.token}/getMe":
            return 200, {
                "ok": True,
                "result": {
                    "id": 7,
                    "is_bot": True,
                    "first_name": "chirpflow",
                    "username": "chirpflow_bot",
                },
            }
        if path.endswith("/getMe"):
            return self._error(401, "Unauthorized")
        if path != f"/bot{self.token}/sendMessage":
            return self._error(404, "Not Found")
        chat = str(body.get("chat_id"))
        if chat in self.migrations:
            return self._error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=int(self.migrations[chat]),
            )
        if chat in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        text = body.get("text") or ""
        mode = body.get("parse_mode")
        links: list[tuple[str, str]] = []
        if mode == "MarkdownV2":
            visible = parse_markdown_v2(text, links)
        elif mode == "HTML":
            links = [
                (html.unescape(label), html.unescape(url))
                for url, label in re.findall(r'<a href="([^"]*)">(.*?)</a>', text)
            ]
            visible = html.unescape(re.sub(r"<[^>]+>", "", text))
        else:
            visible = text
        if visible is None:
            return self._error(400, "Bad Request: can't parse entities: reserved character")
        if not 1 <= len(visible) <= 4096:
            return self._error(400, "Bad Request: message is too long")
        now = time.monotonic()
        with self._lock:
            self._requests += 1
            if self.every_nth_429 and self._requests % self.every_nth_429 == 0:
                return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
            last = self._last.get(chat)
            if last is not None and now - last < self.per_chat_interval_s:
                wait = self.per_chat_interval_s - (now - last)
                return self._error(
                    429,
                    f"Too Many Requests: retry after {wait:.0f}",
                    retry_after=max(1, round(wait)),
                )
            self._last[chat] = now
            self.messages.append(body)
            self.visible.append(visible)
            self.links.extend(links)
            message_id = self._next_id
            self._next_id += 1
        return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": chat}}}


@contextmanager
def running(fake: FakeTelegram | None = None) -> Iterator[tuple[FakeTelegram, str]]:
    """Yields the fake and its base URL (a self-hosted Bot API server's address)."""
    fake = fake or FakeTelegram()
    with serve(fake.handle) as base:
        yield fake, base
