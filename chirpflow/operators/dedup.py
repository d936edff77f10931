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
searches; :meth:`WindowedIdSet.add` is the one-id form.

Snapshots (:meth:`WindowedIdSet.to_snapshot`) are ``{"buckets": {bucket: raw
int64 bytes}}``, the whole window, when there is no segment store (no
recovery). With a :class:`~chirpflow.operators.segment_store.SegmentStore`
the ids go to content-addressed files instead and the snapshot carries
``"segments": {bucket: [names]}`` plus, in ``"buckets"``, only the ids added
to the open bucket since its last segment (fewer than ``delta_max``): sealed
buckets never change, so each is written once when it is sealed; the open
bucket gets a new segment of its recent ids whenever they pass ``delta_max``,
and a new whole-bucket segment after ``MAX_OPEN_SEGMENTS`` of those. The
bytes a snapshot writes follow what changed, not the window. Both forms load.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from chirpflow.operators import sorted_ids as sid
from chirpflow.operators.segment_store import SegmentStore

log = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(days=7)
TAIL_MAX = 4096
DELTA_MAX = 4_096  # ids of the open bucket a snapshot carries inline, at most
MAX_OPEN_SEGMENTS = 8  # then the open bucket is written again as one segment


@dataclass(slots=True)
class _Open:
    """A bucket still receiving ids: sorted ids plus a small tail not yet merged."""

    ids: sid.Ids = field(default_factory=lambda: sid.EMPTY)
    tail: set[int] = field(default_factory=set)
    # with a segment store: the segments holding this bucket's saved ids, and
    # the ids added since (None: nothing saved yet, no tracking)
    segments: list[str] | None = None
    unsaved: array[int] = field(default_factory=lambda: array("q"))

    def note_new(self, new: sid.Ids) -> None:
        if self.segments is not None:
            self.unsaved.frombytes(new.tobytes())

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
    _saved: dict[int, str] = field(default_factory=dict)  # sealed bucket -> its segment
    _expired_below: int | None = None  # buckets below this have left the window

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
        if open_.segments is not None:
            open_.unsaved.append(tweet_id)
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
        distinct = set(tweet_ids)
        open_ = self._open[bucket]
        if len(distinct) == len(tweet_ids) and not seen.any():  # the common batch: all new
            open_.tail |= distinct
            open_.note_new(query)
            open_.merge_if_full()
            return [True] * len(tweet_ids)
        if len(distinct) != len(tweet_ids):  # repeats inside the batch
            first = np.zeros(len(query), dtype=np.bool_)
            first[np.unique(query, return_index=True)[1]] = True
            seen |= ~first
        fresh = ~seen
        new = query[fresh]
        open_.tail.update(new.tolist())
        open_.note_new(new)
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
        reopened = bucket in self._sealed_counts
        self._sealed, self._tags = sid.union_tagged(self._sealed, self._tags, b.ids, bucket)
        self._sealed_counts[bucket] = self._sealed_counts.get(bucket, 0) + len(b.ids)
        if not reopened and b.segments is not None and len(b.segments) == 1 and not b.unsaved:
            self._saved[bucket] = b.segments[0]  # already one whole segment
        else:
            self._saved.pop(bucket, None)  # written whole at the next snapshot

    def _expire(self, bucket: int) -> None:
        """Drop every bucket that ended more than a window before ``bucket`` began."""
        limit = bucket - self.buckets_per_window
        for b in [b for b in self._open if b < limit]:
            del self._open[b]
        gone = [b for b in self._sealed_counts if b < limit]
        if gone:
            for b in gone:
                del self._sealed_counts[b]
                self._saved.pop(b, None)
            keep = ~np.isin(self._tags, np.array([b & 0xFFFF for b in gone], dtype=np.uint16))
            self._sealed, self._tags = self._sealed[keep], self._tags[keep]
        live = [*self._open, *self._sealed_counts]
        self._oldest = min(live) if live else None
        if self._expired_below is None or limit > self._expired_below:
            self._expired_below = limit

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

    def to_snapshot(
        self, store: SegmentStore | None = None, delta_max: int = DELTA_MAX
    ) -> dict[str, Any]:
        """The state to resume from: the whole window inline, or segment names (module doc)."""
        head = {"window_s": self.window_s, "buckets_per_window": self.buckets_per_window}
        if store is None:
            return {**head, "buckets": self.bucket_bytes()}
        if self._expired_below is not None:
            store.expire(self._expired_below)
        segments: dict[int, list[str]] = {}
        inline: dict[int, bytes] = {}
        for b, n in sorted(self._sealed_counts.items()):
            if n == 0:
                inline[b] = b""
                continue
            name = self._saved.get(b)
            if name is None:
                ids = self._sealed[self._tags == np.uint16(b & 0xFFFF)]
                name = self._saved[b] = store.put(b, ids.tobytes())
            segments[b] = [name]
        for b, open_ in sorted(self._open.items()):
            saved = self._save_open(b, open_, store, delta_max)
            if saved:
                segments.setdefault(b, []).extend(saved)
            inline[b] = open_.unsaved.tobytes()
        return {**head, "buckets": inline, "segments": segments}

    @staticmethod
    def _save_open(b: int, open_: _Open, store: SegmentStore, delta_max: int) -> list[str]:
        """Write the open bucket's recent ids as a segment once there are ``delta_max``.

        The segments now holding the bucket's saved ids.
        """
        if open_.segments is None:  # first snapshot with a store: start tracking
            open_.merge()
            open_.segments = []
            open_.unsaved = array("q", open_.ids.tobytes())
        if len(open_.unsaved) >= delta_max:
            if len(open_.segments) >= MAX_OPEN_SEGMENTS:
                open_.merge()
                open_.segments = [store.put(b, open_.ids.tobytes())]
            else:
                recent = np.sort(np.frombuffer(open_.unsaved, dtype=np.int64))
                open_.segments.append(store.put(b, recent.tobytes()))
            open_.unsaved = array("q")
        return open_.segments

    @classmethod
    def from_snapshot(
        cls,
        snap: Mapping[str, Any],
        store: SegmentStore | None = None,
        now: float | None = None,
    ) -> WindowedIdSet:
        """The set a snapshot describes; segments are read from ``store``.

        With ``now``, buckets that have left the window by then are not read
        (their files may be gone). A missing segment is reported once by the
        store and its ids are forgotten; everything else is kept.
        """
        s = cls(window_s=snap["window_s"], buckets_per_window=snap["buckets_per_window"])
        keep_from = None if now is None else int(now // s.bucket_s) - s.buckets_per_window
        refs = snapshot_refs(snap)
        buckets, missing = read_buckets(snap, store, keep_from)
        if missing:
            report_missing(store, missing)
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
            if not missing:
                s._saved = {
                    b: refs[b][0]
                    for b in sealed
                    if len(refs.get(b, ())) == 1 and not snap["buckets"].get(b)
                }
        s._open[newest] = open_ = _Open(ids=buckets[newest])
        if store is not None and not missing:  # keep the chain: no rewrite on resume
            open_.segments = list(refs.get(newest, ()))
            open_.unsaved = array("q", bytes(snap["buckets"].get(newest, b"")))
        s._newest = newest
        s._oldest = min(buckets)
        if keep_from is not None:
            s._expired_below = keep_from  # files of buckets skipped above go at the next snapshot
        return s


def snapshot_refs(snap: Mapping[str, Any]) -> dict[int, list[str]]:
    """The segment names of each bucket a snapshot refers to (none in the inline form)."""
    return {int(b): list(names) for b, names in snap.get("segments", {}).items()}


def read_buckets(
    snap: Mapping[str, Any], store: SegmentStore | None = None, keep_from: int | None = None
) -> tuple[dict[int, sid.Ids], list[str]]:
    """Each bucket's sorted ids (inline and segments), and the segment names not found.

    Buckets older than ``keep_from`` are left out.
    """
    refs = snapshot_refs(snap)
    inline = {int(b): raw for b, raw in snap["buckets"].items()}
    missing: list[str] = []
    buckets: dict[int, sid.Ids] = {}
    for b in sorted({*inline, *refs}):
        if keep_from is not None and b < keep_from:
            continue
        parts: list[sid.Ids] = []
        if inline.get(b):
            parts.append(np.frombuffer(bytes(inline[b]), dtype=np.int64))
        for name in refs.get(b, ()):
            data = store.get(name) if store is not None else None
            if data is None:
                missing.append(name)
            else:
                parts.append(np.frombuffer(data, dtype=np.int64))
        buckets[b] = _joined(parts)
    return buckets, missing


def _joined(parts: list[sid.Ids]) -> sid.Ids:
    if not parts:
        return sid.EMPTY
    if len(parts) == 1:
        return np.sort(parts[0])
    joined: sid.Ids = np.unique(np.concatenate(parts))
    return joined


def report_missing(store: SegmentStore | None, names: list[str]) -> None:
    """One line for segment files a snapshot names but nobody can read (their ids are forgotten)."""
    if store is not None:
        store.report_missing(names)
    else:
        log.warning(
            "dedup state: the snapshot names %d segment file(s) but no segment store is"
            " configured; the tweet ids in them are forgotten",
            len(names),
        )
