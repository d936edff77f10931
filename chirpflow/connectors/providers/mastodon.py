"""Mastodon (any instance): hashtag and account timelines, status search.

``base_url`` is the instance (``https://mastodon.social``); an optional
``MASTODON_ACCESS_TOKEN`` is sent as a bearer token (search of statuses and
some instances' hashtag timelines need one). The first poll pages back
(``max_id``: from the ``Link: <..>; rel="next"`` header on timelines, the
oldest id on the page for search); later polls catch up in order with
``min_id`` (the statuses immediately newer than the last seen, 40 a page,
forward until a short page), so a burst larger than ``max_pages`` is read
over the next polls, not skipped. Search is not paged with ``offset``:
instances refuse ``offset`` without a token (401) and offsets shift as new
results arrive; the ids bound the pages instead. Status search without a
token stops the source with one line: instances search statuses only for a
signed-in account and would answer nothing. ``X-RateLimit-Remaining: 0`` pauses until
``X-RateLimit-Reset`` (ISO 8601); a 429 waits for it. 401 (bad token) and
404 (no such account) stop that source only.

Watches: ``timeline`` of ``#tag`` or ``@account`` (``user`` or
``user@host``); ``search`` of a query (``/api/v2/search?type=statuses``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

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

PRICING = Pricing()
ENV = ("MASTODON_ACCESS_TOKEN",)
LIMIT = 40  # statuses per page (the most an instance gives)
FORWARD = "min:"  # a cursor paging forward (newer) with min_id
NO_TOKEN_SEARCH = (
    "Mastodon search needs MASTODON_ACCESS_TOKEN: instances search statuses only for a"
    " signed-in account (without one the answer is empty, and paging is refused with 401)"
)


def order_key(payload: Any) -> int:
    """Status ids of one instance grow with time (snowflake-like digit strings)."""
    try:
        return int(payload["id"])
    except (TypeError, KeyError, ValueError):
        return -1


class MastodonProvider:
    name = "mastodon"

    def __init__(self, base_url: str, env: Mapping[str, str], pricing: Pricing = PRICING) -> None:
        token = env.get("MASTODON_ACCESS_TOKEN")
        self._token = token or None
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = http.client(base_url, headers)
        self.pricing = pricing
        self._accounts: dict[str, str] = {}

    def account_id(self, acct: str) -> str:
        acct = acct.lstrip("@")
        if acct not in self._accounts:
            data = self._check(http.get(self._http, "/api/v1/accounts/lookup", {"acct": acct}))
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise ProviderError(ErrorKind.FATAL, f"Mastodon: no account @{acct}")
            self._accounts[acct] = data["id"]
        return self._accounts[acct]

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        params: dict[str, Any] = {"limit": LIMIT}
        forward = cursor is not None and cursor.startswith(FORWARD)
        if forward and cursor is not None:
            params["min_id"] = cursor.removeprefix(FORWARD)
        elif cursor is None and since_id is not None and since_id.isdigit() and int(since_id) > 0:
            params["min_id"], forward = since_id, True  # not "-1" (nothing seen yet)
        else:
            params["max_id"] = cursor
        if watch.kind is WatchKind.SEARCH:
            if not self._token:
                raise ProviderError(ErrorKind.FATAL, NO_TOKEN_SEARCH)
            params.update(q=watch.target, type="statuses")
            resp = http.get(self._http, "/api/v2/search", params)
            data = self._check(resp)
            statuses = data.get("statuses") if isinstance(data, dict) else None
            if not isinstance(statuses, list):
                raise ProviderError(ErrorKind.TRANSIENT, "Mastodon: search has no 'statuses'")
            back = _oldest(statuses) if len(statuses) >= LIMIT and not forward else None
            return self._page(resp, statuses, back, forward)
        target = watch.target
        if target.startswith("#"):
            path = f"/api/v1/timelines/tag/{quote(target[1:], safe='')}"
        else:
            path = f"/api/v1/accounts/{self.account_id(target)}/statuses"
        resp = http.get(self._http, path, params)
        data = self._check(resp)
        if not isinstance(data, list):
            raise ProviderError(ErrorKind.TRANSIENT, "Mastodon: timeline is not a list")
        back = _next_max_id(resp) if data and not forward else None
        return self._page(resp, data, back, forward)

    def _page(
        self, resp: httpx.Response, statuses: list[Any], back: str | None, forward: bool
    ) -> Page:
        remaining = http.header_int(resp, "x-ratelimit-remaining")
        nxt = back
        if forward and len(statuses) >= LIMIT:  # a full page: newer ones may follow
            newest = max((order_key(s) for s in statuses), default=-1)
            nxt = f"{FORWARD}{newest}" if newest > 0 else None
        return Page(
            tweets=statuses,
            next_cursor=nxt,
            cost_usd=self.pricing.cost(len(statuses)),
            pause_until=_reset(resp) if remaining == 0 else None,
            remaining=remaining,
            forward=forward,
        )

    def _check(self, resp: httpx.Response) -> Any:
        status = resp.status_code
        if status == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Mastodon: 429 rate limit", _reset(resp))
        if status >= 500:
            raise ProviderError(ErrorKind.TRANSIENT, f"Mastodon {status}")
        data = http.body(resp)
        if status == 401:
            raise ProviderError(
                ErrorKind.FATAL,
                f"Mastodon 401: {http.message(data)} (check MASTODON_ACCESS_TOKEN)",
            )
        if status >= 400:
            raise ProviderError(ErrorKind.FATAL, f"Mastodon {status}: {http.message(data)}")
        return data

    def close(self) -> None:
        self._http.close()


def _oldest(statuses: list[Any]) -> str | None:
    """The smallest status id on a page: ``max_id`` of the page before it."""
    ids = [order_key(s) for s in statuses if order_key(s) > 0]
    return str(min(ids)) if ids else None


def _next_max_id(resp: httpx.Response) -> str | None:
    """``max_id`` of the ``rel="next"`` link (older statuses), when there is one."""
    for part in resp.headers.get("link", "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            query = parse_qs(urlparse(url.strip().strip("<>")).query)
            values = query.get("max_id")
            if values:
                return str(values[0])
    return None


def _reset(resp: httpx.Response) -> datetime:
    raw = resp.headers.get("x-ratelimit-reset", "")
    try:
        ts = datetime.fromisoformat(raw)
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    except ValueError:
        return http.retry_at(resp, 60.0)
