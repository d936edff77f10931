"""The worker side shared by every reader whose I/O runs on a background thread.

A subclass makes ``self._feed`` (a :class:`Feed` whose producer is its
thread) and turns taken items into records (``_records``). This base gives
``stream``, ``read`` (take what is ready, or wait a little; exhausted once the
source stopped), ``_fail`` (a fatal error stops this source only, logs it and
calls ``on_fatal``) and ``_lost`` (the reconnect warning).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from chirpflow.connectors.sources.feed import Feed
from chirpflow.connectors.sources.reader import ReadResult

T = TypeVar("T")  # what the thread puts in the feed
P = TypeVar("P")  # the position in the snapshot


class FeedReader(Generic[T, P]):
    read_poll = timedelta(milliseconds=100)  # how soon an empty read asks again
    _stream: str
    _feed: Feed[T]
    failed: str | None = None
    on_fatal: Callable[[str, str], None] | None = None

    @property
    def _log(self) -> logging.Logger:
        return logging.getLogger(type(self).__module__)  # the reader's own logger

    @property
    def stream(self) -> str:
        return self._stream

    def read(self, position: P, max_items: int) -> ReadResult:
        if not self._feed.started:
            self._resume(position)
            self._feed.start()
        items = self._feed.take(max_items)
        now = datetime.now(UTC)
        if not items:
            return ReadResult(
                [], position, exhausted=self._exhausted(), wait_until=now + self.read_poll
            )
        return self._records(position, items, now)

    def _resume(self, position: P) -> None:
        """Before the thread starts: where it picks up (a restart's position)."""

    def _exhausted(self) -> bool:
        return self.failed is not None

    def _records(self, position: P, items: list[T], now: datetime) -> ReadResult:
        raise NotImplementedError

    def _fail(self, reason: str) -> None:
        self.failed = reason
        self._log.error("%s: source stopped: %s", self._stream, reason)
        if self.on_fatal is not None:
            self.on_fatal(self._stream, reason)

    def _lost(self, err: BaseException, delay: float, digits: int = 1) -> None:
        self._log.warning(
            "%s: connection lost (%s); reconnecting in %.*fs",
            self._stream,
            type(err).__name__,
            digits,
            delay,
        )
