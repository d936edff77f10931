"""Drop repeated tweet ids inside a time window, with memory bounded by the window.

Ids live in time buckets (``window / buckets`` wide); when the clock passes a
bucket's end plus the window, the whole bucket is dropped. Each bucket keeps its
ids as a sorted ``array('q')`` (8 bytes per id, binary search) plus a
small unsorted tail set of recent ids that is merged into the array once it
holds ``TAIL_MAX`` ids (or 1/16 of the array), so memory is about 8-12 bytes
per id instead of the ~82 of a Python set. A snapshot is one ``bytes`` object
per bucket (format unchanged).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import timedelta
from heapq import merge
from typing import Any

DEFAULT_WINDOW = timedelta(days=7)
TAIL_MAX = 4096


@dataclass(slots=True)
class _Bucket:
    """One time bucket: sorted ids plus a small tail not yet merged."""

    ids: array[int] = field(default_factory=lambda: array("q"))
    tail: set[int] = field(default_factory=set)

    def __contains__(self, tweet_id: int) -> bool:
        if tweet_id in self.tail:
            return True
        ids = self.ids
        i = bisect_left(ids, tweet_id)
        return i < len(ids) and ids[i] == tweet_id

    def __len__(self) -> int:
        return len(self.ids) + len(self.tail)

    def add(self, tweet_id: int) -> None:
        self.tail.add(tweet_id)
        if len(self.tail) >= max(TAIL_MAX, len(self.ids) >> 4):
            self.merge()

    def merge(self) -> None:
        if self.tail:
            # Ids are unique across the set (``add`` checks first): a linear merge.
            self.ids = array("q", merge(self.ids, sorted(self.tail)))
            self.tail = set()

    def to_bytes(self) -> bytes:
        self.merge()
        return self.ids.tobytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> _Bucket:
        ids = array("q")
        ids.frombytes(raw)
        return cls(ids=array("q", sorted(ids)))


@dataclass(slots=True)
class WindowedIdSet:
    """Tweet ids first seen within the last ``window`` seconds.

    ``add`` answers whether an id is new; time is passed in (seconds since the
    epoch) so behaviour is deterministic under test.
    """

    window_s: float = DEFAULT_WINDOW.total_seconds()
    buckets_per_window: int = 24
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _oldest: int | None = None

    @property
    def bucket_s(self) -> float:
        return self.window_s / self.buckets_per_window

    def __len__(self) -> int:
        return sum(len(b) for b in self._buckets.values())

    def __contains__(self, tweet_id: int) -> bool:
        for b in self._buckets.values():
            if tweet_id in b.tail:
                return True
            ids = b.ids
            i = bisect_left(ids, tweet_id)
            if i < len(ids) and ids[i] == tweet_id:
                return True
        return False

    def add(self, tweet_id: int, now: float) -> bool:
        """Record ``tweet_id`` at ``now``; True when it was not seen in the window."""
        bucket = int(now // self.bucket_s)
        if self._oldest is not None and self._oldest < bucket - self.buckets_per_window:
            self._expire(bucket)
        if tweet_id in self:
            return False
        ids = self._buckets.get(bucket)
        if ids is None:
            ids = self._buckets[bucket] = _Bucket()
            if self._oldest is None or bucket < self._oldest:
                self._oldest = bucket
        ids.add(tweet_id)
        return True

    def _expire(self, bucket: int) -> None:
        """Drop every bucket that ended more than a window before ``bucket`` began."""
        limit = bucket - self.buckets_per_window
        for b in [b for b in self._buckets if b < limit]:
            del self._buckets[b]
        self._oldest = min(self._buckets) if self._buckets else None

    def expire(self, now: float) -> None:
        """Drop what has left the window (``add`` does this lazily too)."""
        self._expire(int(now // self.bucket_s))

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "buckets_per_window": self.buckets_per_window,
            "buckets": {b: ids.to_bytes() for b, ids in self._buckets.items()},
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> WindowedIdSet:
        s = cls(window_s=snap["window_s"], buckets_per_window=snap["buckets_per_window"])
        for b, raw in snap["buckets"].items():
            s._buckets[b] = _Bucket.from_bytes(bytes(raw))
        s._oldest = min(s._buckets) if s._buckets else None
        return s
