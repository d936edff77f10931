"""Telegram Bot API sender: MarkdownV2 escaped correctly, long text split, errors handled.

- MarkdownV2: outside entities each of ``_*[]()~`>#+-=|{}.!`` and ``\\`` is
  escaped; inside a link URL only ``)`` and ``\\``.
- Messages longer than 4096 characters are split.
- Messages are at least ``min_interval`` apart (Telegram allows about one
  per second per chat).
- 429: ``parameters.retry_after`` is remembered (``ready_in``) and, for the
  first message of a notification, raised as ``RateLimited`` (nothing was
  sent). 400 "can't parse entities": resent as plain text.
  ``parameters.migrate_to_chat_id``: the group became a supergroup; the new
  id is remembered and the message resent. 403 (bot blocked / kicked) or
  "chat not found": the channel is disabled.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from chirpflow.connectors.notify.channel import ChannelGone, RateLimited, Rejected, Transient
from chirpflow.model import Notification
from chirpflow.platforms import site_name

LIMIT = 4096
MAX_RETRIES = 5
_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")


def escape(text: str) -> str:
    """MarkdownV2 text outside entities."""
    return _SPECIAL.sub(r"\\\1", text)


def escape_url(url: str) -> str:
    return url.replace("\\", "\\\\").replace(")", "\\)")


def render(n: Notification) -> tuple[str, str]:
    """``(markdown_v2, plain)`` forms of the notification."""
    md = [f"*{escape(n.title)}*", escape(n.body)]
    plain = [n.title, n.body]
    if n.fields:
        md.append("\n".join(f"{escape(k)}: {escape(v)}" for k, v in n.fields))
        plain.append("\n".join(f"{k}: {v}" for k, v in n.fields))
    for label, url in n.links:
        md.append(f"[{escape(label)}]({escape_url(url)})")
        plain.append(f"{label}: {url}")
    if n.url:
        md.append(f"[open on {escape(site_name(n.url))}]({escape_url(n.url)})")
        plain.append(n.url)
    return "\n\n".join(md), "\n\n".join(plain)


def render_html(n: Notification) -> str:
    """HTML form: only ``< > &`` (and quotes in attributes) need escaping."""
    parts = [f"<b>{html.escape(n.title)}</b>", html.escape(n.body)]
    if n.fields:
        parts.append("\n".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in n.fields))
    parts += [f'<a href="{html.escape(u)}">{html.escape(label)}</a>' for label, u in n.links]
    if n.url:
        site = html.escape(site_name(n.url))
        parts.append(f'<a href="{html.escape(n.url)}">open on {site}</a>')
    return "\n\n".join(parts)


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, at line breaks where possible, never
    inside an escape sequence."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
            while cut > 0 and text[cut - 1] == "\\":  # do not separate "\" from its char
                cut -= 1
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


class TelegramChannel:
    def __init__(
        self,
        name: str,
        token: str,
        chat_id: str,
        base_url: str = "https://api.telegram.org",
        parse_mode: str = "MarkdownV2",
        on_migrate: Callable[[str, str], None] | None = None,
        timeout: float = 10.0,
        min_interval: float = 0.0,
    ) -> None:
        self.name = name
        self.min_interval = min_interval  # paced so that Telegram rarely answers 429
        self.chat_id = chat_id
        self.parse_mode = parse_mode
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self._http = httpx.Client(timeout=timeout)
        self._on_migrate = on_migrate
        self._not_before = 0.0  # from a 429's retry_after

    def ready_in(self) -> float:
        return max(0.0, self._not_before - time.monotonic())

    def send(self, n: Notification) -> str:
        md, plain = render(n)
        if self.parse_mode == "HTML":
            md = render_html(n)
        ids = []
        formatted = split(md)
        plains = split(plain)
        for i, piece in enumerate(formatted):
            fallback = plains[i] if i < len(plains) else piece
            ids.append(self._post(piece, fallback, first=i == 0))
        return ",".join(ids)

    def _post(self, text: str, plain: str, first: bool = True) -> str:
        """One message; a first message is sent at once or not at all (``RateLimited``),
        a later part waits, since the earlier parts are already delivered."""
        body: dict[str, Any] = {
            "chat_id": self.chat_id,
            "text": text,
            "parse_mode": self.parse_mode,
            "link_preview_options": {"is_disabled": True},
        }
        for _ in range(MAX_RETRIES):
            wait = self.ready_in()
            if wait > 0:
                if first:
                    raise RateLimited("telegram: flood wait", wait)
                time.sleep(wait)  # the notification is already partly delivered
            body["chat_id"] = self.chat_id
            try:
                r = self._http.post(self._url, json=body)
            except httpx.HTTPError as err:
                raise Transient(f"telegram: {type(err).__name__}") from err
            try:
                data = r.json()
            except ValueError:
                raise Transient(f"telegram {r.status_code}: not JSON") from None
            if data.get("ok"):
                paced = time.monotonic() + self.min_interval
                self._not_before = max(self._not_before, paced)
                return str(data["result"].get("message_id", ""))
            code = data.get("error_code", r.status_code)
            description = str(data.get("description", ""))
            params = data.get("parameters") or {}
            if code == 429:
                retry = float(params.get("retry_after", 1))
                self._not_before = max(self._not_before, time.monotonic() + retry)
                if first:
                    raise RateLimited(f"telegram 429 (retry after {retry:g}s)", retry)
                continue
            if "migrate_to_chat_id" in params:
                self.chat_id = str(params["migrate_to_chat_id"])
                if self._on_migrate:
                    self._on_migrate(self.name, self.chat_id)
                continue
            if code == 400 and "can't parse entities" in description:
                body.pop("parse_mode", None)
                body["text"] = plain
                continue
            if code in (401, 403) or "chat not found" in description:
                raise ChannelGone(f"telegram {code}: {description}")
            if code >= 500:
                raise Transient(f"telegram {code}: {description}")
            raise Rejected(f"telegram {code}: {description}")
        raise Transient("telegram: still failing after retries")

    def close(self) -> None:
        self._http.close()
