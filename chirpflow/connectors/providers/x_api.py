"""X API v2: user timelines, mentions and recent search with a bearer token.

Pages with ``pagination_token`` (``next_token`` on search) down to
``since_id``; ``x-rate-limit-*`` headers (a 429 waits until
``x-rate-limit-reset``); problem-JSON errors; partial errors in 200 answers.
Each tweet is joined with its author from ``includes.users``.
"""

from __future__ import annotations

from datetime import UTC, datetime
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

BASE_URL = "https://api.x.com"
# Pay-per-use prices: a post read $0.005, a user lookup $0.010.
PRICING = Pricing(per_tweet=0.005)
USER_LOOKUP_USD = 0.010
TWEET_FIELDS = "created_at,author_id,conversation_id,referenced_tweets,public_metrics,lang"
USER_FIELDS = "username,public_metrics"
FATAL_STATUS = {400, 401, 403, 404}


def to_canonical(tweet: Any, users: dict[str, dict[str, Any]]) -> Any:
    """The X tweet object plus its author's username and followers."""
    if not isinstance(tweet, dict):
        return tweet
    out = dict(tweet)
    user = users.get(str(tweet.get("author_id")))
    if user:
        out["author_username"] = user.get("username")
        followers = (user.get("public_metrics") or {}).get("followers_count")
        if followers is not None:
            out["author_followers"] = followers
    return out


def _users(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    users = (data.get("includes") or {}).get("users") or []
    return {str(u.get("id")): u for u in users if isinstance(u, dict)}


class XApiProvider:
    name = "x"

    def __init__(
        self, bearer_token: str, base_url: str = BASE_URL, pricing: Pricing = PRICING
    ) -> None:
        self._http = http.client(base_url, {"authorization": f"Bearer {bearer_token}"})
        self.pricing = pricing
        self._user_ids: dict[str, str] = {}
        self.lookup_cost_usd = 0.0

    def _check(self, resp: httpx.Response) -> Any:
        if resp.status_code == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "X API: 429 rate limit", _reset(resp))
        data = http.body(resp)
        if resp.status_code >= 500:
            raise ProviderError(ErrorKind.TRANSIENT, f"X API {resp.status_code}: {_problem(data)}")
        if resp.status_code >= 400:
            kind = ErrorKind.FATAL if resp.status_code in FATAL_STATUS else ErrorKind.TRANSIENT
            raise ProviderError(kind, f"X API {resp.status_code}: {_problem(data)}")
        if not isinstance(data, dict):
            raise ProviderError(ErrorKind.TRANSIENT, "X API: answer is not a JSON object")
        return data

    def user_id(self, username: str) -> str:
        if username.isdigit():
            return username
        if username not in self._user_ids:
            resp = http.get(self._http, f"/2/users/by/username/{username.lstrip('@')}", {})
            data = self._check(resp)
            self.lookup_cost_usd += USER_LOOKUP_USD
            user = data.get("data")
            if not isinstance(user, dict) or "id" not in user:
                raise ProviderError(
                    ErrorKind.FATAL, f"X API: no user @{username}: {_problem(data)}"
                )
            self._user_ids[username] = str(user["id"])
        return self._user_ids[username]

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        params: dict[str, Any] = {
            "max_results": 100,
            "since_id": since_id,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if watch.kind is WatchKind.SEARCH:
            path = "/2/tweets/search/recent"
            params.update(query=watch.target, next_token=cursor)
        else:
            suffix = "tweets" if watch.kind is WatchKind.TIMELINE else "mentions"
            path = f"/2/users/{self.user_id(watch.target)}/{suffix}"
            params["pagination_token"] = cursor
        resp = http.get(self._http, path, params)
        data = self._check(resp)
        tweets = data.get("data") or []
        if not isinstance(tweets, list):
            raise ProviderError(ErrorKind.TRANSIENT, "X API: 'data' is not a list")
        users = _users(data)
        meta = data.get("meta") or {}
        errors = [_problem(e) for e in data.get("errors") or []]
        remaining = http.header_int(resp, "x-rate-limit-remaining")
        pause = _reset(resp) if remaining == 0 else None
        return Page(
            tweets=[to_canonical(t, users) for t in tweets],
            next_cursor=meta.get("next_token") if tweets else None,
            cost_usd=self.pricing.cost(len(tweets)),
            errors=errors,
            pause_until=pause,
            remaining=remaining,
        )

    def close(self) -> None:
        self._http.close()


def _reset(resp: httpx.Response) -> datetime:
    raw = resp.headers.get("x-rate-limit-reset")
    try:
        return datetime.fromtimestamp(int(raw or ""), UTC)
    except ValueError:
        return http.retry_at(resp, 60.0)


def _problem(data: Any) -> str:
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("title", "detail") if data.get(k)]
        if parts:
            return ": ".join(parts)
    return http.message(data)
