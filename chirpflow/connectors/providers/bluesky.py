"""Bluesky: ``app.bsky.feed.searchPosts`` (search) and ``getAuthorFeed`` (timeline).

Public AppView reads need no account; with ``BLUESKY_HANDLE`` and
``BLUESKY_APP_PASSWORD`` in the environment the provider logs in
(``com.atproto.server.createSession`` on ``auth_url``) and reads through the
PDS with the access token, for higher limits (and search where the public
AppView refuses it: 403). An expired access token (400 ``ExpiredToken``) is
renewed with ``com.atproto.server.refreshSession`` and the refresh JWT
(rotated on each use); only when that fails does the provider log in again
(``createSession`` is limited to 30 per 5 minutes, 300 a day per account).
``RateLimit-Remaining: 0`` pauses until ``RateLimit-Reset`` (epoch seconds);
a 429 waits for it. Pages follow ``cursor``.
"""

from __future__ import annotations

from collections.abc import Mapping
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

BASE_URL = "https://public.api.bsky.app"
AUTH_URL = "https://bsky.social"
PRICING = Pricing()
ENV = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")


def order_key(payload: Any) -> int:
    """When the AppView indexed the post, in microseconds (newer = larger)."""
    try:
        view = payload.get("post", payload)
        ts = datetime.fromisoformat(view["indexedAt"])
        return int(ts.timestamp() * 1_000_000)
    except (TypeError, KeyError, ValueError):
        return -1


class BlueskyProvider:
    name = "bluesky"

    def __init__(
        self,
        env: Mapping[str, str],
        base_url: str = BASE_URL,
        auth_url: str = AUTH_URL,
        pricing: Pricing = PRICING,
    ) -> None:
        self._handle = env.get("BLUESKY_HANDLE") or None
        self._password = env.get("BLUESKY_APP_PASSWORD") or None
        self._auth_url = auth_url
        self._http = http.client(auth_url if self._handle else base_url, {})
        self.pricing = pricing
        self._jwt: str | None = None
        self._refresh_jwt: str | None = None

    def login(self) -> None:
        if not (self._handle and self._password):
            return
        try:
            resp = self._http.post(
                "/xrpc/com.atproto.server.createSession",
                json={"identifier": self._handle, "password": self._password},
            )
        except httpx.HTTPError as err:
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky login: {err}") from None
        if resp.status_code == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Bluesky login: 429", _reset(resp))
        data = http.body(resp)
        if resp.status_code in (400, 401):
            raise ProviderError(
                ErrorKind.FATAL,
                f"Bluesky login refused: {http.message(data)} (check BLUESKY_HANDLE and"
                " BLUESKY_APP_PASSWORD)",
            )
        if resp.status_code >= 300 or not isinstance(data, dict) or "accessJwt" not in data:
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky login: {resp.status_code}")
        self._use_session(data)

    def refresh(self) -> None:
        """A new access JWT from the refresh JWT; log in again if that is refused."""
        if self._refresh_jwt is None:
            self.login()
            return
        try:
            resp = self._http.post(
                "/xrpc/com.atproto.server.refreshSession",
                headers={"authorization": f"Bearer {self._refresh_jwt}"},
            )
        except httpx.HTTPError as err:
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky refresh: {err}") from None
        if resp.status_code == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Bluesky refresh: 429", _reset(resp))
        if resp.status_code >= 500:
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky refresh: {resp.status_code}")
        data = http.body(resp)
        if resp.status_code >= 300 or not isinstance(data, dict) or "accessJwt" not in data:
            self._refresh_jwt = None  # expired or revoked: a new session
            self.login()
            return
        self._use_session(data)

    def _use_session(self, data: dict[str, Any]) -> None:
        self._jwt = str(data["accessJwt"])
        refresh = data.get("refreshJwt")
        self._refresh_jwt = refresh if isinstance(refresh, str) and refresh else None
        self._http.headers["authorization"] = f"Bearer {self._jwt}"

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        if self._handle and self._jwt is None:
            self.login()
        params: dict[str, Any] = {"limit": 100, "cursor": cursor}
        if watch.kind is WatchKind.SEARCH:
            nsid, key = "app.bsky.feed.searchPosts", "posts"
            params.update(q=watch.target, sort="latest")
        else:
            nsid, key = "app.bsky.feed.getAuthorFeed", "feed"
            params.update(actor=watch.target.lstrip("@"), filter="posts_with_replies")
        resp = http.get(self._http, f"/xrpc/{nsid}", params)
        data = self._check(resp)
        if data is None:  # the access token expired: refresh it once
            self.refresh()
            data = self._check(http.get(self._http, f"/xrpc/{nsid}", params))
            if data is None:
                raise ProviderError(ErrorKind.FATAL, "Bluesky: token expired again after refresh")
        posts = data.get(key) or []
        if not isinstance(posts, list):
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky: '{key}' is not a list")
        if key == "feed":  # reposts are someone else's post: not this author's
            posts = [p for p in posts if not (isinstance(p, dict) and p.get("reason"))]
        nxt = data.get("cursor")
        remaining = http.header_int(resp, "ratelimit-remaining")
        return Page(
            tweets=posts,
            next_cursor=nxt if isinstance(nxt, str) and nxt and data.get(key) else None,
            cost_usd=self.pricing.cost(len(posts)),
            pause_until=_reset(resp) if remaining == 0 else None,
            remaining=remaining,
        )

    def _check(self, resp: httpx.Response) -> dict[str, Any] | None:
        status = resp.status_code
        if status == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Bluesky: 429 rate limit", _reset(resp))
        if status >= 500:
            raise ProviderError(ErrorKind.TRANSIENT, f"Bluesky {status}")
        if status == 403 and not resp.headers.get("content-type", "").startswith(
            "application/json"
        ):
            raise ProviderError(
                ErrorKind.FATAL,
                "Bluesky 403: the public AppView refuses this read; set BLUESKY_HANDLE and"
                " BLUESKY_APP_PASSWORD to read through your PDS",
            )
        data = http.body(resp)
        expired = isinstance(data, dict) and data.get("error") == "ExpiredToken"
        if status == 400 and expired and self._handle:
            return None
        return http.json_object("Bluesky", status, data)  # 5xx was handled above

    def close(self) -> None:
        self._http.close()


def _reset(resp: httpx.Response) -> datetime:
    raw = resp.headers.get("ratelimit-reset", "")
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), UTC)
    return http.retry_at(resp, 60.0)
