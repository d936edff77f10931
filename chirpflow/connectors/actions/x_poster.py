"""Posting to X API v2 (``POST /2/tweets``) with user-context auth, and reading back.

OAuth 1.0a requests are signed by authlib over the method, URL and oauth_*
parameters only (X never signs a JSON body); an OAuth 2.0 user token goes as
``Bearer``. Every answer becomes one ``PostOutcome``:

- ``posted``: 201, with the new post's id;
- ``not_sent``: the connection could not be made, retry a bit later;
- ``rate_limited``: 429, not posted; ``retry_at`` from ``x-rate-limit-reset``
  (or the 24 h user bucket's reset when that one is exhausted);
- ``duplicate``: 403 duplicate content, not posted now (maybe earlier: the
  outbox reads back);
- ``unauthorized``: 401 (or a 403 that is not a duplicate), not posted;
- ``rejected``: another 4xx, not posted, never retried;
- ``uncertain``: the call may have reached X (timeout, dropped connection,
  5xx): only a read-back can tell.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth

from chirpflow.action_settings import PostingSettings
from chirpflow.errors import ConfigError
from chirpflow.logs import scrub

OAUTH1_ENV = ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
OAUTH2_ENV = "X_USER_TOKEN"
DUPLICATE = "duplicate content"

Kind = Literal[
    "posted", "not_sent", "rate_limited", "duplicate", "unauthorized", "rejected", "uncertain"
]


@dataclass(frozen=True, slots=True)
class PostOutcome:
    kind: Kind
    x_id: str | None = None
    retry_at: float | None = None  # epoch seconds
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OwnPost:
    id: str
    text: str
    reply_to: str | None


class ReadBackError(Exception):
    """The account's own posts could not be read: nothing can be decided."""


def _auth_from_env(settings: PostingSettings, env: dict[str, str]) -> ClientAuth | str:
    if settings.auth == "oauth2":
        token = env.get(OAUTH2_ENV, "")
        if not token:
            raise ConfigError(f"posting to X needs {OAUTH2_ENV} (an OAuth 2.0 user token)")
        return token
    missing = [name for name in OAUTH1_ENV if not env.get(name)]
    if missing:
        raise ConfigError(f"posting to X with OAuth 1.0a needs {', '.join(missing)}")
    key, secret, token, token_secret = (env[name] for name in OAUTH1_ENV)
    return ClientAuth(key, secret, token=token, token_secret=token_secret)


def _reset(headers: httpx.Headers) -> float | None:
    user_left = headers.get("x-user-limit-24hour-remaining")
    name = "x-user-limit-24hour-reset" if user_left == "0" else "x-rate-limit-reset"
    value = headers.get(name) or headers.get("x-rate-limit-reset")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return scrub(resp.text[:200])
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:300]
    return str(body)[:300]


class XPoster:
    def __init__(
        self,
        settings: PostingSettings,
        env: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base = settings.base_url.rstrip("/")
        self._auth = _auth_from_env(settings, dict(os.environ) if env is None else env)
        self._user_id = settings.user_id
        self._http = httpx.Client(timeout=settings.timeout_s, transport=transport)

    def _headers(self, method: str, url: str) -> dict[str, str]:
        if isinstance(self._auth, str):
            return {"authorization": f"Bearer {self._auth}"}
        _, headers, _ = self._auth.sign(method, url, {}, b"")
        return {k.lower(): v for k, v in headers.items()}

    def _get(self, path: str, params: dict[str, str]) -> Any:
        url = self._base + path
        signed = url + "?" + str(httpx.QueryParams(params)) if params else url
        try:
            resp = self._http.get(signed, headers=self._headers("GET", signed))
        except httpx.HTTPError as err:
            raise ReadBackError(f"GET {path}: {type(err).__name__}") from None
        if resp.status_code != 200:
            raise ReadBackError(f"GET {path}: HTTP {resp.status_code} {_detail(resp)}")
        return resp.json()

    def post(self, text: str, reply_to: str | None = None) -> PostOutcome:
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        url = self._base + "/2/tweets"
        headers = self._headers("POST", url)
        try:
            resp = self._http.post(url, json=body, headers=headers)
        except httpx.TimeoutException as err:
            return PostOutcome("uncertain", detail=f"timeout ({type(err).__name__})")
        except httpx.HTTPError as err:
            # a failure to connect certainly sent nothing; anything later may have
            sent = not isinstance(err, httpx.ConnectError)
            kind: Kind = "uncertain" if sent else "not_sent"
            return PostOutcome(kind, retry_at=time.time() + 5, detail=type(err).__name__)
        status = resp.status_code
        if status == 201:
            return PostOutcome("posted", x_id=str(resp.json()["data"]["id"]))
        detail = _detail(resp)
        if status == 429:
            return PostOutcome("rate_limited", retry_at=_reset(resp.headers), detail=detail)
        if status == 403 and DUPLICATE in detail:
            return PostOutcome("duplicate", detail=detail)
        if status in (401, 403):
            return PostOutcome("unauthorized", detail=f"HTTP {status}: {detail}")
        if status >= 500:
            return PostOutcome("uncertain", detail=f"HTTP {status}: {detail}")
        return PostOutcome("rejected", detail=f"HTTP {status}: {detail}")

    def account(self) -> tuple[str, str]:
        """(id, username) of the account the credentials act as (raises ``ReadBackError``)."""
        data = self._get("/2/users/me", {})["data"]
        return str(data["id"]), str(data.get("username", ""))

    def me(self) -> str:
        if self._user_id is None:
            self._user_id = str(self._get("/2/users/me", {})["data"]["id"])
        return self._user_id

    def recent_posts(self, limit: int = 100) -> list[OwnPost]:
        """The account's own latest posts, newest first (raises ``ReadBackError``)."""
        data = self._get(
            f"/2/users/{self.me()}/tweets",
            {"max_results": str(max(5, min(limit, 100))), "tweet.fields": "referenced_tweets"},
        )
        out = []
        for item in data.get("data") or []:
            refs = item.get("referenced_tweets") or []
            reply_to = next((r["id"] for r in refs if r.get("type") == "replied_to"), None)
            out.append(OwnPost(str(item["id"]), str(item.get("text", "")), reply_to))
        return out

    def close(self) -> None:
        self._http.close()
