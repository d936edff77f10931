"""A fake RapidAPI twitter-api45: gateway headers, cursor pages, quota headers, 403/429."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_fake import serve
from tests.fakes.tweet_store import FakeTweet, TweetStore
from tests.fakes.twitterapi_io_server import classic_date

Reply = tuple[int, Any, dict[str, str]]
PAGE = 20
HOST = "twitter-api45.p.rapidapi.com"


def rapid_tweet(t: FakeTweet) -> dict[str, Any]:
    return {
        "tweet_id": str(t.id),
        "created_at": classic_date(t),
        "text": t.text,
        "favorites": 4,
        "retweets": 1,
        "replies": 0,
        "quotes": 0,
        "views": "120",
        "lang": t.lang,
        "conversation_id": str(t.id),
        "bookmarks": 0,
        "author": {
            "rest_id": str(t.author_id),
            "screen_name": t.author,
            "name": t.author,
            "followers_count": t.followers,
        },
    }


@dataclass
class FakeRapidApi:
    store: TweetStore = field(default_factory=TweetStore)
    key: str = "rapid-key"
    quota: int = 100_000
    inject: deque[Reply] = field(default_factory=deque)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        url = urlparse(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append((url.path, params))
        status, out, extra = self._handle(url.path, params, headers)
        self.statuses.append(status)
        return status, out, extra

    def _handle(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        if headers.get("x-rapidapi-key") != self.key or headers.get("x-rapidapi-host") != HOST:
            return 403, {"message": "You are not subscribed to this API."}, {}
        if self.inject:
            return self.inject.popleft()
        if self.quota <= 0:
            return (
                429,
                {
                    "message": "You have exceeded the MONTHLY quota for Requests on your"
                    " current plan, BASIC."
                },
                {"x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": "3600"},
            )
        self.quota -= 1
        limits = {
            "x-ratelimit-requests-limit": "100000",
            "x-ratelimit-requests-remaining": str(self.quota),
            "x-ratelimit-requests-reset": "3600",
        }
        if path == "/timeline.php":
            tweets = self.store.timeline(params.get("screenname", ""))
        elif path == "/search.php":
            query = params.get("query", "")
            user = query[1:] if query.startswith("@") and " " not in query else None
            tweets = self.store.mentions(user) if user else self.store.search(query)
        else:
            return 404, {"message": "Endpoint '/x' does not exist"}, {}
        start = int(params["cursor"]) if params.get("cursor") else 0
        page = tweets[start : start + PAGE]
        doc: dict[str, Any] = {"timeline": [rapid_tweet(t) for t in page], "status": "ok"}
        if start + PAGE < len(tweets):
            doc["next_cursor"] = str(start + PAGE)
        return 200, doc, limits


@contextmanager
def running(fake: FakeRapidApi | None = None) -> Iterator[tuple[FakeRapidApi, str]]:
    fake = fake or FakeRapidApi()
    with serve(fake.handle) as url:
        yield fake, url
