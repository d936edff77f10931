"""Bytewax stateful step around :class:`operators.dedup.WindowedIdSet`.

Keyed by a shard of the tweet id (a handful of keys, never one per tweet);
the snapshot is the id buckets as raw bytes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bytewax.operators import StatefulBatchLogic

from chirpflow.model import DeadLetter, Duplicate, Tweet
from operators.dedup import WindowedIdSet

Item = Tweet | Duplicate | DeadLetter


class DedupLogic(StatefulBatchLogic[Tweet | DeadLetter, Item, dict[str, Any]]):
    """First arrivals pass, repeats become Duplicates, dead letters pass through."""

    def __init__(self, window: timedelta, resume: dict[str, Any] | None) -> None:
        if resume is not None:
            self.ids = WindowedIdSet.from_snapshot(resume)
            self.ids.window_s = window.total_seconds()
        else:
            self.ids = WindowedIdSet(window_s=window.total_seconds())

    def on_batch(self, values: list[Tweet | DeadLetter]) -> tuple[list[Item], bool]:
        now = time.time()
        out: list[Item] = []
        add = self.ids.add
        for tweet in values:
            if not isinstance(tweet, Tweet) or add(int(tweet.id), now):
                out.append(tweet)
            else:
                out.append(Duplicate(tweet.origin, tweet.id, tweet.source, tweet.fetched_at))
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> dict[str, Any]:
        return self.ids.to_snapshot()


def shard_of(item: Tweet | DeadLetter, shards: int) -> str:
    """A few dedup state keys, by tweet id; dead letters share one pass-through key."""
    if isinstance(item, Tweet):
        return str(int(item.id) % shards)
    return "dead"
