"""Reddit: new posts of subreddits, a user's posts, search results, comments.

OAuth2 from the environment: ``REDDIT_CLIENT_ID`` and ``REDDIT_CLIENT_SECRET``
(application-only, ``client_credentials``), plus ``REDDIT_USERNAME`` and
``REDDIT_PASSWORD`` for a script app (``password`` grant). The token is
fetched again when it expires or a call answers 401 ``invalid_token``.
Every call sends a descriptive User-Agent as Reddit requires and
``raw_json=1`` (no ``&amp;`` in text). The first poll pages back with
``after`` fullnames; later polls ask for what is new since the last seen
post with ``before=<its fullname>`` (the 100 just newer, oldest of the new
first) and page forward with ``before=<newest on the page>``, so a burst
larger than ``max_pages`` is caught up over the next polls, not skipped.
An empty page ends the poll whether or not it names a cursor. An empty
answer to ``before=<last seen>`` is checked with one newest-first page (the
last seen post may have left the listing, which Reddit also answers empty),
so a removed post cannot stall the source.
``X-Ratelimit-Remaining`` below one pauses until ``X-Ratelimit-Reset``
(seconds); a 429 waits for ``Retry-After`` (or the reset). A private,
quarantined or banned subreddit (403/404) or an unknown one (302 to the
search) stops that source only.

Watches: ``timeline`` of ``r/<sub>`` (new posts), ``r/<sub>/comments``
(new comments), ``u/<name>`` (a user's posts); ``search`` of a query.
Payloads are the listing children as Reddit sends them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chirpflow import __version__
from chirpflow.connectors.providers import http
from chirpflow.connectors.providers.base import (
    ErrorKind,
    Page,
    Pricing,
    ProviderError,
    Watch,
    WatchKind,
)

BASE_URL = "https://oauth.reddit.com"
AUTH_URL = "https://www.reddit.com"
PRICING = Pricing()  # the free tier; set price_per_request for a paid agreement
BEFORE = "before:"  # a cursor paging forward (newer), not back
ENV = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")


def user_agent(username: str | None) -> str:
    return f"python:chirpflow:{__version__} (by /u/{username or 'chirpflow'})"


def order_key(payload: Any) -> int:
    """Reddit ids are base36 counters: newer posts (or comments) have larger ids."""
    try:
        return int(payload["data"]["id"], 36)
    except (TypeError, KeyError, ValueError):
        return -1


class RedditProvider:
    name = "reddit"

    def __init__(
        self,
        env: Mapping[str, str],
        base_url: str = BASE_URL,
        auth_url: str = AUTH_URL,
        pricing: Pricing = PRICING,
        agent: str | None = None,
    ) -> None:
        self._client_id = env.get("REDDIT_CLIENT_ID") or ""
        self._secret = env.get("REDDIT_CLIENT_SECRET") or ""
        self._username = env.get("REDDIT_USERNAME") or None
        self._password = env.get("REDDIT_PASSWORD") or None
        ua = agent or user_agent(self._username)
        self._http = http.client(base_url, {"user-agent": ua})
        self._auth = http.client(auth_url, {"user-agent": ua})
        self.pricing = pricing
        self._token: str | None = None
        self._expires = 0.0

    # -- auth -----------------------------------------------------------------
    def token(self) -> str:
        if self._token is not None and time.monotonic() < self._expires:
            return self._token
        basic = base64.b64encode(f"{self._client_id}:{self._secret}".encode()).decode()
        form = {"grant_type": "client_credentials"}
        if self._username and self._password:
            form = {
                "grant_type": "password",
                "username": self._username,
                "password": self._password,
            }
        try:
            resp = self._auth.post(
                "/api/v1/access_token", data=form, headers={"authorization": f"Basic {basic}"}
            )
        except httpx.HTTPError as err:
            raise ProviderError(ErrorKind.TRANSIENT, f"Reddit token: {err}") from None
        if resp.status_code in (401, 403):
            raise ProviderError(
                ErrorKind.FATAL,
                f"Reddit token: {resp.status_code}: check REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET",
            )
        if resp.status_code == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Reddit token: 429", _retry(resp))
        data = http.body(resp)
        if resp.status_code >= 400 or not isinstance(data, dict):
            raise ProviderError(ErrorKind.TRANSIENT, f"Reddit token: {resp.status_code}")
        if "error" in data or not isinstance(data.get("access_token"), str):
            detail = data.get("error_description") or data.get("error") or "no access_token"
            raise ProviderError(ErrorKind.FATAL, f"Reddit token refused: {detail}")
        self._token = data["access_token"]
        expires = data.get("expires_in")
        life = float(expires) if isinstance(expires, int | float) else 3600.0
        self._expires = time.monotonic() + max(60.0, life - 60.0)
        return self._token

    # -- reads ----------------------------------------------------------------
    def path(self, watch: Watch) -> tuple[str, dict[str, Any]]:
        target = watch.target
        if watch.kind is WatchKind.SEARCH:
            return "/search", {"q": target, "sort": "new", "t": "week", "type": "link"}
        if target.startswith("u/"):
            return f"/user/{target[2:]}/submitted", {"sort": "new"}
        if target.startswith("r/") and target.endswith("/comments"):
            return f"/r/{target[2:].removesuffix('/comments')}/comments", {}
        if target.startswith("r/"):
            return f"/r/{target[2:]}/new", {}
        raise ProviderError(ErrorKind.FATAL, f"Reddit: cannot watch {target!r}")

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page:
        path, params = self.path(watch)
        params.update(limit=100, raw_json=1)
        anchor = _fullname(watch, since_id)
        if cursor is not None and cursor.startswith(BEFORE):
            params["before"] = cursor.removeprefix(BEFORE)
        elif cursor is None and anchor is not None:
            params["before"] = anchor
        else:
            params["after"] = cursor
        resp = self._get(path, params)
        if resp.status_code == 401:  # the token expired early or was revoked
            self._token = None
            resp = self._get(path, params)
        data = self._check(resp, watch)
        listing = data.get("data")
        if data.get("kind") != "Listing" or not isinstance(listing, dict):
            raise ProviderError(ErrorKind.TRANSIENT, "Reddit: answer is not a Listing")
        children = listing.get("children") or []
        if not isinstance(children, list):
            raise ProviderError(ErrorKind.TRANSIENT, "Reddit: 'children' is not a list")
        if not children and cursor is None and "before" in params:
            # nothing newer, or the last seen post left the listing (removed, spam):
            # Reddit answers both with an empty page; page back from the newest instead
            return self.fetch(watch, None, None)
        if "before" in params:  # forward: more while Reddit names a newer page
            newer = listing.get("before")
            more = isinstance(newer, str) and bool(children)
            next_cursor = f"{BEFORE}{newer}" if more else None
        else:
            after = listing.get("after")
            next_cursor = after if isinstance(after, str) and children else None
        remaining = _float(resp.headers.get("x-ratelimit-remaining"))
        pause = None
        if remaining is not None and remaining < 1:
            pause = _retry(resp)
        return Page(
            tweets=children,
            next_cursor=next_cursor,
            forward="before" in params,
            cost_usd=self.pricing.cost(len(children)),
            pause_until=pause,
            remaining=None if remaining is None else int(remaining),
        )

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        self._http.headers["authorization"] = f"bearer {self.token()}"
        return http.get(self._http, path, params)

    def _check(self, resp: httpx.Response, watch: Watch) -> dict[str, Any]:
        status = resp.status_code
        if status == 429:
            raise ProviderError(ErrorKind.RATE_LIMITED, "Reddit: 429 rate limit", _retry(resp))
        if status in (301, 302, 307):
            raise ProviderError(ErrorKind.FATAL, f"Reddit: no such subreddit ({watch.target})")
        if status >= 500:
            raise ProviderError(ErrorKind.TRANSIENT, f"Reddit {status}")
        data = http.body(resp)
        if status in (403, 404):
            reason = data.get("reason") if isinstance(data, dict) else None
            raise ProviderError(
                ErrorKind.FATAL, f"Reddit {status}: {watch.target} is {reason or 'not readable'}"
            )
        return http.json_object("Reddit", status, data)  # 5xx was handled above

    def close(self) -> None:
        self._http.close()
        self._auth.close()


def _fullname(watch: Watch, since_id: str | None) -> str | None:
    """The fullname of the last seen post (``since_id`` is its base36 id as an integer)."""
    if since_id is None or not since_id.isdigit() or int(since_id) <= 0:
        return None
    comments = watch.kind is WatchKind.TIMELINE and watch.target.endswith("/comments")
    kind = "t1" if comments else "t3"
    return f"{kind}_{_base36(int(since_id))}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _retry(resp: httpx.Response) -> datetime:
    """When to call again: ``Retry-After``, else ``X-Ratelimit-Reset`` (seconds), else 60 s."""
    wait = _float(resp.headers.get("retry-after")) or _float(resp.headers.get("x-ratelimit-reset"))
    return datetime.now(UTC) + timedelta(seconds=60.0 if wait is None else wait)
