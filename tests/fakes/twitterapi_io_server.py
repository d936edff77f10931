"""A fake TwitterAPI.io: ``X-API-Key``, 20-tweet cursor pages, credits, 402, 429.

Errors as documented: missing key 403, unknown key 401, out of credits 402,
over the per-second limit 429 (no headers), 200 ``{"status":"error"}``.
Every page costs at least 15 credits, 15 per tweet returned.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_fake import serve
from tests.fakes.tweet_store import FakeTweet, TweetStore

Reply = tuple[int, Any, dict[str, str]]
PAGE = 20


def classic_date(t: FakeTweet) -> str:
    return t.created_at.strftime("%a %b %d %H:%M:%S +0000 %Y")


def io_tweet(t: FakeTweet) -> dict[str, Any]:
    return {
        "type": "tweet",
        "id": str(t.id),
        "url": f"https://x.com/{t.author}/status/{t.id}",
        "text": t.text,
        "createdAt": classic_date(t),
        "lang": t.lang,
        "isReply": False,
        "inReplyToId": None,
        "conversationId": str(t.id),
        "retweetCount": 1,
        "replyCount": 0,
        "likeCount": 5,
        "quoteCount": 0,
        "viewCount": 77,
        "author": {
            "userName": t.author,
            "id": str(t.author_id),
            "name": t.author,
            "followers": t.followers,
        },
        "quoted_tweet": None,
        "retweeted_tweet": None,
    }


@dataclass
class FakeTwitterApiIo:
    store: TweetStore = field(default_factory=TweetStore)
    key: str = "io-key"
    credits: int = 10_000_000
    per_s: int = 20
    delay_s: float = 0.0  # slowness per request
    inject: deque[Reply] = field(default_factory=deque)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _stamps: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        url = urlparse(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append((url.path, params))
        if self.delay_s:
            time.sleep(self.delay_s)
        status, out, extra = self._handle(url.path, params, headers)
        self.statuses.append(status)
        return status, out, extra

    def _handle(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        key = headers.get("x-api-key")
        if key is None:
            return 403, {"detail": "Not authenticated"}, {}
        if key != self.key:
            return 401, {"error": "Unauthorized", "message": "Invalid API key"}, {}
        if self.inject:
            return self.inject.popleft()
        now = time.monotonic()
        with self._lock:
            while self._stamps and now - self._stamps[0] >= 1.0:
                self._stamps.popleft()
            if len(self._stamps) >= self.per_s:
                return 429, {"error": "Too Many Requests"}, {}
            self._stamps.append(now)
            if self.credits < 15:
                return (
                    402,
                    {
                        "error": "Payment Required",
                        "message": "Credits is not enough.Please recharge",
                    },
                    {},
                )
        if path == "/twitter/user/last_tweets":
            user = params.get("userName")
            if not user:
                return 400, {"detail": "userName or userId is required"}, {}
            tweets = self.store.timeline(user)
        elif path == "/twitter/user/mentions":
            tweets = self.store.mentions(params.get("userName", ""))
        elif path == "/twitter/tweet/advanced_search":
            if not params.get("query"):
                return 400, {"detail": "query is required"}, {}
            tweets = self.store.search(params["query"])
        else:
            return 404, {"detail": "Not Found"}, {}
        start = int(params["cursor"]) if params.get("cursor") else 0
        page = tweets[start : start + PAGE]
        more = start + PAGE < len(tweets)
        with self._lock:
            self.credits -= max(15, 15 * len(page))
        shaped = [io_tweet(t) for t in page]
        doc: dict[str, Any] = {
            "has_next_page": more,
            "next_cursor": str(start + PAGE) if more else "",
            "status": "success",
            "msg": "success",
        }
        if path == "/twitter/user/last_tweets":
            doc["data"] = {"pin_tweet": None, "tweets": shaped}
        else:
            doc["tweets"] = shaped
        return 200, doc, {}


@contextmanager
def running(fake: FakeTwitterApiIo | None = None) -> Iterator[tuple[FakeTwitterApiIo, str]]:
    fake = fake or FakeTwitterApiIo()
    with serve(fake.handle) as url:
        yield fake, url
