"""Bytewax stateful step around :class:`chirpflow.operators.dedup.WindowedIdSet`.

Items are whole batches (lists) of one dedup shard: a handful of state keys,
never one per tweet, and one Python call per batch rather than per tweet.
The snapshot is the id buckets as raw bytes and the shard count they were
taken with (see :mod:`chirpflow.operators.dedup_shards`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from bytewax.operators import StatefulBatchLogic

from chirpflow.model import DeadLetter, Duplicate, Tweet, dedup_key
from chirpflow.operators.dedup import WindowedIdSet
from chirpflow.operators.dedup_shards import SHARDS, shard_of

Item = Tweet | Duplicate | DeadLetter
DEAD = "dead"


class DedupLogic(StatefulBatchLogic[list[Tweet | DeadLetter], list[Item], dict[str, Any]]):
    """First arrivals pass, repeats become Duplicates, dead letters pass through."""

    def __init__(
        self, window: timedelta, resume: dict[str, Any] | None, shards: int | None = None
    ) -> None:
        self.shards = shards
        if resume is not None:
            self.ids = WindowedIdSet.from_snapshot(resume)
            self.ids.window_s = window.total_seconds()
        else:
            self.ids = WindowedIdSet(window_s=window.total_seconds())

    def on_batch(self, values: list[list[Tweet | DeadLetter]]) -> tuple[list[list[Item]], bool]:
        now = time.time()
        out: list[list[Item]] = []
        for batch in values:
            # an on-demand job wants every tweet it asked for, even one the stream
            # saw: its tweets are deduplicated per job
            tweets = [t for t in batch if isinstance(t, Tweet)]
            fresh = iter(self.ids.add_many([dedup_key(t) for t in tweets], now))
            checked: list[Item] = []
            for tweet in batch:
                if not isinstance(tweet, Tweet) or next(fresh):
                    checked.append(tweet)
                else:
                    checked.append(
                        Duplicate(tweet.origin, tweet.id, tweet.source, tweet.fetched_at)
                    )
            out.append(checked)
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> dict[str, Any]:
        snap = self.ids.to_snapshot()
        if self.shards is not None:
            snap[SHARDS] = self.shards
        return snap


def split_by_shard(
    batch: list[Tweet | DeadLetter], shards: int
) -> list[tuple[str, list[Tweet | DeadLetter]]]:
    """``(shard, items)`` groups by the id dedup remembers; dead letters share one key."""
    groups: defaultdict[str, list[Tweet | DeadLetter]] = defaultdict(list)
    for item in batch:
        groups[shard_of(dedup_key(item), shards) if isinstance(item, Tweet) else DEAD].append(item)
    return list(groups.items())
