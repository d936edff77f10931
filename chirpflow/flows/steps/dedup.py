"""Bytewax stateful step around :class:`chirpflow.operators.dedup.WindowedIdSet`.

Items are whole batches (lists) of one dedup shard: a handful of state keys,
never one per tweet, and one Python call per batch rather than per tweet.
The snapshot is the id buckets as raw bytes, or with a segment store (recovery
on) the names of files holding them plus the few ids added since (see
:meth:`chirpflow.operators.dedup.WindowedIdSet.to_snapshot`), and the shard
count they were taken with (see :mod:`chirpflow.operators.dedup_shards`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from functools import cache
from operator import attrgetter
from typing import Any

from bytewax.operators import StatefulBatchLogic

from chirpflow.model import JOB_PREFIX, DeadLetter, Duplicate, Tweet, dedup_key
from chirpflow.operators.dedup import DELTA_MAX, WindowedIdSet
from chirpflow.operators.dedup_shards import SHARDS, shard_of
from chirpflow.operators.segment_store import SegmentStore

Item = Tweet | Duplicate | DeadLetter
DEAD = "dead"


class DedupLogic(StatefulBatchLogic[list[Tweet | DeadLetter], list[Item], dict[str, Any]]):
    """First arrivals pass, repeats become Duplicates, dead letters pass through."""

    def __init__(
        self,
        window: timedelta,
        resume: dict[str, Any] | None,
        shards: int | None = None,
        store: SegmentStore | None = None,
        delta_max: int = DELTA_MAX,
    ) -> None:
        self.shards = shards
        self.store, self.delta_max = store, delta_max
        if resume is not None:
            self.ids = WindowedIdSet.from_snapshot(resume, store, now=time.time())
            self.ids.window_s = window.total_seconds()
        else:
            self.ids = WindowedIdSet(window_s=window.total_seconds())

    def on_batch(self, values: list[list[Tweet | DeadLetter]]) -> tuple[list[list[Item]], bool]:
        now = time.time()
        out: list[list[Item]] = []
        for batch in values:
            # an on-demand job wants every tweet it asked for, even one the stream
            # saw: its tweets are deduplicated per job
            tweets = _tweets(batch)
            marks = self.ids.add_many(dedup_keys(tweets), now)
            if len(tweets) == len(batch) and False not in marks:
                out.append(list(batch))  # the common batch: all tweets, all new
                continue
            fresh = iter(marks)
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
        snap = self.ids.to_snapshot(self.store, self.delta_max)
        if self.shards is not None:
            snap[SHARDS] = self.shards
        return snap


def split_by_shard(
    batch: list[Tweet | DeadLetter], shards: int
) -> list[tuple[str, list[Tweet | DeadLetter]]]:
    """``(shard, items)`` groups by the id dedup remembers; dead letters share one key."""
    names = _shard_names(shards)
    groups: defaultdict[str, list[Tweet | DeadLetter]] = defaultdict(list)
    tweets = _tweets(batch)
    for tweet, key in zip(tweets, dedup_keys(tweets), strict=True):
        groups[names[key % shards]].append(tweet)
    if len(tweets) != len(batch):
        groups[DEAD].extend(d for d in batch if not isinstance(d, Tweet))
    return list(groups.items())


_WATCH, _STORE_ID, _PLATFORM = attrgetter("watch"), attrgetter("store_id"), attrgetter("platform")


def dedup_keys(tweets: list[Tweet]) -> list[int]:
    """``[dedup_key(t) for t in tweets]``, in one pass when no tweet is a job's.

    The tweets of a batch mostly share one watch (a Kafka message key, a
    watched query): each distinct watch is checked once.
    """
    # attribute reads by map(attrgetter): the per-tweet loop runs in C
    watches = set(map(_WATCH, tweets))
    if any(w is not None and w.startswith(JOB_PREFIX) for w in watches):
        return [dedup_key(t) for t in tweets]
    keys = list(map(_STORE_ID, tweets))
    if None in keys or not set(map(_PLATFORM, tweets)) <= {"x"}:
        return [dedup_key(t) for t in tweets]
    return keys  # no None, checked above


def _tweets(batch: list[Tweet | DeadLetter]) -> list[Tweet]:
    """The tweets of ``batch``: the batch itself when it holds nothing else (checked in C)."""
    if set(map(type, batch)) <= {Tweet}:
        return batch  # type: ignore[return-value]  # only tweets
    return [t for t in batch if isinstance(t, Tweet)]


@cache
def _shard_names(shards: int) -> tuple[str, ...]:
    """``shard_of(k, shards)`` by ``k % shards``: one ``str()`` per shard, not per tweet."""
    return tuple(shard_of(i, shards) for i in range(shards))
