"""Sorted int64 id arrays: membership of many ids at once, and merging.

The helpers behind :class:`chirpflow.operators.dedup.WindowedIdSet`. Every
operation is one or two numpy calls in C, so a batch of ids costs a few
microseconds whatever the array's size (binary search, ``O(log n)`` per id).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
Tags = npt.NDArray[np.uint16]
Mask = npt.NDArray[np.bool_]

EMPTY: Ids = np.empty(0, dtype=np.int64)
NO_TAGS: Tags = np.empty(0, dtype=np.uint16)


def contains(sorted_ids: Ids, query: Ids) -> Mask:
    """For each id of ``query``: is it in ``sorted_ids``?"""
    n = len(sorted_ids)
    if n == 0:
        return np.zeros(len(query), dtype=np.bool_)
    found: Mask = sorted_ids.take(sorted_ids.searchsorted(query), mode="clip") == query
    return found


def contains_one(sorted_ids: Ids, tweet_id: int) -> bool:
    n = len(sorted_ids)
    if n == 0:
        return False
    at = int(np.searchsorted(sorted_ids, tweet_id))
    return at < n and int(sorted_ids[at]) == tweet_id


def union(sorted_ids: Ids, new: Any) -> Ids:
    """``sorted_ids`` plus the (distinct, unseen) ids of ``new``, sorted."""
    extra = np.fromiter(new, dtype=np.int64)
    if len(extra) == 0:
        return sorted_ids
    extra.sort()
    return np.insert(sorted_ids, np.searchsorted(sorted_ids, extra), extra)


def union_tagged(sorted_ids: Ids, tags: Tags, new: Ids, tag: int) -> tuple[Ids, Tags]:
    """Insert sorted ``new`` (all tagged ``tag``) into ``sorted_ids`` and its parallel ``tags``."""
    if len(new) == 0:
        return sorted_ids, tags
    at = np.searchsorted(sorted_ids, new)
    return np.insert(sorted_ids, at, new), np.insert(tags, at, np.uint16(tag & 0xFFFF))
