"""Move remembered tweet ids into a new number of dedup shards.

The dedup state is split over shards by ``tweet id % shards``. When the
number of shards changes, an id remembered under its old shard would be
looked up under a new one and missed; :func:`reshard` regroups every shard's
snapshot (:meth:`chirpflow.operators.dedup.WindowedIdSet.to_snapshot`
format) so each id sits in the shard that will look for it. Time buckets are
kept as they were, so ids still leave the window on time.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from typing import Any

SHARDS = "shards"  # the shard count a snapshot was taken with


def shard_of(tweet_id: int, shards: int) -> str:
    """The state key of the shard that remembers ``tweet_id``."""
    return str(tweet_id % shards)


def is_placed(snapshots: Mapping[str, dict[str, Any]], shards: int) -> bool:
    """True when every remembered id already sits in its shard for ``shards``.

    Snapshots that record their shard count are compared by it; older ones
    (without it) by looking at their ids.
    """
    for key, snap in snapshots.items():
        recorded = snap.get(SHARDS)
        if recorded is not None:
            if recorded != shards:
                return False
            continue
        for raw in snap["buckets"].values():
            ids = array("q")
            ids.frombytes(raw)
            if any(shard_of(i, shards) != key for i in ids):
                return False
    return True


def reshard(snapshots: Iterable[dict[str, Any]], shards: int) -> dict[str, dict[str, Any]]:
    """Every remembered id regrouped into ``shards`` shards, by state key.

    Shards that would hold no id are left out (a new shard starts empty).
    """
    window_s: float | None = None
    per_window = 24
    by_shard: dict[str, dict[int, array[int]]] = {}
    for snap in snapshots:
        window_s = snap["window_s"] if window_s is None else max(window_s, snap["window_s"])
        per_window = snap["buckets_per_window"]
        for bucket, raw in snap["buckets"].items():
            ids = array("q")
            ids.frombytes(raw)
            for i in ids:
                by_shard.setdefault(shard_of(i, shards), {}).setdefault(bucket, array("q")).append(
                    i
                )
    return {
        key: {
            "window_s": window_s,
            "buckets_per_window": per_window,
            "buckets": {b: ids.tobytes() for b, ids in sorted(buckets.items())},
            SHARDS: shards,
        }
        for key, buckets in sorted(by_shard.items())
    }


def id_count(snapshots: Iterable[dict[str, Any]]) -> int:
    """How many ids the snapshots remember."""
    return sum(len(raw) // 8 for snap in snapshots for raw in snap["buckets"].values())
