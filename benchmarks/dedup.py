"""Dedup state size and speed: the compact id set against the old Python set.

Usage: ``python -m benchmarks.dedup [N]`` (default 10,000,000). Prints one JSON line.
``N`` ids go in over one 7-day window, in batches of 100 (as the dedup step
feeds them), first into the old set-per-window layout and then into
:class:`~chirpflow.operators.dedup.WindowedIdSet`, in the same process.
Memory is the traced allocation growth (tracemalloc is off while timing);
``snapshot_bytes_per_epoch`` is what Bytewax pickles for one shard key after
an epoch of 100 more ids (it pickles the whole state of each touched key).

``snapshots``: the same ``N`` ids into one shard over simulated time (one
window), a snapshot every ``EPOCH_S`` seconds (the default
``snapshot_interval``), written with the segment store a run with recovery
uses (``recovery/dedup/``): bytes per epoch (the pickled snapshot plus the
segment files written for it), median and max, against the whole-window
snapshot the same epochs would pickle without a store (8 bytes per id in the
window, checked against a real pickle at the end); and the memory per id of
the set with the store's change tracking on.
"""

from __future__ import annotations

import gc
import pickle
import statistics
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from chirpflow.operators.dedup import DELTA_MAX, WindowedIdSet
from chirpflow.operators.segment_store import DirSegmentStore

WINDOW_S = 7 * 86400.0
BATCH = 100
BASE = 1_800_000_000_000_000_000
EPOCH_S = 10.0


class _CountingStore(DirSegmentStore):
    """The recovery segment store, counting the bytes of the files it writes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.written = 0
        self.files = 0

    def put(self, bucket: int, data: bytes) -> str:
        name = super().put(bucket, data)
        self.written += len(data)
        self.files += 1
        return name


class _OldSet:
    """The layout this replaced (main before issue 17), driven as its step drove it.

    One Python set of every id plus per-bucket arrays for expiry; one ``add``
    call per tweet, each computing its bucket and checking expiry.
    """

    def __init__(self, window_s: float, per_window: int = 24) -> None:
        self.per_window = per_window
        self.bucket_s = window_s / per_window
        self.seen: set[int] = set()
        self.buckets: dict[int, array[int]] = {}
        self.oldest: int | None = None

    def add(self, tweet_id: int, now: float) -> bool:
        bucket = int(now // self.bucket_s)
        if self.oldest is not None and self.oldest < bucket - self.per_window:
            limit = bucket - self.per_window
            for b in [b for b in self.buckets if b < limit]:
                self.seen.difference_update(self.buckets.pop(b))
            self.oldest = min(self.buckets) if self.buckets else None
        if tweet_id in self.seen:
            return False
        self.seen.add(tweet_id)
        ids = self.buckets.get(bucket)
        if ids is None:
            ids = self.buckets[bucket] = array("q")
            if self.oldest is None or bucket < self.oldest:
                self.oldest = bucket
        ids.append(tweet_id)
        return True

    def add_many(self, ids: list[int], now: float) -> list[bool]:
        add = self.add
        return [add(i, now) for i in ids]


def _batches(n: int, start: int = 0) -> Iterator[tuple[list[int], float]]:
    rate = n / WINDOW_S
    for lo in range(start, start + n, BATCH):
        yield [BASE + i * 7919 for i in range(lo, min(lo + BATCH, start + n))], lo / rate


def _measure(make: Callable[[], Any], n: int) -> tuple[Any, float, float]:
    """Fill a fresh state twice: timed without tracing, then traced for bytes per id."""
    s = make()
    secs = 0.0
    for ids, now in _batches(n):  # generated on the fly: timed per batch, memory spared
        t0 = time.perf_counter()
        s.add_many(ids, now)
        secs += time.perf_counter() - t0
    us = secs / n * 1e6
    del s
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    s = make()
    for ids, now in _batches(n):
        s.add_many(ids, now)
    per_id = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    return s, us, per_id


def snapshots(n: int, delta_max: int = DELTA_MAX) -> dict[str, Any]:
    """Bytes written per epoch with the segment store vs the whole window (module doc)."""
    per_epoch: list[int] = []
    whole: list[int] = []
    inline: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = _CountingStore(Path(tmp) / "dedup")
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        s = WindowedIdSet(window_s=WINDOW_S)
        next_epoch = EPOCH_S
        t0 = time.perf_counter()
        for ids, now in _batches(n):
            if now >= next_epoch:
                written = store.written
                snap = s.to_snapshot(store, delta_max)
                blob = pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)
                per_epoch.append(len(blob) + store.written - written)
                inline.append(len(blob))
                whole.append(8 * len(s))
                next_epoch = (now // EPOCH_S + 1) * EPOCH_S
            s.add_many(ids, now)
        secs = time.perf_counter() - t0
        per_id = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
        real_whole = len(pickle.dumps(s.to_snapshot(), protocol=pickle.HIGHEST_PROTOCOL))
        files = sum(1 for _ in store.directory.iterdir())
    return {
        "epoch_s": EPOCH_S,
        "delta_max": delta_max,
        "epochs": len(per_epoch),
        "ids_per_epoch": n / WINDOW_S * EPOCH_S,
        "bytes_per_id_with_store": per_id,
        "store_bytes_per_epoch_median": statistics.median(per_epoch),
        "store_bytes_per_epoch_max": max(per_epoch),
        "store_snapshot_pickle_bytes_max": max(inline),
        "store_bytes_total": sum(per_epoch),
        "store_files_written": store.files,
        "store_files_at_end": files,
        "whole_window_bytes_per_epoch_median": statistics.median(whole),
        "whole_window_bytes_per_epoch_max": max(whole),
        "whole_window_bytes_total": sum(whole),
        "whole_window_pickle_bytes_at_end": real_whole,
        "store_vs_whole_window_total": sum(per_epoch) / sum(whole),
        "seconds_with_snapshots": secs,
    }


def main(n: int) -> dict[str, Any]:
    _, old_us, old_bytes = _measure(lambda: _OldSet(WINDOW_S), n)
    gc.collect()
    new, new_us, new_bytes = _measure(lambda: WindowedIdSet(window_s=WINDOW_S), n)
    rate = n / WINDOW_S
    ids = [BASE + i * 7919 for i in range(n, n + BATCH)]
    new.add_many(ids, n / rate)
    snap = len(pickle.dumps(new.to_snapshot(), protocol=pickle.HIGHEST_PROTOCOL))
    return {
        "ids": n,
        "window_s": WINDOW_S,
        "ids_per_s": rate,
        "batch": BATCH,
        "old_set_bytes_per_id": old_bytes,
        "bytes_per_id": new_bytes,
        "old_set_add_us_per_id": old_us,
        "add_us_per_id": new_us,
        "add_speed_vs_old_set": old_us / new_us,
        "snapshot_bytes_per_epoch_100_ids": snap,
        "snapshots": snapshots(n),
    }


if __name__ == "__main__":
    print(orjson.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)).decode())
