"""TwitterAPI.io: ``X-API-Key``, cursor pages of ~20 tweets, the classic date format.

No ``since_id`` parameter: the polling reader pages until it reaches the
last tweet it saw. 402 means out of credits: the source stops (no retry).
Price: 15 credits per tweet, at least 15 per request, 100,000 credits = $1.
"""

from __future__ import annotations

from typing import Any

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

BASE_URL = "https://api.twitterapi.io"
PRICING = Pricing(per_tweet=0.00015, min_request=0.00015)
RATE_LIMIT_RETRY_S = 5.0  # 429 carries no headers; the free tier allows 1 request per 5 s


def to_canonical(t: Any) -> Any:
    if not isinstance(t, dict) or not isinstance(t.get("author"), dict):
        return t
    author = t["author"]
    ref_id, ref_kind = None, None
    for key, kind in (("retweeted_tweet", "retweet"), ("quoted_tweet", "quote")):
        ref = t.get(key)
        if isinstance(ref, dict) and ref.get("id"):
            ref_id, ref_kind = ref["id"], kind
            break
    else:
        if t.get("isReply") and t.get("inReplyToId"):
            ref_id, ref_kind = t["inReplyToId"], "reply"
    return {
        "id": t.get("id"),
        "text": t.get("text"),
        "author_id": author.get("id"),
        "author_username": author.get("userName"),
        "author_followers": author.get("followers"),
        "created_at": to_rfc3339(t.get("createdAt")),
        "conversation_id": t.get("conversationId") or None,
        "lang": t.get("lang") or None,
        "referenced_tweet_id": ref_id,
        "referenced_kind": ref_kind,
        "public_metrics": {
            "retweet_count": t.get("retweetCount"),
            "reply_count": t.get("replyCount"),
            "like_count": t.get("likeCount"),
            "quote_count": t.get("quoteCount"),
            "impression_count": t.get("viewCount"),
        },
    }


class TwitterApiIoProvider:
    name = "twitterapi_io"

    def __init__(self, api_key: str, base_url: str = BASE_URL, pricing: Pricing = PRICING) -> None:
        self._http = http.client(base_url, {"x-api-key": api_key})
        self.pricing = pricing

    def _check(self, resp: httpx.Response) -> dict[str, Any]:
        status = resp.status_code
        if status == 429:
            at = http.retry_at(resp, RATE_LIMIT_RETRY_S)
            raise ProviderError(ErrorKind.RATE_LIMITED, "TwitterAPI.io: 429 rate limit", at)
        if status == 402:
            raise ProviderError(ErrorKind.FATAL, "TwitterAPI.io: 402 out of credits (top up)")
        data = http.json_object("TwitterAPI.io", status, http.body(resp))
        if data.get("status") == "error":
            raise ProviderError(ErrorKind.TRANSIENT, f"TwitterAPI.io: {http.message(data)}")
        return data

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        user = watch.target.lstrip("@")
        if watch.kind is WatchKind.TIMELINE:
            key = "userId" if user.isdigit() else "userName"
            path, params = "/twitter/user/last_tweets", {key: user, "includeReplies": "false"}
        elif watch.kind is WatchKind.MENTIONS:
            path, params = "/twitter/user/mentions", {"userName": user}
        else:
            path, params = (
                "/twitter/tweet/advanced_search",
                {"query": watch.target, "queryType": "Latest"},
            )
        params["cursor"] = cursor or ""
        data = self._check(http.get(self._http, path, params))
        nested = data.get("data")
        tweets = (nested.get("tweets") if isinstance(nested, dict) else None) or data.get("tweets")
        tweets = tweets or []
        if not isinstance(tweets, list):
            raise ProviderError(ErrorKind.TRANSIENT, "TwitterAPI.io: 'tweets' is not a list")
        more = bool(data.get("has_next_page")) and bool(data.get("next_cursor"))
        return Page(
            tweets=[to_canonical(t) for t in tweets],
            next_cursor=str(data["next_cursor"]) if more else None,
            cost_usd=self.pricing.cost(len(tweets)),
        )

    def close(self) -> None:
        self._http.close()
