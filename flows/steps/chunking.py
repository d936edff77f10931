"""Bytewax stateful step around :class:`operators.chunking.ChunkBuffer`.

``notify_at`` is the open chunk's deadline (first tweet + max_wait), so a
trickle of tweets cannot hold a chunk open past it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bytewax.operators import StatefulBatchLogic

from chirpflow.model import Chunk, DeadLetter, Duplicate, Tweet
from operators.chunking import ChunkBuffer

Passing = Duplicate | DeadLetter


class ChunkLogic(StatefulBatchLogic[Tweet | Passing, Chunk | Passing, ChunkBuffer]):
    """Chunks tweets; duplicates and dead letters are emitted as they come."""

    def __init__(
        self,
        key_of: Callable[[Tweet], str],
        max_size: int,
        max_wait: timedelta,
        resume: ChunkBuffer | None,
    ) -> None:
        self.key_of = key_of
        if resume is not None:
            self.buf = dataclasses.replace(
                resume, max_size=max_size, max_wait=max_wait, tweets=list(resume.tweets)
            )
        else:
            self.buf = ChunkBuffer(key="", max_size=max_size, max_wait=max_wait)

    def on_batch(self, values: list[Tweet | Passing]) -> tuple[list[Chunk | Passing], bool]:
        now = datetime.now(UTC)
        out: list[Chunk | Passing] = []
        buf = self.buf
        for item in values:
            if not isinstance(item, Tweet):
                out.append(item)
                continue
            if not buf.key:
                buf.key = self.key_of(item)
            chunk = buf.add(item, now)
            if chunk is not None:
                out.append(chunk)
        return out, StatefulBatchLogic.RETAIN

    def on_notify(self) -> tuple[list[Chunk | Passing], bool]:
        chunk = self.buf.flush_if_due(datetime.now(UTC))
        return ([chunk] if chunk else []), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[list[Chunk | Passing], bool]:
        chunk = self.buf.flush(datetime.now(UTC))
        return ([chunk] if chunk else []), StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        return self.buf.due_at

    def snapshot(self) -> ChunkBuffer:
        return dataclasses.replace(self.buf, tweets=list(self.buf.tweets))
