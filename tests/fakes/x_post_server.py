"""A fake X API v2 for posting: POST /2/tweets, GET /2/users/me, GET /2/users/:id/tweets.

Verifies OAuth 1.0a HMAC-SHA1 signatures independently of any library
(base string over method, URL, oauth_* and query parameters, never a JSON
body; timestamps within 5 minutes; a nonce is used once) and OAuth 2.0 user
tokens; an app-only bearer may not post. Enforces a per-user post limit with
real ``x-rate-limit-*`` and ``x-user-limit-24hour-*`` headers, rejects
duplicate content with X's 403 body, and serves the account's own recent
posts (newest first, ``referenced_tweets`` when asked) for read-back.

``hold``: when set, a post is created and then its answer is held until
``release`` is set (a crash or a timeout during the HTTP call).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlparse

from tests.fakes.http_fake import serve

Reply = tuple[int, Any, dict[str, str]]
DUPLICATE_BODY = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


def enc(s: str) -> str:
    return quote(s, safe="-._~")


def oauth1_signature(
    method: str, url: str, params: list[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    pairs = sorted((enc(k), enc(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), enc(url), enc(normalized)])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def parse_oauth_header(value: str) -> dict[str, str]:
    if not value.startswith("OAuth "):
        return {}
    out = {}
    for part in value[6:].split(","):
        k, _, v = part.strip().partition("=")
        out[unquote(k)] = unquote(v.strip('"'))
    return out


@dataclass
class Account:
    user_id: str
    username: str
    access_token: str
    token_secret: str
    user_token: str  # OAuth 2.0


@dataclass
class FakeXPosting:
    consumer_key: str = "ck"
    consumer_secret: str = "cs"
    app_bearer: str = "app-only"
    accounts: list[Account] = field(
        default_factory=lambda: [Account("4242", "acme", "at-4242", "ats-4242", "ut-4242")]
    )
    user_limit: int = 100  # posts per window per user
    window_s: float = 900.0
    base_url: str = ""
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    posts: list[dict[str, Any]] = field(default_factory=list)  # every created post
    attempts: list[int] = field(default_factory=list)  # status of each POST
    held: threading.Event = field(default_factory=threading.Event)  # a post is being held
    _times: dict[str, list[float]] = field(default_factory=dict)
    _nonces: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_900_000_000_000_000_000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _unauthorized(self) -> Reply:
        return (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            {},
        )

    def _who(self, method: str, path: str, headers: dict[str, str]) -> Account | str | None:
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
            if token == self.app_bearer:
                return "app"
            return next((a for a in self.accounts if a.user_token == token), None)
        oauth = parse_oauth_header(auth)
        if oauth.get("oauth_consumer_key") != self.consumer_key:
            return None
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return None
        account = next(
            (a for a in self.accounts if a.access_token == oauth.get("oauth_token")), None
        )
        if account is None:
            return None
        try:
            if abs(time.time() - int(oauth.get("oauth_timestamp", "0"))) > 300:
                return None
        except ValueError:
            return None
        url = urlparse(path)
        params = [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
        params += parse_qsl(url.query, keep_blank_values=True)
        expected = oauth1_signature(
            method, self.base_url + url.path, params, self.consumer_secret, account.token_secret
        )
        if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
            return None
        with self._lock:
            nonce = oauth.get("oauth_nonce", "")
            if not nonce or nonce in self._nonces:
                return None
            self._nonces.add(nonce)
        return account

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        who = self._who(method, path, headers)
        if who is None:
            return self._unauthorized()
        url = urlparse(path)
        if who == "app":
            if method == "POST":
                return (
                    403,
                    {
                        "title": "Unsupported Authentication",
                        "status": 403,
                        "type": "https://api.x.com/2/problems/unsupported-authentication",
                        "detail": "Authenticating with OAuth 2.0 Application-Only is"
                        " forbidden for this endpoint.",
                    },
                    {},
                )
            return self._unauthorized()
        assert isinstance(who, Account)
        if method == "POST" and url.path == "/2/tweets":
            return self._post(who, headers, body)
        if method == "GET" and url.path == "/2/users/me":
            return (
                200,
                {"data": {"id": who.user_id, "name": who.username, "username": who.username}},
                {},
            )
        if method == "GET" and url.path.startswith("/2/users/") and url.path.endswith("/tweets"):
            query = dict(parse_qsl(url.query))
            return self._timeline(url.path.split("/")[3], query)
        return (
            404,
            {
                "title": "Not Found Error",
                "status": 404,
                "type": "about:blank",
                "detail": f"no route {url.path}",
            },
            {},
        )

    def _limit_headers(self, user: str, now: float) -> dict[str, str]:
        times = self._times.setdefault(user, [])
        times[:] = [t for t in times if t > now - self.window_s]
        reset = str(int((times[0] if times else now) + self.window_s))
        left = str(max(0, self.user_limit - len(times)))
        return {
            "x-rate-limit-limit": str(self.user_limit),
            "x-rate-limit-remaining": left,
            "x-rate-limit-reset": reset,
            "x-user-limit-24hour-limit": str(self.user_limit),
            "x-user-limit-24hour-remaining": left,
            "x-user-limit-24hour-reset": reset,
        }

    def _post(self, who: Account, headers: dict[str, str], body: Any) -> Reply:
        if "application/json" not in headers.get("content-type", "") or not isinstance(body, dict):
            return (
                400,
                {
                    "title": "Invalid Request",
                    "status": 400,
                    "type": "https://api.x.com/2/problems/invalid-request",
                    "detail": "One or more parameters to your request was invalid.",
                },
                {},
            )
        text = str(body.get("text", ""))
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        with self._lock:
            now = time.time()
            limits = self._limit_headers(who.user_id, now)
            if limits["x-rate-limit-remaining"] == "0":
                self.attempts.append(429)
                return (
                    429,
                    {
                        "title": "Too Many Requests",
                        "detail": "Too Many Requests",
                        "type": "about:blank",
                        "status": 429,
                    },
                    limits,
                )
            if any(p["author_id"] == who.user_id and p["text"] == text for p in self.posts):
                self.attempts.append(403)
                return 403, DUPLICATE_BODY, limits
            self._times[who.user_id].append(now)
            post = {
                "id": str(next(self._ids)),
                "text": text,
                "author_id": who.user_id,
                "reply_to": reply_to,
            }
            self.posts.append(post)
            self.attempts.append(201)
            limits = self._limit_headers(who.user_id, now)
        if self.hold.is_set():
            self.held.set()
            self.release.wait(30)
        return (
            201,
            {"data": {"id": post["id"], "text": text, "edit_history_tweet_ids": [post["id"]]}},
            limits,
        )

    def _timeline(self, user_id: str, query: dict[str, str]) -> Reply:
        limit = int(query.get("max_results", "10"))
        fields = query.get("tweet.fields", "").split(",")
        with self._lock:
            mine = [p for p in self.posts if p["author_id"] == user_id][::-1][:limit]
        data = []
        for p in mine:
            item: dict[str, Any] = {
                "id": p["id"],
                "text": p["text"],
                "edit_history_tweet_ids": [p["id"]],
            }
            if "referenced_tweets" in fields and p["reply_to"]:
                item["referenced_tweets"] = [{"type": "replied_to", "id": p["reply_to"]}]
            data.append(item)
        if not data:
            return 200, {"meta": {"result_count": 0}}, {}
        return (
            200,
            {
                "data": data,
                "meta": {
                    "result_count": len(data),
                    "newest_id": data[0]["id"],
                    "oldest_id": data[-1]["id"],
                },
            },
            {},
        )


@contextmanager
def fake_x_posting(fake: FakeXPosting | None = None) -> Iterator[FakeXPosting]:
    fake = fake or FakeXPosting()
    with serve(fake.handle) as url:
        fake.base_url = url
        try:
            yield fake
        finally:
            fake.release.set()
