"""Move remembered tweet ids into a new number of dedup shards.

The dedup state is split over shards by ``tweet id % shards``. When the
number of shards changes, an id remembered under its old shard would be
looked up under a new one and missed; :func:`reshard` regroups every shard's
snapshot (:meth:`chirpflow.operators.dedup.WindowedIdSet.to_snapshot`
format, inline or with segment files) so each id sits in the shard that will
look for it. Time buckets are
kept as they were, so ids still leave the window on time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from chirpflow.operators import sorted_ids as sid
from chirpflow.operators.dedup import read_buckets, report_missing
from chirpflow.operators.segment_store import SegmentStore

SHARDS = "shards"  # the shard count a snapshot was taken with


def shard_of(tweet_id: int, shards: int) -> str:
    """The state key of the shard that remembers ``tweet_id``."""
    return str(tweet_id % shards)


def is_placed(
    snapshots: Mapping[str, dict[str, Any]], shards: int, store: SegmentStore | None = None
) -> bool:
    """True when every remembered id already sits in its shard for ``shards``.

    Snapshots that record their shard count are compared by it; older ones
    (without it) by looking at their ids (segments are read from ``store``).
    """
    for key, snap in snapshots.items():
        recorded = snap.get(SHARDS)
        if recorded is not None:
            if recorded != shards:
                return False
            continue
        buckets, _ = read_buckets(snap, store)
        for ids in buckets.values():
            if len(ids) and np.any(ids % shards != int(key)):
                return False
    return True


def reshard(
    snapshots: Iterable[dict[str, Any]], shards: int, store: SegmentStore | None = None
) -> dict[str, dict[str, Any]]:
    """Every remembered id regrouped into ``shards`` shards, by state key.

    Segments are read from ``store`` (a missing one is reported once and its
    ids are forgotten); the result is in the inline form, whose next snapshot
    writes segments again. Shards that would hold no id are left out (a new
    shard starts empty).
    """
    window_s: float | None = None
    per_window = 24
    by_shard: dict[str, dict[int, list[sid.Ids]]] = {}
    missing: list[str] = []
    for snap in snapshots:
        window_s = snap["window_s"] if window_s is None else max(window_s, snap["window_s"])
        per_window = snap["buckets_per_window"]
        buckets, lost = read_buckets(snap, store)
        missing += lost
        for bucket, ids in buckets.items():
            where = ids % shards
            for shard in np.unique(where).tolist():
                key = shard_of(int(shard), shards)
                by_shard.setdefault(key, {}).setdefault(bucket, []).append(ids[where == shard])
    if missing:
        report_missing(store, missing)
    return {
        key: {
            "window_s": window_s,
            "buckets_per_window": per_window,
            "buckets": {
                b: np.sort(np.concatenate(p)).tobytes() for b, p in sorted(buckets.items())
            },
            SHARDS: shards,
        }
        for key, buckets in sorted(by_shard.items())
    }


def id_count(snapshots: Iterable[dict[str, Any]], store: SegmentStore | None = None) -> int:
    """How many ids the snapshots remember."""
    return sum(len(ids) for snap in snapshots for ids in read_buckets(snap, store)[0].values())
