"""RapidAPI scraper (twitter-api45): ``X-RapidAPI-Key`` / ``X-RapidAPI-Host``, cursor pages.

Mentions are a search for ``@handle``. ``next_cursor`` is absent on the last
page. A 403 "not subscribed" or 401 stops the source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx

from chirpflow.connectors.providers import http
from chirpflow.connectors.providers.base import (
    ErrorKind,
    Page,
    Pricing,
    ProviderError,
    Watch,
    WatchKind,
)
from chirpflow.connectors.providers.dates import to_rfc3339

BASE_URL = "https://twitter-api45.p.rapidapi.com"
PRICING = Pricing()  # subscription plans: set per_request in the TOML to count dollars


def to_canonical(t: Any) -> Any:
    if not isinstance(t, dict) or not isinstance(t.get("author"), dict):
        return t
    author = t["author"]
    return {
        "id": t.get("tweet_id"),
        "text": t.get("text"),
        "author_id": author.get("rest_id"),
        "author_username": author.get("screen_name"),
        "author_followers": author.get("followers_count"),
        "created_at": to_rfc3339(t.get("created_at")),
        "conversation_id": t.get("conversation_id") or None,
        "lang": t.get("lang") or None,
        "public_metrics": {
            "retweet_count": t.get("retweets"),
            "reply_count": t.get("replies"),
            "like_count": t.get("favorites"),
            "quote_count": t.get("quotes"),
            "impression_count": t.get("views"),  # a string of digits here
        },
    }


class RapidApiProvider:
    name = "rapidapi"

    def __init__(
        self,
        api_key: str,
        base_url: str = BASE_URL,
        host: str | None = None,
        pricing: Pricing = PRICING,
    ) -> None:
        host = host or urlparse(BASE_URL).netloc
        self._http = http.client(base_url, {"x-rapidapi-key": api_key, "x-rapidapi-host": host})
        self.pricing = pricing

    def _check(self, resp: httpx.Response) -> dict[str, Any]:
        status = resp.status_code
        if status == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "RapidAPI: 429", http.retry_at(resp, 10.0))
        return http.json_object("RapidAPI", status, http.body(resp))

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        if watch.kind is WatchKind.TIMELINE:
            path = "/timeline.php"
            params: dict[str, str | None] = {"screenname": watch.target.lstrip("@")}
        else:
            query = (
                watch.target if watch.kind is WatchKind.SEARCH else f"@{watch.target.lstrip('@')}"
            )
            path = "/search.php"
            params = {"query": query, "search_type": "Latest"}
        params["cursor"] = cursor
        resp = http.get(self._http, path, params)
        data = self._check(resp)
        tweets = data.get("timeline") or []
        if not isinstance(tweets, list):
            raise ProviderError(ErrorKind.TRANSIENT, "RapidAPI: 'timeline' is not a list")
        remaining = http.header_int(resp, "x-ratelimit-requests-remaining")
        pause = None
        if remaining == 0:  # the plan's quota is used up until its reset
            reset = http.header_int(resp, "x-ratelimit-requests-reset")
            pause = datetime.now(UTC) + timedelta(seconds=60 if reset is None else reset)
        nxt = data.get("next_cursor")
        return Page(
            tweets=[to_canonical(t) for t in tweets],
            next_cursor=str(nxt) if nxt and tweets else None,
            cost_usd=self.pricing.cost(len(tweets)),
            pause_until=pause,
            remaining=remaining,
        )

    def close(self) -> None:
        self._http.close()
