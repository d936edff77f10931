"""Bluesky Jetstream: the firehose of new posts over a websocket, resumable.

One connection to ``<stream_url>/subscribe?wantedCollections=app.bsky.feed.post``
(plus ``wantedDids`` for watched accounts, resolved from handles once). Each
text frame is one JSON event; ``identity`` and ``account`` events are skipped.
Accounts filter on the server (``wantedDids``), keywords here: a post is kept
when it comes from a watched account (if any are watched) and its text holds a
watched keyword (if any are watched; a delete has no text, so with keywords
deletes are not followed). A frame that is not JSON is passed on and becomes a
dead letter.

The position is ``(time_us, seq)`` of the newest event EMITTED: a restart
reconnects with ``cursor = time_us - rewind`` and drops what it already
emitted, so nothing is skipped or repeated. A dropped connection reconnects
the same way, with a growing backoff. An unresolvable handle stops the source.
Usage counts one request per connection and each post emitted (``on_usage``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from websockets.exceptions import InvalidHandshake, WebSocketException
from websockets.sync.client import connect

from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.feed_reader import FeedReader
from chirpflow.connectors.sources.polling_reader import Usage
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.model import RawRecord, make_origin
from chirpflow.retry import Schedule, doubling

log = logging.getLogger(__name__)

STREAM_URL = "wss://jetstream2.us-east.bsky.network"
RESOLVE_URL = "https://public.api.bsky.app"
COLLECTION = "app.bsky.feed.post"
REWIND_US = 5_000_000  # reconnect a few seconds back, then drop what was emitted

Position = tuple[int | None, int]  # (time_us of the newest event emitted, next seq)


class JetstreamReader(FeedReader[tuple[int, Any], Position]):
    def __init__(
        self,
        source: str,
        keywords: list[str],
        handles: list[str],
        stream_url: str = STREAM_URL,
        resolve_url: str = RESOLVE_URL,
        *,
        on_fatal: Callable[[str, str], None] | None = None,
        on_usage: Callable[[Usage], None] | None = None,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.source = source
        self.on_usage = on_usage
        self.keywords = [k.lower() for k in keywords if k.strip()]
        self.handles = handles
        self.stream_url = stream_url.rstrip("/")
        self.resolve_url = resolve_url
        self.on_fatal = on_fatal
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._stream = f"{source}:jetstream"
        self._feed: Feed[tuple[int, Any]] = Feed(self._stream, self._run)
        self._cursor: int | None = None  # the newest time_us put in the feed
        self.connects = 0
        self._socket: Any = None

    def start_position(self) -> Position:
        return (None, 0)

    def _resume(self, position: Position) -> None:
        self._cursor = position[0]

    def _records(
        self, position: Position, items: list[tuple[int, Any]], now: datetime
    ) -> ReadResult:
        time_us, seq = position
        records = [
            RawRecord(
                make_origin(self._stream, seq + i),
                self.source,
                payload,
                now,
                "jetstream",
                platform="bluesky",
            )
            for i, (_, payload) in enumerate(items)
        ]
        newest = max((t for t, _ in items), default=-1)
        if time_us is None or newest > time_us:
            time_us = newest
        return ReadResult(records, (time_us, seq + len(items)))

    def close(self) -> None:
        self._feed.stopping.set()
        sock = self._socket
        if sock is not None:
            sock.close()
        self._feed.stop()

    # -- the connection thread ------------------------------------------------------
    def url(self, dids: list[str]) -> str:
        params: list[tuple[str, str]] = [("wantedCollections", COLLECTION)]
        params += [("wantedDids", d) for d in dids]
        if self._cursor is not None:
            params.append(("cursor", str(max(0, self._cursor - REWIND_US))))
        return f"{self.stream_url}/subscribe?{urlencode(params)}"

    def resolve(self) -> list[str]:
        dids = []
        with httpx.Client(base_url=self.resolve_url, timeout=10.0) as http:
            for handle in self.handles:
                if handle.startswith("did:"):
                    dids.append(handle)
                    continue
                resp = http.get(
                    "/xrpc/com.atproto.identity.resolveHandle", params={"handle": handle}
                )
                did = resp.json().get("did") if resp.status_code == 200 else None
                if not isinstance(did, str):
                    raise LookupError(f"Bluesky: cannot resolve handle {handle!r}")
                dids.append(did)
        return dids

    def _run(self) -> None:
        try:
            dids = self.resolve()
        except (LookupError, httpx.HTTPError, ValueError) as err:
            self._fail(str(err))
            return
        backoff = Schedule(doubling(self.backoff_s, self.max_backoff_s))
        while not self._feed.stopping.is_set():
            try:
                self._connect(dids)
                backoff.reset()
            except (OSError, WebSocketException, InvalidHandshake) as err:
                delay = backoff.next()
                self._lost(err, delay)
                self._feed.stopping.wait(delay)

    def _connect(self, dids: list[str]) -> None:
        self.connects += 1
        self._count(1, 0)
        with connect(self.url(dids), open_timeout=10, max_size=2**22) as ws:
            self._socket = ws
            for frame in ws:
                if self._feed.stopping.is_set():
                    return
                self._event(frame)

    def _event(self, frame: str | bytes) -> None:
        try:
            event = orjson.loads(frame)
        except orjson.JSONDecodeError:
            self._feed.put([(self._cursor or -1, frame)])  # dead-lettered as malformed JSON
            return
        if not isinstance(event, dict) or event.get("kind") != "commit":
            return  # identity and account events
        time_us = event.get("time_us")
        if not isinstance(time_us, int):
            self._feed.put([(self._cursor or -1, event)])
            return
        if self._cursor is not None and time_us <= self._cursor:
            return  # replayed by the rewind: already emitted
        commit = event.get("commit")
        if not isinstance(commit, dict) or commit.get("collection") != COLLECTION:
            return
        if self.keywords:
            record = commit.get("record")
            text = record.get("text") if isinstance(record, dict) else None
            if not isinstance(text, str) or not any(k in text.lower() for k in self.keywords):
                return
        self._cursor = time_us
        self._feed.put([(time_us, event)])
        self._count(0, 1)

    def _count(self, requests: int, posts: int) -> None:
        if self.on_usage is not None:
            self.on_usage(Usage("bluesky", self.source, requests, posts, 0.0))
