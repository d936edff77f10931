"""A fake X API v2 (timelines, mentions, recent search, user lookup, filtered stream).

Speaks the documented protocol: bearer auth, ``tweet.fields``/``expansions``
honoured (without them a post has only ``id``, ``text``,
``edit_history_tweet_ids``), ``since_id``, ``pagination_token`` /
``next_token`` pages, ``meta``, both forms of an empty page,
``x-rate-limit-*`` headers and 429s per endpoint, problem-JSON errors,
partial errors in 200 answers, and injected failures or slowness.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.http_fake import Streamed, serve
from tests.fakes.tweet_store import FakeTweet, TweetStore

Reply = tuple[int, Any, dict[str, str]]


def problem(status: int, title: str, kind: str, detail: str) -> dict[str, Any]:
    return {
        "title": title,
        "detail": detail,
        "status": status,
        "type": f"https://api.x.com/2/problems/{kind}",
    }


@dataclass
class FakeX:
    store: TweetStore = field(default_factory=TweetStore)
    token: str = "x-token"
    limit: int = 450  # requests per window per endpoint
    window_s: float = 900.0
    empty_as_list: bool = False  # `"data": []` instead of no `data` at all
    delay_s: float = 0.0
    partial_errors: bool = False
    inject: deque[Reply] = field(default_factory=deque)  # answers served before the real ones
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _windows: dict[str, deque[float]] = field(default_factory=dict)
    # filtered stream: rules by id; one script of parts per connection (bytes, pauses)
    rules: dict[str, dict[str, str]] = field(default_factory=dict)
    rule_posts: list[Any] = field(default_factory=list)
    connections: deque[Streamed] = field(default_factory=deque)
    stream_connects: int = 0
    _active: int = 0
    _rule_ids: Iterator[int] = field(
        default_factory=lambda: itertools.count(1_600_000_000_000_000_000)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        if self.delay_s:
            time.sleep(self.delay_s)
        url = urlparse(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append((url.path, params))
        if url.path.startswith("/2/tweets/search/stream"):
            status, out, extra = self._stream(method, url.path, headers, body)
        else:
            status, out, extra = self._handle(url.path, params, headers)
        self.statuses.append(status)
        return status, out, extra

    def _stream(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, problem(401, "Unauthorized", "about:blank", "Unauthorized"), {}
        sent = {"sent": "2026-11-22T00:00:00.000Z"}
        if path.endswith("/rules") and method == "GET":
            data = list(self.rules.values())
            meta = {**sent, "result_count": len(data)}
            return 200, ({"data": data, "meta": meta} if data else {"meta": meta}), {}
        if path.endswith("/rules"):
            self.rule_posts.append(body)
            if isinstance(body, dict) and "add" in body:
                added = []
                for r in body["add"]:
                    rid = str(next(self._rule_ids))
                    self.rules[rid] = {"id": rid, "value": r["value"], "tag": r.get("tag", "")}
                    added.append(self.rules[rid])
                summary = {
                    "created": len(added),
                    "not_created": 0,
                    "valid": len(added),
                    "invalid": 0,
                }
                return 201, {"data": added, "meta": {**sent, "summary": summary}}, {}
            if isinstance(body, dict) and "delete" in body:
                ids = body["delete"].get("ids", [])
                gone = [i for i in ids if self.rules.pop(i, None) is not None]
                summary = {"deleted": len(gone), "not_deleted": len(ids) - len(gone)}
                return 200, {"meta": {**sent, "summary": summary}}, {}
            return 400, problem(400, "Invalid Request", "invalid-request", "add or delete"), {}
        self.stream_connects += 1
        with self._lock:
            if self._active:
                return (
                    429,
                    {
                        "title": "ConnectionException",
                        "connection_issue": "TooManyConnections",
                        "detail": "This stream is currently at the maximum allowed"
                        " connection limit.",
                        "type": "https://api.x.com/2/problems/streaming-connection",
                    },
                    {},
                )
            if not self.connections:
                return 503, problem(503, "Service Unavailable", "about:blank", "no script"), {}
            script = self.connections.popleft()
            self._active += 1
        return 200, Streamed(self._tracked(script.parts), abrupt=script.abrupt), {}

    def _tracked(self, parts: Iterable[bytes | float]) -> Iterator[bytes | float]:
        try:
            yield from parts
        finally:
            with self._lock:
                self._active -= 1

    def _rate(self, endpoint: str) -> tuple[bool, dict[str, str]]:
        now = time.time()
        with self._lock:
            stamps = self._windows.setdefault(endpoint, deque())
            while stamps and now - stamps[0] >= self.window_s:
                stamps.popleft()
            allowed = len(stamps) < self.limit
            if allowed:
                stamps.append(now)
            reset = math.ceil((stamps[0] if stamps else now) + self.window_s)
            remaining = self.limit - len(stamps)
        return allowed, {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }

    def _handle(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, problem(401, "Unauthorized", "about:blank", "Unauthorized"), {}
        if self.inject:
            return self.inject.popleft()
        endpoint = path.rsplit("/", 1)[-1] if path.startswith("/2/users/") else path
        allowed, limits = self._rate(endpoint)
        if not allowed:
            body = {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            }
            return 429, body, limits
        parts = path.strip("/").split("/")
        if path.startswith("/2/users/by/username/"):
            name = unquote(parts[-1])
            if name not in self.store.users:
                err = problem(
                    200,
                    "Not Found Error",
                    "resource-not-found",
                    f"Could not find user with username: [{name}].",
                )
                return 200, {"errors": [err]}, limits
            return (
                200,
                {"data": {"id": str(self.store.users[name]), "name": name, "username": name}},
                limits,
            )
        if path == "/2/tweets/search/recent":
            if not params.get("query"):
                return (
                    400,
                    problem(
                        400,
                        "Invalid Request",
                        "invalid-request",
                        "The `query` query parameter can not be empty",
                    ),
                    {},
                )
            return self._list(self.store.search(params["query"]), params, limits, 10, "next_token")
        if len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] in ("tweets", "mentions"):
            by_id = {str(v): k for k, v in self.store.users.items()}
            owner = by_id.get(parts[2])
            if owner is None:
                return (
                    404,
                    problem(
                        404,
                        "Not Found Error",
                        "resource-not-found",
                        f"Could not find user with id: [{parts[2]}].",
                    ),
                    limits,
                )
            tweets = (
                self.store.timeline(owner) if parts[3] == "tweets" else self.store.mentions(owner)
            )
            return self._list(tweets, params, limits, 5, "pagination_token")
        return 404, problem(404, "Not Found", "about:blank", f"no route {path}"), {}

    def _list(
        self,
        tweets: list[FakeTweet],
        params: dict[str, str],
        limits: dict[str, str],
        min_results: int,
        token_param: str,
    ) -> Reply:
        try:
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            max_results = -1
        if not min_results <= max_results <= 100:
            return (
                400,
                problem(
                    400,
                    "Invalid Request",
                    "invalid-request",
                    f"`max_results` must be between {min_results} and 100",
                ),
                limits,
            )
        since = int(params.get("since_id") or 0)
        tweets = [t for t in tweets if t.id > since]
        token = params.get(token_param) or params.get("pagination_token")
        start = int(token[1:]) if token else 0
        page = tweets[start : start + max_results]
        if not page:
            return (
                200,
                (
                    {"data": [], "meta": {"result_count": 0}}
                    if self.empty_as_list
                    else {"meta": {"result_count": 0}}
                ),
                limits,
            )
        fields = set((params.get("tweet.fields") or "").split(","))
        data = [_x_tweet(t, fields) for t in page]
        meta: dict[str, Any] = {
            "newest_id": str(page[0].id),
            "oldest_id": str(page[-1].id),
            "result_count": len(page),
        }
        if start + max_results < len(tweets):
            meta["next_token"] = f"p{start + max_results}"
        out: dict[str, Any] = {"data": data, "meta": meta}
        if "author_id" in (params.get("expansions") or ""):
            ufields = set((params.get("user.fields") or "").split(","))
            seen = {t.author: t for t in page}
            out["includes"] = {"users": [_x_user(t, ufields) for t in seen.values()]}
        if self.partial_errors:
            out["errors"] = [
                problem(
                    200,
                    "Authorization Error",
                    "not-authorized-for-resource",
                    "Sorry, you are not authorized to see the Tweet with id: [1].",
                )
            ]
        return 200, out, limits


def _x_tweet(t: FakeTweet, fields: set[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": str(t.id), "text": t.text, "edit_history_tweet_ids": [str(t.id)]}
    extra = {
        "author_id": str(t.author_id),
        "created_at": t.created_at.isoformat().replace("+00:00", ".000Z"),
        "conversation_id": str(t.id),
        "lang": t.lang,
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": 3,
            "quote_count": 0,
            "impression_count": 40,
        },
    }
    doc.update({k: v for k, v in extra.items() if k in fields})
    return doc


def _x_user(t: FakeTweet, fields: set[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": str(t.author_id), "name": t.author, "username": t.author}
    if "public_metrics" in fields:
        doc["public_metrics"] = {"followers_count": t.followers, "following_count": 1}
    return doc


@contextmanager
def running(fake: FakeX | None = None) -> Iterator[tuple[FakeX, str]]:
    fake = fake or FakeX()
    with serve(fake.handle) as url:
        yield fake, url


def stream_line(t: FakeTweet, tags: list[str]) -> bytes:
    """One stream message as X sends it, ``\\r\\n``-terminated."""
    import orjson

    fields = {"author_id", "created_at", "conversation_id", "lang", "public_metrics"}
    doc = {
        "data": _x_tweet(t, fields),
        "includes": {"users": [_x_user(t, {"public_metrics"})]},
        "matching_rules": [{"id": "1", "tag": tag} for tag in tags],
    }
    return orjson.dumps(doc) + b"\r\n"
