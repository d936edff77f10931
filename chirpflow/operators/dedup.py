"""Drop repeated tweet ids inside a time window, with memory bounded by the window.

Ids live in time buckets (``window / buckets`` wide); when the clock passes a
bucket's end plus the window, the whole bucket is dropped.

Layout (about 10 bytes per id instead of the ~82 of a Python set):

* the *open* bucket (the newest one) keeps a sorted int64 array plus a small
  unsorted tail set merged into it once it holds ``TAIL_MAX`` ids (or 1/16 of
  the array);
* all *sealed* buckets share ONE sorted int64 array, searched once per lookup,
  with a parallel ``uint16`` array saying which bucket each id belongs to (used
  only to drop a bucket when it expires and to write snapshots).

:meth:`WindowedIdSet.add_many` checks a whole batch with two numpy binary
searches; :meth:`WindowedIdSet.add` is the one-id form. The snapshot format
(``{"buckets": {bucket: raw int64 bytes}}``) is unchanged, so old snapshots load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from chirpflow.operators import sorted_ids as sid

DEFAULT_WINDOW = timedelta(days=7)
TAIL_MAX = 4096


@dataclass(slots=True)
class _Open:
    """A bucket still receiving ids: sorted ids plus a small tail not yet merged."""

    ids: sid.Ids = field(default_factory=lambda: sid.EMPTY)
    tail: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.ids) + len(self.tail)

    def __contains__(self, tweet_id: int) -> bool:
        return tweet_id in self.tail or sid.contains_one(self.ids, tweet_id)

    def merge_if_full(self) -> None:
        if len(self.tail) >= max(TAIL_MAX, len(self.ids) >> 4):
            self.merge()

    def merge(self) -> None:
        if self.tail:
            self.ids = sid.union(self.ids, self.tail)
            self.tail = set()


@dataclass(slots=True)
class WindowedIdSet:
    """Tweet ids first seen within the last ``window`` seconds.

    ``add`` answers whether an id is new; time is passed in (seconds since the
    epoch) so behaviour is deterministic under test.
    """

    window_s: float = DEFAULT_WINDOW.total_seconds()
    buckets_per_window: int = 24
    _open: dict[int, _Open] = field(default_factory=dict)
    _sealed: sid.Ids = field(default_factory=lambda: sid.EMPTY)
    _tags: sid.Tags = field(default_factory=lambda: sid.NO_TAGS)
    _sealed_counts: dict[int, int] = field(default_factory=dict)
    _newest: int | None = None
    _oldest: int | None = None

    @property
    def bucket_s(self) -> float:
        return self.window_s / self.buckets_per_window

    def __len__(self) -> int:
        return len(self._sealed) + sum(len(b) for b in self._open.values())

    def __contains__(self, tweet_id: int) -> bool:
        return any(tweet_id in b for b in self._open.values()) or sid.contains_one(
            self._sealed, tweet_id
        )

    def add(self, tweet_id: int, now: float) -> bool:
        """Record ``tweet_id`` at ``now``; True when it was not seen in the window."""
        bucket = self._enter(int(now // self.bucket_s))
        if tweet_id in self:
            return False
        open_ = self._open[bucket]
        open_.tail.add(tweet_id)
        open_.merge_if_full()
        return True

    def add_many(self, tweet_ids: Sequence[int], now: float) -> list[bool]:
        """Record ids in order at ``now``; for each, True when it was not seen before.

        All set work runs in C: two binary searches (sealed, open array), a set
        intersection with the open tail, and a first-occurrence check in the batch.
        """
        if not tweet_ids:
            return []
        bucket = self._enter(int(now // self.bucket_s))
        query = np.array(tweet_ids, dtype=np.int64)
        seen = sid.contains(self._sealed, query)
        for open_ in self._open.values():
            if len(open_.ids):
                seen |= sid.contains(open_.ids, query)
            if not open_.tail.isdisjoint(tweet_ids):
                seen |= np.isin(query, list(open_.tail.intersection(tweet_ids)))
        if len(set(tweet_ids)) != len(tweet_ids):  # repeats inside the batch
            first = np.zeros(len(query), dtype=np.bool_)
            first[np.unique(query, return_index=True)[1]] = True
            seen |= ~first
        fresh = ~seen
        open_ = self._open[bucket]
        open_.tail.update(query[fresh].tolist())
        open_.merge_if_full()
        out: list[bool] = fresh.tolist()
        return out

    def _enter(self, bucket: int) -> int:
        """Expire and seal for a clock in ``bucket``; the open bucket to add to."""
        if self._oldest is not None and self._oldest < bucket - self.buckets_per_window:
            self._expire(bucket)
        if self._newest is None or bucket > self._newest:
            self._newest = bucket
            for b in [b for b in self._open if b < bucket]:
                self._seal(b)
        if bucket not in self._open:
            self._open[bucket] = _Open()
            if self._oldest is None or bucket < self._oldest:
                self._oldest = bucket
        return bucket

    def _seal(self, bucket: int) -> None:
        """Move an open bucket into the shared sorted array of sealed ids."""
        b = self._open.pop(bucket)
        b.merge()
        self._sealed, self._tags = sid.union_tagged(self._sealed, self._tags, b.ids, bucket)
        self._sealed_counts[bucket] = self._sealed_counts.get(bucket, 0) + len(b.ids)

    def _expire(self, bucket: int) -> None:
        """Drop every bucket that ended more than a window before ``bucket`` began."""
        limit = bucket - self.buckets_per_window
        for b in [b for b in self._open if b < limit]:
            del self._open[b]
        gone = [b for b in self._sealed_counts if b < limit]
        if gone:
            for b in gone:
                del self._sealed_counts[b]
            keep = ~np.isin(self._tags, np.array([b & 0xFFFF for b in gone], dtype=np.uint16))
            self._sealed, self._tags = self._sealed[keep], self._tags[keep]
        live = [*self._open, *self._sealed_counts]
        self._oldest = min(live) if live else None

    def expire(self, now: float) -> None:
        """Drop what has left the window (``add`` does this lazily too)."""
        self._expire(int(now // self.bucket_s))

    def bucket_bytes(self) -> dict[int, bytes]:
        """Each bucket's ids, sorted, as raw native int64 bytes."""
        out: dict[int, bytes] = {}
        for b in sorted(self._sealed_counts):
            out[b] = self._sealed[self._tags == np.uint16(b & 0xFFFF)].tobytes()
        for b, open_ in self._open.items():
            open_.merge()
            if b in out:  # a late id reopened a sealed bucket
                out[b] = np.union1d(np.frombuffer(out[b], dtype=np.int64), open_.ids).tobytes()
            else:
                out[b] = open_.ids.tobytes()
        return out

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "buckets_per_window": self.buckets_per_window,
            "buckets": self.bucket_bytes(),
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> WindowedIdSet:
        s = cls(window_s=snap["window_s"], buckets_per_window=snap["buckets_per_window"])
        buckets = {
            int(b): np.frombuffer(bytes(raw), dtype=np.int64) for b, raw in snap["buckets"].items()
        }
        if not buckets:
            return s
        newest = max(buckets)
        sealed = {b: ids for b, ids in buckets.items() if b != newest}
        if sealed:
            ids = np.concatenate(list(sealed.values()))
            tags = np.concatenate(
                [np.full(len(v), b & 0xFFFF, dtype=np.uint16) for b, v in sealed.items()]
            )
            order = np.argsort(ids, kind="stable")
            s._sealed, s._tags = ids[order], tags[order]
            s._sealed_counts = {b: len(v) for b, v in sealed.items()}
        s._open[newest] = _Open(ids=np.sort(buckets[newest]))
        s._newest = newest
        s._oldest = min(buckets)
        return s
