"""A fake Reddit OAuth API (token endpoint and listings).

Speaks the documented protocol: ``POST /api/v1/access_token`` with Basic
``client_id:secret`` (``client_credentials`` or ``password`` grants; grant
errors as 200 ``{"error": ..}``, bad client 401), bearer-only reads
(401 ``{"error":401}`` + ``www-authenticate`` on a bad or expired token),
default User-Agents throttled (429 HTML), listings ``/r/{sub}/new``,
``/r/{sub}/comments``, ``/user/{name}/submitted``, ``/search`` newest first
with ``limit`` and ``after`` or ``before`` fullnames (both kinds of empty
page: no cursor, or one still named), ``X-Ratelimit-Used/Remaining/Reset`` and
429s, private (403), banned (404) and unknown (302) subreddits, removed posts,
and injected answers (malformed JSON, 5xx).
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_fake import serve

Reply = tuple[int, Any, dict[str, str]]
T0 = 1_790_000_000.0  # created_utc of the first post (2026-09)


@dataclass
class FakeReddit:
    client_id: str = "cid"
    secret: str = "csecret"
    username: str | None = None
    password: str | None = None
    limit: int = 600  # requests per window (Reddit: 600 per 10 minutes)
    window_s: float = 600.0
    private: set[str] = field(default_factory=set)
    banned: set[str] = field(default_factory=set)
    empty_with_after: bool = False  # an empty page that still names `after`/`before`
    inject: deque[Reply] = field(default_factory=deque)  # served before real answers
    posts: list[dict[str, Any]] = field(default_factory=list)  # oldest first, t3 and t1
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    used: int = 0
    _window_start: float = field(default_factory=time.monotonic)
    _next: int = 1_000_000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- content ---------------------------------------------------------------
    def post(self, sub: str, author: str, title: str, n: int = 1, body: str = "") -> list[str]:
        """``n`` new posts in ``sub``; returns their fullnames (oldest first)."""
        out = []
        with self._lock:
            for i in range(n):
                self._next += 1
                b36 = _base36(self._next)
                self.posts.append(
                    {
                        "kind": "t3",
                        "data": {
                            "id": b36,
                            "name": f"t3_{b36}",
                            "title": f"{title} {i}" if n > 1 else title,
                            "selftext": body,
                            "author": author,
                            "author_fullname": f"t2_{author}",
                            "subreddit": sub,
                            "created_utc": T0 + self._next,
                            "permalink": f"/r/{sub}/comments/{b36}/post/",
                            "url": f"https://www.reddit.com/r/{sub}/comments/{b36}/post/",
                            "score": i,
                            "num_comments": 0,
                        },
                    }
                )
                out.append(f"t3_{b36}")
        return out

    def comment(self, sub: str, author: str, body: str, on: str) -> str:
        with self._lock:
            self._next += 1
            b36 = _base36(self._next)
            self.posts.append(
                {
                    "kind": "t1",
                    "data": {
                        "id": b36,
                        "name": f"t1_{b36}",
                        "body": body,
                        "author": author,
                        "subreddit": sub,
                        "link_id": on,
                        "parent_id": on,
                        "created_utc": T0 + self._next,
                        "permalink": f"/r/{sub}/comments/{on[3:]}/post/{b36}/",
                        "score": 1,
                    },
                }
            )
        return f"t1_{b36}"

    def take_down(self, fullname: str) -> None:
        """Gone from listings (removed by moderators or spam-filtered): a ``before``
        or ``after`` naming it then answers an empty page, as Reddit does."""
        with self._lock:
            self.posts = [p for p in self.posts if p["data"]["name"] != fullname]

    def remove(self, fullname: str) -> None:
        for p in self.posts:
            if p["data"]["name"] == fullname:
                p["data"]["selftext"] = "[removed]"

    # -- protocol ----------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        url = urlparse(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append((url.path, params))
            status, out, extra = self._handle(method, url.path, params, headers, body)
            self.statuses.append(status)
        return status, out, extra

    def _handle(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if path == "/api/v1/access_token" and method == "POST":
            return self._token(headers, body)
        if self.inject:
            return self.inject.popleft()
        ua = headers.get("user-agent", "")
        self.agents.add(ua)
        if not ua or ua.startswith(("python-httpx", "python-requests", "curl")):
            return 429, b"<html><body>Too Many Requests</body></html>", {"retry-after": "2"}
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or auth[7:] not in self.tokens:
            return (
                401,
                {"message": "Unauthorized", "error": 401},
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        now = time.monotonic()
        if now >= self._window_start + self.window_s:
            self._window_start, self.used = now, 0
        self.used += 1
        remaining = max(0, self.limit - self.used)
        rl = {
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-remaining": f"{float(remaining):.1f}",
            "x-ratelimit-reset": str(math.ceil(self._window_start + self.window_s - now)),
        }
        if self.used > self.limit:
            return 429, {"message": "Too Many Requests", "error": 429}, rl
        parts = path.strip("/").split("/")
        if parts[0] == "r" and len(parts) == 3:
            sub, what = parts[1], parts[2]
            if sub in self.private:
                return 403, {"reason": "private", "message": "Forbidden", "error": 403}, rl
            if sub in self.banned:
                return 404, {"reason": "banned", "message": "Not Found", "error": 404}, rl
            if not any(p["data"]["subreddit"] == sub for p in self.posts):
                return 302, None, {**rl, "location": f"/subreddits/search.json?q={sub}"}
            kind = "t1" if what == "comments" else "t3"
            items = [p for p in self.posts if p["data"]["subreddit"] == sub and p["kind"] == kind]
        elif parts[0] == "user" and len(parts) == 3:
            items = [p for p in self.posts if p["data"]["author"] == parts[1] and p["kind"] == "t3"]
        elif parts == ["search"]:
            q = params.get("q", "").lower()
            items = [
                p
                for p in self.posts
                if p["kind"] == "t3" and q in (p["data"]["title"] + p["data"]["selftext"]).lower()
            ]
        else:
            return 404, {"message": "Not Found", "error": 404}, rl
        return 200, self._listing(items, params), rl

    def _listing(self, items: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        """A page newest first. ``after`` (a fullname): the ``limit`` just older;
        ``before``: the ``limit`` just newer, with ``before`` naming the page's
        newest while there are newer still. An anchor no longer listed: empty."""
        newest_first = list(reversed(items))
        names = [p["data"]["name"] for p in newest_first]
        limit = min(100, int(params.get("limit", "25")))
        after, before = params.get("after"), params.get("before")
        if before:
            newer = newest_first[: names.index(before)] if before in names else []
            page = newer[-limit:]
            next_after = page[-1]["data"]["name"] if page else None
            next_before = page[0]["data"]["name"] if len(newer) > limit else None
            if not page and self.empty_with_after:
                next_before = before
        else:
            if after:
                newest_first = newest_first[names.index(after) + 1 :] if after in names else []
            page = newest_first[:limit]
            more = len(newest_first) > limit
            next_after = page[-1]["data"]["name"] if page and more else None
            next_before = None
            if not page and self.empty_with_after:
                next_after = after
        return {
            "kind": "Listing",
            "data": {
                "after": next_after,
                "before": next_before,
                "dist": len(page),
                "modhash": "",
                "children": page,
            },
        }

    def _token(self, headers: dict[str, str], body: Any) -> Reply:
        basic = headers.get("authorization", "")
        want = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        if basic != f"Basic {want}":
            return 401, {"message": "Unauthorized", "error": 401}, {}
        form = {
            k: v[0] for k, v in parse_qs(body.decode() if isinstance(body, bytes) else "").items()
        }
        grant = form.get("grant_type")
        if grant == "password":
            if (form.get("username"), form.get("password")) != (self.username, self.password):
                return 200, {"error": "invalid_grant"}, {}
        elif grant != "client_credentials":
            return 200, {"error": "unsupported_grant_type"}, {}
        token = f"tok{len(self.tokens) + 1}"
        self.tokens.add(token)
        return (
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": "*"},
            {},
        )

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


@contextmanager
def running(fake: FakeReddit | None = None) -> Iterator[tuple[FakeReddit, str]]:
    fake = fake or FakeReddit()
    with serve(fake.handle) as url:
        yield fake, url
