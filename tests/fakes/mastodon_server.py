"""A fake Mastodon instance (REST reads).

``/api/v1/timelines/tag/:tag``, ``/api/v1/accounts/lookup``,
``/api/v1/accounts/:id/statuses`` (newest first, ``max_id``/``since_id``/
``min_id``/``limit`` <= 40, ``Link`` headers with ``rel="next"``/``"prev"``),
``/api/v2/search?type=statuses`` (statuses only for a signed-in account;
``offset``/``resolve`` without a token 401; ``max_id``/``min_id``/``offset``),
an optional required token
(401 ``The access token is invalid``), ``X-RateLimit-*`` headers with an ISO
reset and 429 ``Too many requests``, 404 ``Record not found``, HTML content with
mentions, links, entities and scripts, boosts, and injected answers.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.http_fake import Streamed, serve

Reply = tuple[int, Any, dict[str, str]]
T0 = datetime(2026, 9, 1, tzinfo=UTC)
HOST = "mastodon.example"


@dataclass
class FakeMastodon:
    token: str | None = None  # when set, every call needs it
    limit: int = 300  # per 5 minutes
    inject: deque[Reply] = field(default_factory=deque)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    used: int = 0
    base: str = ""
    # streaming: one script per connection (bytes and pauses); none left = an empty stream
    streams: deque[Streamed] = field(default_factory=deque)
    stream_connects: int = 0
    _n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def toot(
        self, user: str, content_html: str, n: int = 1, tags: list[str] | None = None
    ) -> list[str]:
        """``n`` public statuses by ``user``; their uris (oldest first)."""
        out = []
        with self._lock:
            for i in range(n):
                self._n += 1
                sid = str(113_000_000_000_000_000 + self._n)
                uri = f"https://{HOST}/users/{user}/statuses/{sid}"
                body = content_html.replace("{i}", str(i))
                self.statuses.append(
                    {
                        "id": sid,
                        "uri": uri,
                        "url": f"https://{HOST}/@{user}/{sid}",
                        "created_at": (T0 + timedelta(seconds=self._n))
                        .isoformat()
                        .replace("+00:00", ".000Z"),
                        "content": body,
                        "spoiler_text": "",
                        "visibility": "public",
                        "language": "en",
                        "in_reply_to_id": None,
                        "reblog": None,
                        "account": {
                            "id": str(1000 + sum(map(ord, user))),
                            "username": user,
                            "acct": user,
                            "url": f"https://{HOST}/@{user}",
                            "followers_count": 10,
                        },
                        "tags": [
                            {"name": t, "url": f"https://{HOST}/tags/{t}"} for t in tags or []
                        ],
                        "reblogs_count": 0,
                        "favourites_count": i,
                        "replies_count": 0,
                    }
                )
                out.append(uri)
        return out

    def boost(self, user: str, uri: str) -> None:
        original = next(s for s in self.statuses if s["uri"] == uri)
        self._n += 1
        sid = str(113_000_000_000_000_000 + self._n)
        boost = dict(original, id=sid, uri=f"https://{HOST}/users/{user}/statuses/{sid}/activity")
        boost.update(
            content="", reblog=original, account=dict(original["account"], acct=user, username=user)
        )
        boost["tags"] = original["tags"]
        self.statuses.append(boost)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        url = urlparse(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append((url.path, params))
            status, out, extra = self._handle(url.path, params, headers)
            self.codes.append(status)
        return status, out, extra

    def _handle(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        if self.inject:
            return self.inject.popleft()
        auth = headers.get("authorization")
        if (self.token or auth) and auth != f"Bearer {self.token}":
            return 401, {"error": "The access token is invalid"}, {}
        self.used += 1
        reset = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        rl = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - self.used)),
            "x-ratelimit-reset": reset,
        }
        if self.used > self.limit:
            return 429, {"error": "Too many requests"}, rl
        parts = path.strip("/").split("/")
        if path == "/api/v2/instance":
            streaming = self.base.replace("http://", "ws://", 1)
            return 200, {"domain": HOST, "configuration": {"urls": {"streaming": streaming}}}, rl
        if path == "/api/v1/streaming/hashtag":
            if not auth:
                return 401, {"error": "This method requires an authenticated user"}, {}
            self.stream_connects += 1
            script = self.streams.popleft() if self.streams else Streamed([b":thump\n\n", 0.5])
            return 200, script, {"content-type": "text/event-stream"}
        if path == "/api/v1/accounts/lookup":
            acct = params.get("acct", "").split("@")[0]
            for s in self.statuses:
                if s["account"]["acct"] == acct:
                    return 200, s["account"], rl
            return 404, {"error": "Record not found"}, rl
        if path == "/api/v2/search":
            return self._search(params, rl)
        if parts[:3] == ["api", "v1", "timelines"] and len(parts) == 5 and parts[3] == "tag":
            tag = unquote(parts[4]).lower()
            items = [s for s in self.statuses if any(t["name"].lower() == tag for t in s["tags"])]
        elif parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses":
            items = [s for s in self.statuses if s["account"]["id"] == parts[3]]
            if not items:
                return 404, {"error": "Record not found"}, rl
        else:
            return 404, {"error": "Record not found"}, rl
        return self._timeline(path, items, params, rl)

    def _search(self, params: dict[str, str], rl: dict[str, str]) -> Reply:
        """``type=statuses`` search as instances answer it: only a signed-in account
        gets statuses (full-text search needs one); ``offset`` or ``resolve``
        without a token is refused with 401; ``max_id``/``min_id`` bound the ids
        (``min_id``: the ones immediately newer), newest first, ``limit`` <= 40."""
        if not self.token:
            if "offset" in params:
                error = "Search queries pagination is not supported without authentication"
                return 401, {"error": error}, rl
            if params.get("resolve") == "true":
                error = (
                    "Search queries that resolve remote resources are not supported"
                    " without authentication"
                )
                return 401, {"error": error}, rl
            return 200, {"accounts": [], "statuses": [], "hashtags": []}, rl
        q = params.get("q", "").lower()
        hits = [s for s in self.statuses if not s["reblog"] and q in s["content"].lower()]
        limit = min(40, int(params.get("limit", "20")))
        if "max_id" in params:
            hits = [s for s in hits if int(s["id"]) < int(params["max_id"])]
        if "min_id" in params:
            hits = [s for s in hits if int(s["id"]) > int(params["min_id"])][:limit]
        newest_first = list(reversed(hits))[int(params.get("offset", "0")) :]
        return 200, {"accounts": [], "statuses": newest_first[:limit], "hashtags": []}, rl

    def _timeline(
        self, path: str, items: list[dict[str, Any]], params: dict[str, str], rl: dict[str, str]
    ) -> Reply:
        limit = min(40, int(params.get("limit", "20")))
        if "max_id" in params:
            items = [s for s in items if int(s["id"]) < int(params["max_id"])]
        if "since_id" in params:
            items = [s for s in items if int(s["id"]) > int(params["since_id"])]
        if "min_id" in params:  # the oldest ones just above min_id
            items = [s for s in items if int(s["id"]) > int(params["min_id"])][:limit]
        page = list(reversed(items))[:limit]
        extra = dict(rl)
        if page:
            base = f"{self.base}{path}"
            older, newer = page[-1]["id"], page[0]["id"]
            extra["link"] = (
                f'<{base}?max_id={older}>; rel="next", <{base}?min_id={newer}>; rel="prev"'
            )
        return 200, page, extra


def html_status(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


@contextmanager
def running(fake: FakeMastodon | None = None) -> Iterator[tuple[FakeMastodon, str]]:
    fake = fake or FakeMastodon()
    with serve(fake.handle) as url:
        fake.base = url
        yield fake, url


def sse_update(status: dict[str, Any]) -> bytes:
    """One ``update`` event as Mastodon streams it."""
    import orjson

    return b"event: update\ndata: " + orjson.dumps(status) + b"\n\n"
