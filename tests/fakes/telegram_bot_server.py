"""A fake Telegram Bot API for an approval bot: updates in, messages and edits out.

Speaks ``getMe``, ``deleteWebhook``, ``getUpdates`` (offset confirms, the
call is held up to ``timeout`` seconds until an update arrives),
``sendMessage`` (with ``reply_markup``), ``answerCallbackQuery`` (400 for an
unknown or already answered query), ``editMessageText`` (400 "message is not
modified" when unchanged). Tests act as chosen users with ``command``,
``say`` and ``press``; ``chat`` holds every message as it now reads.
Bodies come as JSON or form fields (JSON-encoded values), as clients send them.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlparse

import orjson

from tests.fakes.http_fake import serve

Reply = tuple[int, Any, dict[str, str]]


def _fields(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes | bytearray):
        out: dict[str, Any] = {}
        for k, v in parse_qsl(body.decode(), keep_blank_values=True):
            try:
                out[k] = orjson.loads(v)
            except orjson.JSONDecodeError:
                out[k] = v
        return out
    return {}


@dataclass
class FakeTelegramBot:
    token: str = "123:bot-token"
    username: str = "ChirpBot"
    chat_id: int = -1001
    base_url: str = ""
    flood: int = 0  # the next sendMessage calls answered 429 (retry_after 1)
    conflict: bool = False  # getUpdates answers 409 (another poller)
    webhook: dict[str, Any] = field(default_factory=dict)  # setWebhook arguments
    updates: list[dict[str, Any]] = field(default_factory=list)
    chat: dict[int, dict[str, Any]] = field(default_factory=dict)  # message_id -> message
    answers: list[dict[str, Any]] = field(default_factory=list)  # answerCallbackQuery calls
    confirmed: int = 0  # every update_id below this was confirmed
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(500))
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _open_queries: set[str] = field(default_factory=set)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    # acting as users
    def _push(self, update: dict[str, Any]) -> None:
        with self._cond:
            update["update_id"] = next(self._update_ids)
            self.updates.append(update)
            self._cond.notify_all()

    def _user(self, user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"u{user_id}",
            "username": f"user{user_id}",
        }

    def say(self, user_id: int, text: str, reply_to: int | None = None) -> None:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": {"id": self.chat_id, "type": "supergroup", "title": "admins"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None:
            message["reply_to_message"] = self.chat[reply_to]
        self._push({"message": message})

    command = say

    def press(self, user_id: int, message_id: int, data: str) -> str:
        query_id = f"q{next(self._update_ids)}"
        self._open_queries.add(query_id)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id),
                    "message": self.chat[message_id],
                    "chat_instance": "ci-1",
                    "data": data,
                }
            }
        )
        return query_id

    def buttons(self, message_id: int) -> list[tuple[str, str]]:
        markup = self.chat[message_id].get("reply_markup") or {}
        return [
            (b["text"], b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.chat.values() if m["from"].get("is_bot")]

    # the API
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        parts = urlparse(path).path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != f"bot{self.token}":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        name, args = parts[1], _fields(body)
        fn = getattr(self, f"_api_{name}", None)
        if fn is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        if name == "sendMessage" and self.flood > 0:
            self.flood -= 1
            return (
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                {},
            )
        if name == "getUpdates" and self.conflict:
            return (
                409,
                {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: terminated by"
                    " other getUpdates request; make sure that only one bot instance is"
                    " running",
                },
                {},
            )
        status, result = fn(args)
        if status != 200:
            return status, {"ok": False, "error_code": status, "description": result}, {}
        return 200, {"ok": True, "result": result}, {}

    def _api_getMe(self, args: dict[str, Any]) -> tuple[int, Any]:
        return 200, {
            "id": 123,
            "is_bot": True,
            "first_name": "Chirp",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_deleteWebhook(self, args: dict[str, Any]) -> tuple[int, Any]:
        self.webhook = {}
        return 200, True

    def _api_setWebhook(self, args: dict[str, Any]) -> tuple[int, Any]:
        secret = str(args.get("secret_token") or "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            return 400, "Bad Request: secret token contains unallowed characters"
        self.webhook = dict(args)
        return 200, True

    def webhook_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """An update as Telegram POSTs it to the webhook (it is not queued for getUpdates)."""
        with self._cond:
            update["update_id"] = next(self._update_ids)
        return update

    def press_via_webhook(self, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        query_id = f"q{next(self._update_ids)}"
        self._open_queries.add(query_id)
        return self.webhook_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id),
                    "message": self.chat[message_id],
                    "chat_instance": "ci-1",
                    "data": data,
                }
            }
        )

    def _api_getUpdates(self, args: dict[str, Any]) -> tuple[int, Any]:
        if self.webhook.get("url"):
            return 409, (
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first"
            )
        offset = int(args.get("offset") or 0)
        limit = int(args.get("limit") or 100)
        deadline = time.monotonic() + float(args.get("timeout") or 0)
        with self._cond:
            if offset:
                self.confirmed = max(self.confirmed, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return 200, self.updates[:limit]

    def _bot_message(self, args: dict[str, Any], message_id: int) -> dict[str, Any]:
        message = {
            "message_id": message_id,
            "from": {"id": 123, "is_bot": True, "first_name": "Chirp", "username": self.username},
            "chat": {"id": int(args["chat_id"]), "type": "supergroup", "title": "admins"},
            "date": int(time.time()),
            "text": str(args["text"]),
        }
        if args.get("reply_markup") and "inline_keyboard" in args["reply_markup"]:
            message["reply_markup"] = args["reply_markup"]
        return message

    def _api_sendMessage(self, args: dict[str, Any]) -> tuple[int, Any]:
        if not str(args.get("text", "")).strip():
            return 400, "Bad Request: message text is empty"
        with self._cond:
            message = self._bot_message(args, next(self._message_ids))
            self.chat[message["message_id"]] = message
        return 200, message

    def _api_answerCallbackQuery(self, args: dict[str, Any]) -> tuple[int, Any]:
        qid = str(args.get("callback_query_id"))
        if qid not in self._open_queries:
            return 400, (
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self._open_queries.discard(qid)
        self.answers.append(args)
        return 200, True

    def _api_editMessageText(self, args: dict[str, Any]) -> tuple[int, Any]:
        mid = int(args.get("message_id") or 0)
        with self._cond:
            old = self.chat.get(mid)
            if old is None:
                return 400, "Bad Request: message to edit not found"
            new = self._bot_message(args, mid)
            if new["text"] == old["text"] and new.get("reply_markup") == old.get("reply_markup"):
                return 400, (
                    "Bad Request: message is not modified: specified new message"
                    " content and reply markup are exactly the same as a current"
                    " content and reply markup of the message"
                )
            self.chat[mid] = new
        return 200, new


@contextmanager
def fake_telegram_bot(fake: FakeTelegramBot | None = None) -> Iterator[FakeTelegramBot]:
    fake = fake or FakeTelegramBot()
    with serve(fake.handle) as url:
        fake.base_url = url
        yield fake
