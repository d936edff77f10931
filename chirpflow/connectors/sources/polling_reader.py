"""Polls one watched item of a provider, forever, without blocking the worker.

HTTP runs on a background thread; ``read`` only takes what that thread has
fetched. A poll pages back (newest first) until the last tweet already
emitted (``since_id``), then queues the new tweets oldest first. The
position in the snapshot is ``(since_id, next_seq)`` of what was EMITTED, so
a restart re-fetches exactly what was not: nothing skipped, nothing repeated.

Rate limits: 429 waits until the provider's reset; ``x-rate-limit-remaining:
0`` pauses before the next request; an optional limiter enforces a
configured budget (shared through Redis when set). A fatal error (bad key,
out of credits) stops this source only, logs it and calls ``on_fatal``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chirpflow.connectors.providers.base import ErrorKind, Provider, ProviderError, Watch, id_key
from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.feed_reader import FeedReader
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.model import RawRecord, make_origin
from chirpflow.rate_limits import RateLimiter
from chirpflow.retry import Schedule, doubling, pause

log = logging.getLogger(__name__)

Position = tuple[str | None, int]  # (since_id, next sequence number)
READ_POLL = timedelta(milliseconds=200)
BACKOFF_START_S = 5.0
BACKOFF_MAX_S = 300.0


@dataclass
class Usage:
    """What one poll cost: one call per request."""

    provider: str
    source: str
    requests: int
    tweets: int
    cost_usd: float
    remaining: int | None = None


class PollingReader(FeedReader[dict[str, Any], Position]):
    read_poll = READ_POLL

    def __init__(
        self,
        source: str,
        provider: Provider,
        watch: Watch,
        interval: timedelta = timedelta(seconds=60),
        *,
        limiter: RateLimiter | None = None,
        max_pages: int = 50,
        backfill_pages: int = 1,
        on_usage: Callable[[Usage], None] | None = None,
        on_fatal: Callable[[str, str], None] | None = None,
        backoff_s: float = BACKOFF_START_S,
        platform: str = "x",
        order_key: Callable[[Any], int] | None = None,
    ) -> None:
        self.source = source
        self.provider = provider
        self.watch = watch
        self.interval = interval
        self.limiter = limiter
        self.max_pages = max_pages
        self.backfill_pages = backfill_pages
        self.on_usage = on_usage
        self.on_fatal = on_fatal
        self.backoff_s = backoff_s
        # another platform: its payloads are native, ordered by ``order_key``
        self.platform = platform
        self._key = order_key or _id_of
        self._stream = f"{source}:{watch.label}"
        self._feed: Feed[dict[str, Any]] = Feed(f"poll {self._stream}", self._poll_forever)
        self._resume_from: str | None = None
        self.polls = 0
        self._forward = False  # the last page paged toward newer posts

    def start_position(self) -> Position:
        return (None, 0)

    # -- the worker side ------------------------------------------------------
    def _resume(self, position: Position) -> None:
        self._resume_from = position[0]  # where the polling thread starts

    def _records(
        self, position: Position, payloads: list[dict[str, Any]], now: datetime
    ) -> ReadResult:
        since_id, seq = position
        records = [
            RawRecord(
                make_origin(self._stream, seq + i),
                self.source,
                p,
                now,
                self.watch.label,
                platform=self.platform,
            )
            for i, p in enumerate(payloads)
        ]
        newest = max((self._key(p) for p in payloads if isinstance(p, dict)), default=-1)
        if newest > id_key(since_id):
            since_id = str(newest)
        return ReadResult(records, (since_id, seq + len(payloads)))

    def close(self) -> None:
        self._feed.stop()
        self.provider.close()

    # -- the polling thread -----------------------------------------------------
    def _sleep_until(self, when: datetime) -> bool:
        """False when asked to stop meanwhile."""
        return pause((when - datetime.now(UTC)).total_seconds(), self._feed.stopping)

    def _poll_forever(self) -> None:
        self._run(self._resume_from)

    def _run(self, since_id: str | None) -> None:
        backoff = Schedule(doubling(self.backoff_s, BACKOFF_MAX_S))
        collected: list[dict[str, Any]] = []
        cursor: str | None = None
        pages = 0
        next_poll = datetime.now(UTC)
        while self._sleep_until(next_poll):
            try:
                done, cursor = self._page(since_id, cursor, collected)
                pages += 1
            except ProviderError as err:
                if err.kind is ErrorKind.FATAL:
                    self._fail(str(err))
                    return
                if err.kind is ErrorKind.RATE_LIMITED:
                    next_poll = err.retry_at or datetime.now(UTC) + timedelta(seconds=60)
                    log.warning("%s: %s; waiting until %s", self._stream, err, next_poll)
                else:
                    delay = backoff.next()
                    next_poll = datetime.now(UTC) + timedelta(seconds=delay)
                    log.warning("%s: %s; retrying in %.0fs", self._stream, err, delay)
                continue
            except Exception as err:  # a bug must not kill polling silently
                log.exception("%s: unexpected error", self._stream)
                next_poll = datetime.now(UTC) + timedelta(seconds=backoff.next())
                del err
                continue
            backoff.reset()
            limit = self.max_pages if since_id is not None else self.backfill_pages
            if not done and pages >= limit:
                if since_id is not None and not self._forward:
                    log.warning(
                        "%s: stopped after %d pages before reaching the last seen tweet;"
                        " older new tweets are skipped (raise max_pages)",
                        self._stream,
                        pages,
                    )
                done = True
            if done:
                collected.sort(key=lambda p: self._key(p) if isinstance(p, dict) else -1)
                self._feed.put(collected)
                newest = max((self._key(p) for p in collected if isinstance(p, dict)), default=-1)
                if newest > id_key(since_id):
                    since_id = str(newest)
                self.polls += 1
                collected, cursor, pages = [], None, 0
                next_poll = datetime.now(UTC) + self.interval
            # else: the next page right away (after any pause the provider asked for)

    def _page(
        self, since_id: str | None, cursor: str | None, collected: list[dict[str, Any]]
    ) -> tuple[bool, str | None]:
        """Fetch one page into ``collected``; True when the poll is complete."""
        while self.limiter is not None and (wait := self.limiter.try_take(1)) > 0:
            if self._feed.stopping.wait(wait):  # closing: give up the poll
                raise ProviderError(ErrorKind.TRANSIENT, "closing")
        page = self.provider.fetch(self.watch, since_id, cursor)
        self._forward = page.forward
        floor = id_key(since_id)
        fresh = [t for t in page.tweets if not isinstance(t, dict) or self._key(t) > floor]
        collected.extend(fresh)
        for e in page.errors:
            log.warning("%s: partial error: %s", self._stream, e)
        if self.on_usage is not None:
            self.on_usage(
                Usage(self.provider.name, self.source, 1, len(fresh), page.cost_usd, page.remaining)
            )
        if page.pause_until is not None:
            self._sleep_until(page.pause_until)
        reached = since_id is not None and len(fresh) < len(page.tweets)
        return (reached or page.next_cursor is None), page.next_cursor


def _id_of(payload: dict[str, Any]) -> int:
    """An X tweet's order: its id."""
    return id_key(payload.get("id"))
