"""Bytewax stateful step around :class:`chirpflow.operators.chunking.ChunkBuffer`.

Items are lists of tweets of one chunk key. ``notify_at`` is the open chunk's
deadline (first tweet + max_wait), so a trickle of tweets cannot hold a chunk
open past it. Duplicates and dead letters arrive under a pass-through key and
leave as they came.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bytewax.operators import StatefulBatchLogic

from chirpflow import metrics
from chirpflow.model import Chunk, DeadLetter, Duplicate, Tweet
from chirpflow.operators.chunking import ChunkBuffer

Passing = Duplicate | DeadLetter
Out = Chunk | list[Passing]
PASS = "~pass"


class ChunkLogic(StatefulBatchLogic[list[Tweet | Passing], Out, ChunkBuffer]):
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

    def on_batch(self, values: list[list[Tweet | Passing]]) -> tuple[list[Out], bool]:
        now = datetime.now(UTC)
        out: list[Out] = []
        buf = self.buf
        before = len(buf.tweets)
        for batch in values:
            tweets = [item for item in batch if isinstance(item, Tweet)]
            if tweets:
                if not buf.key:
                    buf.key = self.key_of(tweets[0])
                out.extend(buf.add_many(tweets, now))
            if len(tweets) != len(batch):
                out.append([item for item in batch if not isinstance(item, Tweet)])
        metrics.PENDING_TWEETS.inc(len(buf.tweets) - before)
        return out, StatefulBatchLogic.RETAIN

    def on_notify(self) -> tuple[list[Out], bool]:
        return self._drain(self.buf.flush_if_due), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[list[Out], bool]:
        return self._drain(self.buf.flush), StatefulBatchLogic.RETAIN

    def _drain(self, flush: Callable[[datetime], Chunk | None]) -> list[Out]:
        """Every chunk ``flush`` gives (more than one when a restored buffer was over size)."""
        now = datetime.now(UTC)
        out: list[Out] = []
        while (chunk := flush(now)) is not None:
            metrics.PENDING_TWEETS.dec(len(chunk.tweets))
            out.append(chunk)
        return out

    def notify_at(self) -> datetime | None:
        return self.buf.due_at

    def snapshot(self) -> ChunkBuffer:
        return dataclasses.replace(self.buf, tweets=list(self.buf.tweets))


def split_by_chunk_key(
    batch: list[Tweet | Passing], key_of: Callable[[Tweet], str]
) -> list[tuple[str, list[Tweet | Passing]]]:
    """``(chunk key, items)`` groups; everything but tweets goes to the pass-through key."""
    return group_by_chunk_key([(PASS, batch)], key_of)


def group_by_chunk_key(
    batches: list[tuple[str, list[Tweet | Passing]]], key_of: Callable[[Tweet], str]
) -> list[tuple[str, list[Tweet | Passing]]]:
    """:func:`split_by_chunk_key` of every dedup shard's output at hand, as one group per key.

    Bytewax hands this step all the items it has at once (one per dedup shard
    of a source batch): merged, the chunk step gets one item per chunk key
    instead of one per shard and key. Items keep their order within a key.
    """
    groups: defaultdict[str, list[Tweet | Passing]] = defaultdict(list)
    for _, batch in batches:
        for item in batch:
            groups[key_of(item) if isinstance(item, Tweet) else PASS].append(item)
    return list(groups.items())
