from __future__ import annotations

import pickle

from chirpflow.operators.dedup import WindowedIdSet

DAY = 86_400.0


def test_second_arrival_inside_window_is_a_duplicate() -> None:
    ids = WindowedIdSet(window_s=7 * DAY)
    assert ids.add(1, now=0.0) is True
    assert ids.add(1, now=6 * DAY) is False
    assert ids.add(2, now=6 * DAY) is True


def test_ids_expire_after_the_window() -> None:
    ids = WindowedIdSet(window_s=7 * DAY, buckets_per_window=7)
    ids.add(1, now=0.0)
    # bucket granularity: kept at least a window, at most a window plus a bucket
    assert ids.add(1, now=7 * DAY) is False
    assert ids.add(1, now=8 * DAY + 1) is True


def test_memory_is_bounded_by_the_window() -> None:
    ids = WindowedIdSet(window_s=3600.0, buckets_per_window=12)
    for i in range(200_000):
        ids.add(i, now=i * 0.1)  # 10 ids per second for ~5.5 hours
    # at most one window plus one bucket of ids (10/s * (3600 + 300) s)
    assert len(ids) <= 10 * (3600 + 300)
    assert len(ids) >= 10 * 3600
    assert len(ids.bucket_bytes()) <= 13


def test_snapshot_restores_identical_behaviour_and_is_compact() -> None:
    ids = WindowedIdSet(window_s=DAY)
    for i in range(100_000):
        ids.add(i * 7919, now=1000.0 + i)
    snap = ids.to_snapshot()
    blob = pickle.dumps(snap)
    assert len(blob) < 100_000 * 9 + 10_000  # ~8 bytes per id
    back = WindowedIdSet.from_snapshot(pickle.loads(blob))
    assert len(back) == len(ids)
    assert back.add(7919 * 99_999, now=101_000.0) is False
    assert back.add(13, now=101_000.0) is True
    assert back._oldest == ids._oldest


def test_snapshot_is_not_affected_by_later_adds() -> None:
    ids = WindowedIdSet()
    ids.add(1, now=0.0)
    snap = ids.to_snapshot()
    ids.add(2, now=1.0)
    assert len(WindowedIdSet.from_snapshot(snap)) == 1


def test_windowed_id_set_memory_per_id_under_16_bytes() -> None:
    import tracemalloc

    from chirpflow.operators.dedup import WindowedIdSet as W

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    s = W(window_s=3600.0, buckets_per_window=4)
    n = 60_000
    for i in range(n):
        assert s.add(i * 7919 % 1_000_003 + (i << 20), now=i * 0.01)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert used / n <= 16, used / n
    assert not s.add(5 * 7919 % 1_000_003 + (5 << 20), now=n * 0.01)
    assert W.from_snapshot(s.to_snapshot()).add(7, now=n * 0.01) is not None
