"""Bytewax stateful step around :class:`operators.dedup.WindowedIdSet`.

Keyed by a shard of the tweet id (a handful of keys, never one per tweet);
the snapshot is the id buckets as raw bytes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bytewax.operators import StatefulBatchLogic

from chirpflow.model import Duplicate, Tweet
from operators.dedup import WindowedIdSet


class DedupLogic(StatefulBatchLogic[Tweet, Tweet | Duplicate, dict[str, Any]]):
    def __init__(self, window: timedelta, resume: dict[str, Any] | None) -> None:
        if resume is not None:
            self.ids = WindowedIdSet.from_snapshot(resume)
            self.ids.window_s = window.total_seconds()
        else:
            self.ids = WindowedIdSet(window_s=window.total_seconds())

    def on_batch(self, values: list[Tweet]) -> tuple[list[Tweet | Duplicate], bool]:
        now = time.time()
        out: list[Tweet | Duplicate] = []
        add = self.ids.add
        for tweet in values:
            if add(int(tweet.id), now):
                out.append(tweet)
            else:
                out.append(Duplicate(tweet.origin, tweet.id, tweet.source, tweet.fetched_at))
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> dict[str, Any]:
        return self.ids.to_snapshot()


def shard_of(tweet: Tweet, shards: int) -> str:
    return str(int(tweet.id) % shards)
