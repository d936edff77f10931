"""Mastodon hashtag streaming (server-sent events), with no gap on reconnect.

The streaming host comes from ``/api/v2/instance`` (``configuration.urls.streaming``);
``/api/v1/streaming/hashtag?tag=..`` needs a user token since Mastodon 4.2
(``MASTODON_ACCESS_TOKEN``). Events: ``update`` (a status: kept), ``delete`` and
``status.update`` (edits: not followed), ``:thump`` heartbeats. An event cut by
a disconnect is discarded, never emitted half.

SSE cannot resume, so every (re)connect first catches up through the REST tag
timeline from the newest status emitted (``min_id``, in order), then streams;
statuses at or below that id are dropped. The position is ``(newest id
emitted, seq)``: a restart neither skips nor repeats. 401 stops the source.
Usage counts each request (instance, catch-up page, connection) and each
status emitted (``on_usage``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import orjson

from chirpflow.connectors.providers.base import ErrorKind, ProviderError, Watch, WatchKind
from chirpflow.connectors.providers.mastodon import MastodonProvider, order_key
from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.feed_reader import FeedReader
from chirpflow.connectors.sources.polling_reader import Usage
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.model import RawRecord, make_origin
from chirpflow.retry import Schedule, doubling

log = logging.getLogger(__name__)
CATCH_UP_PAGES = 50

Position = tuple[str | None, int]


class MastodonStreamReader(FeedReader[dict[str, Any] | bytes, Position]):
    def __init__(
        self,
        source: str,
        base_url: str,
        tag: str,
        env: Mapping[str, str],
        *,
        on_fatal: Callable[[str, str], None] | None = None,
        on_usage: Callable[[Usage], None] | None = None,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        silence_s: float = 90.0,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.tag = tag.lstrip("#")
        self.on_fatal = on_fatal
        self.on_usage = on_usage
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        token = env.get("MASTODON_ACCESS_TOKEN")
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._rest = MastodonProvider(base_url, env)
        self._http = httpx.Client(
            headers=self._headers, timeout=httpx.Timeout(30.0, read=silence_s)
        )
        self._stream = f"{source}:stream:#{self.tag}"
        self._feed: Feed[dict[str, Any] | bytes] = Feed(self._stream, self._run)
        self._last = -1  # the newest status id put in the feed
        self.connects = 0
        self.discarded_partial = 0

    def start_position(self) -> Position:
        return (None, 0)

    def _resume(self, position: Position) -> None:
        last = position[0]
        self._last = order_key({"id": last}) if last else -1

    def _records(
        self, position: Position, items: list[dict[str, Any] | bytes], now: datetime
    ) -> ReadResult:
        last, seq = position
        records = [
            RawRecord(
                make_origin(self._stream, seq + i),
                self.source,
                p,
                now,
                f"#{self.tag}",
                platform="mastodon",
            )
            for i, p in enumerate(items)
        ]
        newest = max((order_key(p) for p in items if isinstance(p, dict)), default=-1)
        if newest > order_key({"id": last}):
            last = str(newest)
        return ReadResult(records, (last, seq + len(items)))

    def close(self) -> None:
        self._feed.stopping.set()
        self._http.close()
        self._rest.close()
        self._feed.stop()

    # -- the connection thread ------------------------------------------------------
    def _run(self) -> None:
        backoff = Schedule(doubling(self.backoff_s, self.max_backoff_s))
        while not self._feed.stopping.is_set():
            try:
                if self._last >= 0:
                    self._catch_up()
                self._listen(self._streaming_url())
                backoff.reset()  # a stream that ended cleanly waits the first delay
                delay = backoff.next()
            except ProviderError as err:
                if err.kind is ErrorKind.FATAL:
                    self._fail(str(err))
                    return
                delay = backoff.next()
                log.warning("%s: %s; retrying in %.1fs", self._stream, err, delay)
            except httpx.HTTPError as err:
                delay = backoff.next()
                self._lost(err, delay)
            self._feed.stopping.wait(delay)

    def _catch_up(self) -> None:
        """What was posted since the newest status emitted, oldest first."""
        watch = Watch(WatchKind.TIMELINE, f"#{self.tag}")
        got: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(CATCH_UP_PAGES):
            page = self._rest.fetch(watch, str(self._last), cursor)
            self._count(1, 0)
            got += [s for s in page.tweets if isinstance(s, dict)]
            cursor = page.next_cursor
            if cursor is None:
                break
        self._put(sorted(got, key=order_key))

    def _streaming_url(self) -> str:
        resp = self._http.get(f"{self.base_url}/api/v2/instance")
        self._count(1, 0)
        base = self.base_url
        if resp.status_code == 200:
            urls = ((resp.json().get("configuration") or {}).get("urls")) or {}
            streaming = urls.get("streaming")
            if isinstance(streaming, str) and streaming:
                base = streaming.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        return f"{base.rstrip('/')}/api/v1/streaming/hashtag"

    def _listen(self, url: str) -> None:
        self.connects += 1
        self._count(1, 0)
        with self._http.stream("GET", url, params={"tag": self.tag}) as resp:
            if resp.status_code in (401, 403):
                resp.read()
                raise ProviderError(
                    ErrorKind.FATAL,
                    f"Mastodon streaming {resp.status_code}: {resp.text[:200]}"
                    " (hashtag streams need MASTODON_ACCESS_TOKEN since Mastodon 4.2)",
                )
            if resp.status_code >= 400:
                resp.read()
                raise ProviderError(ErrorKind.TRANSIENT, f"Mastodon streaming {resp.status_code}")
            buffer = b""
            try:
                for chunk in resp.iter_bytes():
                    buffer += chunk.replace(b"\r\n", b"\n")
                    *events, buffer = buffer.split(b"\n\n")
                    for event in events:
                        self._event(event)
                    if self._feed.stopping.is_set():
                        return
            finally:
                if buffer.strip():
                    self.discarded_partial += 1
                    log.warning("%s: discarded an event cut by the disconnect", self._stream)

    def _event(self, block: bytes) -> None:
        name, data = b"", []
        for line in block.split(b"\n"):
            if line.startswith(b":"):
                continue  # a heartbeat (:thump) or comment
            field, _, value = line.partition(b":")
            value = value[1:] if value.startswith(b" ") else value
            if field == b"event":
                name = value
            elif field == b"data":
                data.append(value)
        if name != b"update" or not data:
            return
        raw = b"\n".join(data)
        try:
            status = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._feed.put([raw])  # dead-lettered as malformed JSON
            return
        self._put([status] if isinstance(status, dict) else [])

    def _put(self, statuses: list[dict[str, Any]]) -> None:
        fresh = []
        for s in statuses:
            key = order_key(s)
            if key > self._last:
                self._last = key
                fresh.append(s)
            elif key < 0:
                fresh.append(s)  # no usable id: normalization says why
        self._feed.put(fresh)
        self._count(0, sum(1 for s in fresh if isinstance(s, dict)))

    def _count(self, requests: int, posts: int) -> None:
        if self.on_usage is not None and (requests or posts):
            self.on_usage(Usage("mastodon", self.source, requests, posts, 0.0))
