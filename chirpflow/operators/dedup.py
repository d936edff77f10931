"""Drop repeated tweet ids inside a time window, with memory bounded by the window.

Ids live in time buckets (``window / buckets`` wide). Membership is one set
lookup; when the clock passes a bucket's end plus the window, the whole bucket
is dropped. Ids are kept as raw 64-bit integers per bucket, so a snapshot is a
few ``bytes`` objects rather than a million Python objects to deep-copy.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

DEFAULT_WINDOW = timedelta(days=7)


@dataclass(slots=True)
class WindowedIdSet:
    """Tweet ids first seen within the last ``window`` seconds.

    ``add`` answers whether an id is new; time is passed in (seconds since the
    epoch) so behaviour is deterministic under test.
    """

    window_s: float = DEFAULT_WINDOW.total_seconds()
    buckets_per_window: int = 24
    _seen: set[int] = field(default_factory=set)
    _buckets: dict[int, array[int]] = field(default_factory=dict)
    _oldest: int | None = None

    @property
    def bucket_s(self) -> float:
        return self.window_s / self.buckets_per_window

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, tweet_id: int, now: float) -> bool:
        """Record ``tweet_id`` at ``now``; True when it was not seen in the window."""
        bucket = int(now // self.bucket_s)
        if self._oldest is not None and self._oldest < bucket - self.buckets_per_window:
            self._expire(bucket)
        if tweet_id in self._seen:
            return False
        self._seen.add(tweet_id)
        ids = self._buckets.get(bucket)
        if ids is None:
            ids = self._buckets[bucket] = array("q")
            if self._oldest is None or bucket < self._oldest:
                self._oldest = bucket
        ids.append(tweet_id)
        return True

    def _expire(self, bucket: int) -> None:
        """Drop every bucket that ended more than a window before ``bucket`` began."""
        limit = bucket - self.buckets_per_window
        for b in [b for b in self._buckets if b < limit]:
            self._seen.difference_update(self._buckets.pop(b))
        self._oldest = min(self._buckets) if self._buckets else None

    def expire(self, now: float) -> None:
        """Drop what has left the window (``add`` does this lazily too)."""
        self._expire(int(now // self.bucket_s))

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "buckets_per_window": self.buckets_per_window,
            "buckets": {b: ids.tobytes() for b, ids in self._buckets.items()},
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> WindowedIdSet:
        s = cls(window_s=snap["window_s"], buckets_per_window=snap["buckets_per_window"])
        for b, raw in snap["buckets"].items():
            ids = array("q")
            ids.frombytes(raw)
            s._buckets[b] = ids
            s._seen.update(ids)
        s._oldest = min(s._buckets) if s._buckets else None
        return s
