"""A fake Bluesky AppView / PDS (XRPC reads, app-password login).

``app.bsky.feed.searchPosts`` (``q``, ``sort=latest``, ``limit``, opaque
``cursor``) and ``app.bsky.feed.getAuthorFeed`` (``actor``, feed items with
reposts marked by ``reason``), PostViews as the AppView sends them;
``com.atproto.server.createSession`` (bad login 401 ``AuthenticationRequired``),
``com.atproto.server.refreshSession`` (Bearer refresh JWT, rotated on each use;
an expired or used one 400 ``ExpiredToken``), expired access tokens (400
``ExpiredToken``), unauthenticated search refused with the 403 HTML page
when ``public_search`` is off, ``RateLimit-*`` headers and 429
``RateLimitExceeded``, both kinds of empty page (no cursor, or a cursor on an
empty page) and injected answers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_fake import serve

Reply = tuple[int, Any, dict[str, str]]
T0 = datetime(2026, 9, 1, tzinfo=UTC)
_TID = "abcdefghijklmnopqrstuvwxyz234567"


@dataclass
class FakeBluesky:
    handle: str | None = None  # an account that may log in
    app_password: str | None = None
    public_search: bool = True
    limit: int = 3000  # per window (the PDS: 3,000 per 5 minutes)
    window_s: float = 300.0
    cursor_on_empty: bool = False
    inject: deque[Reply] = field(default_factory=deque)
    posts: list[dict[str, Any]] = field(default_factory=list)  # PostViews, oldest first
    reposts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (by handle, view)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    used: int = 0
    _window_start: float = field(default_factory=time.time)
    _n: int = 0
    _sessions: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, handle: str, text: str, n: int = 1) -> list[str]:
        """``n`` new posts by ``handle``; their at:// URIs, oldest first."""
        out = []
        with self._lock:
            for i in range(n):
                self._n += 1
                did = f"did:plc:{handle.split('.')[0]}"
                rkey = "3l" + "".join(_TID[(self._n >> (5 * k)) % 32] for k in range(10, -1, -1))
                uri = f"at://{did}/app.bsky.feed.post/{rkey}"
                at = (T0 + timedelta(seconds=self._n)).isoformat().replace("+00:00", "Z")
                self.posts.append(
                    {
                        "uri": uri,
                        "cid": f"bafy{self._n}",
                        "author": {"did": did, "handle": handle, "displayName": handle},
                        "record": {
                            "$type": "app.bsky.feed.post",
                            "text": f"{text} {i}" if n > 1 else text,
                            "createdAt": at,
                            "langs": ["en"],
                        },
                        "replyCount": 0,
                        "repostCount": 0,
                        "likeCount": i,
                        "quoteCount": 0,
                        "indexedAt": at,
                        "labels": [],
                    }
                )
                out.append(uri)
        return out

    def repost(self, by: str, uri: str) -> None:
        view = next(p for p in self.posts if p["uri"] == uri)
        self.reposts.append((by, view))

    def handle_req(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        url = urlparse(path)
        params = parse_qs(url.query)
        with self._lock:
            self.requests.append((url.path, params))
            status, out, extra = self._handle(method, url.path, params, headers, body)
            self.statuses.append(status)
        return status, out, extra

    def _handle(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        nsid = path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession" and method == "POST":
            ok = isinstance(body, dict) and self.handle is not None
            if ok and (body.get("identifier"), body.get("password")) == (
                self.handle,
                self.app_password,
            ):
                return 200, self._session(), {}
            return (
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                {},
            )
        if nsid == "com.atproto.server.refreshSession" and method == "POST":
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer "):
                return (
                    401,
                    {"error": "AuthenticationRequired", "message": "Authentication Required"},
                    {},
                )
            if auth[7:] not in self.refresh_tokens:
                return 400, {"error": "ExpiredToken", "message": "Token has expired"}, {}
            self.refresh_tokens.discard(auth[7:])  # rotated: a refresh JWT is good once
            return 200, self._session(), {}
        if self.inject:
            return self.inject.popleft()
        auth = headers.get("authorization", "")
        authed = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if auth and not authed:
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}, {}
        now = time.time()
        if now >= self._window_start + self.window_s:
            self._window_start, self.used = now, 0
        self.used += 1
        rl = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(max(0, self.limit - self.used)),
            "ratelimit-reset": str(math.ceil(self._window_start + self.window_s)),
            "ratelimit-policy": f"{self.limit};w=300",
        }
        if self.used > self.limit:
            return (
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {**rl, "retry-after": "1"},
            )
        one = {k: v[0] for k, v in params.items()}
        if nsid == "com.atproto.identity.resolveHandle":
            for p in self.posts:
                if p["author"]["handle"] == one.get("handle"):
                    return 200, {"did": p["author"]["did"]}, rl
            return 400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}, rl
        if nsid == "app.bsky.feed.searchPosts":
            if not authed and not self.public_search:
                html = (
                    b"<html><body><h1>403 Forbidden</h1>"
                    b"Request forbidden by administrative rules.</body></html>"
                )
                return 403, html, {"content-type": "text/html"}
            if not one.get("q"):
                return (
                    400,
                    {
                        "error": "InvalidRequest",
                        "message": 'Error: Params must have the property "q"',
                    },
                    rl,
                )
            q = one["q"].lower()
            items = [p for p in reversed(self.posts) if q in p["record"]["text"].lower()]
            page, cursor = self._page(items, one)
            out: dict[str, Any] = {"posts": page, "hitsTotal": len(items)}
        elif nsid == "app.bsky.feed.getAuthorFeed":
            actor = one.get("actor", "")
            mine = [
                ({"post": p}, p["indexedAt"])
                for p in self.posts
                if actor in (p["author"]["handle"], p["author"]["did"])
            ]
            shared = [
                (
                    {
                        "post": v,
                        "reason": {
                            "$type": "app.bsky.feed.defs#reasonRepost",
                            "by": {"handle": by},
                        },
                    },
                    v["indexedAt"],
                )
                for by, v in self.reposts
                if by == actor
            ]
            if not mine and not shared:
                return 400, {"error": "InvalidRequest", "message": "Profile not found"}, rl
            items = [i for i, _ in sorted(mine + shared, key=lambda x: x[1], reverse=True)]
            page, cursor = self._page(items, one)
            out = {"feed": page}
        else:
            return 501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, rl
        if cursor is not None:
            out["cursor"] = cursor
        return 200, out, rl

    def _session(self) -> dict[str, Any]:
        self._sessions += 1
        token = f"jwt{self._sessions}"
        self.tokens.add(token)
        self.refresh_tokens.add("r" + token)
        did = f"did:plc:{(self.handle or '').split('.')[0]}"
        return {"accessJwt": token, "refreshJwt": "r" + token, "handle": self.handle, "did": did}

    def _page(self, items: list[Any], params: dict[str, str]) -> tuple[list[Any], str | None]:
        start = int(params.get("cursor") or 0)
        limit = min(100, int(params.get("limit", "25")))
        page = items[start : start + limit]
        more = start + limit < len(items)
        if more:
            return page, str(start + limit)
        return page, (str(start + len(page)) if self.cursor_on_empty else None)

    def expire_tokens(self, refresh: bool = False) -> None:
        """Access tokens expire (and refresh tokens too with ``refresh``)."""
        with self._lock:
            self.tokens.clear()
            if refresh:
                self.refresh_tokens.clear()


@contextmanager
def running(fake: FakeBluesky | None = None) -> Iterator[tuple[FakeBluesky, str]]:
    fake = fake or FakeBluesky()
    with serve(fake.handle_req) as url:
        yield fake, url
