"""X filtered stream: rules synced from the config, tweets read line by line.

At start the configured rules are synced by tag (missing ones added, stale or
changed ones deleted). The stream is one long chunked response of
``\\r\\n``-terminated JSON lines with blank keep-alives; 20 s without a
byte means a dead connection. Reconnects follow X's documented backoff:
network errors +250 ms per try up to 16 s, HTTP errors doubling from 5 s up
to 320 s, 429 (e.g. TooManyConnections) doubling from 60 s. A line cut by a
disconnect is discarded, never emitted half. 401/403 stop the source.

A stream cannot be resumed: the position is only the next sequence number,
and tweets posted while disconnected are not delivered (X offers backfill
only on higher tiers). Pair the stream with a polled search when that matters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson

from chirpflow.connectors.providers.x_api import BASE_URL, TWEET_FIELDS, USER_FIELDS, to_canonical
from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.feed_reader import FeedReader
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.model import RawRecord, make_origin
from chirpflow.retry import Schedule, doubling, pause, stepping

log = logging.getLogger(__name__)
RULES_PATH = "/2/tweets/search/stream/rules"


@dataclass(frozen=True)
class Backoff:
    """X's documented reconnect schedule (scaled down in tests)."""

    network_step_s: float = 0.25
    network_max_s: float = 16.0
    http_start_s: float = 5.0
    http_max_s: float = 320.0
    rate_start_s: float = 60.0
    silence_s: float = 20.0


class StreamFatal(Exception):
    """Credentials or permissions are wrong: retrying will not help."""


def sync_rules(http: httpx.Client, wanted: dict[str, str]) -> tuple[list[str], list[str]]:
    """Make the stream's rules equal ``wanted`` (tag -> value); returns (added, deleted) tags."""
    resp = http.get(RULES_PATH)
    _raise_for(resp)
    current = orjson.loads(resp.content).get("data") or []
    stale = [r for r in current if wanted.get(r.get("tag", "")) != r.get("value")]
    kept = {r.get("tag") for r in current if r not in stale}
    missing = [{"value": v, "tag": t} for t, v in wanted.items() if t not in kept]
    if stale:
        _raise_for(http.post(RULES_PATH, json={"delete": {"ids": [r["id"] for r in stale]}}))
    if missing:
        _raise_for(http.post(RULES_PATH, json={"add": missing}))
    return [m["tag"] for m in missing], [str(r.get("tag")) for r in stale]


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code in (401, 403):
        raise StreamFatal(f"X stream: HTTP {resp.status_code}: {resp.text[:200]}")
    if resp.status_code >= 400:
        raise httpx.HTTPStatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)


class XStreamReader(FeedReader[Any, int]):
    def __init__(
        self,
        source: str,
        bearer_token: str,
        rules: dict[str, str],
        base_url: str = BASE_URL,
        backoff: Backoff = Backoff(),
        on_fatal: Callable[[str, str], None] | None = None,
    ) -> None:
        self.source = source
        self.rules = rules
        self.backoff = backoff
        self.on_fatal = on_fatal
        timeout = httpx.Timeout(30.0, read=backoff.silence_s)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"authorization": f"Bearer {bearer_token}"},
        )
        self._stream = f"{source}:stream"
        self._feed: Feed[Any] = Feed(self._stream, self._run)
        self.connects = 0
        self.discarded_partial = 0

    def start_position(self) -> int:
        return 0

    def _records(self, position: int, items: list[Any], now: datetime) -> ReadResult:
        records = [
            RawRecord(
                make_origin(self._stream, position + i),
                self.source,
                p,
                now,
                p.pop("_watch", None) if isinstance(p, dict) else None,
            )
            for i, p in enumerate(items)
        ]
        return ReadResult(records, position + len(items))

    def close(self) -> None:
        self._feed.stopping.set()
        self._http.close()  # unblocks a read in progress
        self._feed.stop()

    # -- the connection thread ------------------------------------------------------
    def _run(self) -> None:
        b = self.backoff
        network = Schedule(stepping(b.network_step_s, b.network_max_s))
        http = Schedule(doubling(b.http_start_s, b.http_max_s))
        rate = Schedule(doubling(b.rate_start_s))
        try:
            added, deleted = sync_rules(self._http, self.rules)
            log.info("%s: rules synced (+%s -%s)", self._stream, added, deleted)
        except StreamFatal as err:
            self._fail(str(err))
            return
        except (httpx.HTTPError, orjson.JSONDecodeError) as err:
            log.warning(
                "%s: rule sync failed (%s); streaming with the rules in place", self._stream, err
            )
        while not self._feed.stopping.is_set():
            try:
                if self._connect():
                    network.reset()
                delay = 0.0
            except StreamFatal as err:
                self._fail(str(err))
                return
            except httpx.HTTPStatusError as err:
                delay = (rate if err.response.status_code == 429 else http).next()
                log.warning("%s: %s; reconnecting in %.2fs", self._stream, err, delay)
            except (httpx.TransportError, httpx.StreamError) as err:
                delay = network.next()
                self._lost(err, delay, digits=2)
            else:
                http.reset()
                rate.reset()
            pause(delay, self._feed.stopping)

    def _connect(self) -> bool:
        """One connection, read until it ends; True if any tweet came through."""
        params = {
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        self.connects += 1
        got = False
        with self._http.stream("GET", "/2/tweets/search/stream", params=params) as resp:
            if resp.status_code >= 400:
                resp.read()
                _raise_for(resp)
            buffer = b""
            try:
                for chunk in resp.iter_raw():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        got |= self._line(line.strip())
            finally:
                if buffer.strip():
                    self.discarded_partial += 1
                    log.warning("%s: discarded a line cut by the disconnect", self._stream)
        return got

    def _line(self, line: bytes) -> bool:
        if not line:
            return False  # keep-alive
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            item: Any = line  # normalization dead-letters it as malformed JSON
        else:
            if isinstance(msg, dict) and "data" not in msg and "errors" in msg:
                log.warning("%s: stream error message: %s", self._stream, str(msg)[:300])
                return False
            item = self._tweet(msg)
        self._feed.put([item])
        return True

    @staticmethod
    def _tweet(msg: Any) -> Any:
        if not isinstance(msg, dict) or not isinstance(msg.get("data"), dict):
            return msg
        users = {
            str(u.get("id")): u
            for u in (msg.get("includes") or {}).get("users") or []
            if isinstance(u, dict)
        }
        out = to_canonical(msg["data"], users)
        tags = [r.get("tag") for r in msg.get("matching_rules") or [] if isinstance(r, dict)]
        out["_watch"] = f"rule:{tags[0]}" if tags and tags[0] else None
        return out
