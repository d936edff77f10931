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
    for i in range(0, 200_000, 100):  # 10 ids per second for ~5.5 hours
        assert all(ids.add_many(list(range(i, i + 100)), now=i * 0.1))
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
    for lo in range(0, n, 100):
        batch = [i * 7919 % 1_000_003 + (i << 20) for i in range(lo, lo + 100)]
        assert all(s.add_many(batch, now=lo * 0.01))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert used / n <= 16, used / n
    assert not s.add(5 * 7919 % 1_000_003 + (5 << 20), now=n * 0.01)
    assert W.from_snapshot(s.to_snapshot()).add(7, now=n * 0.01) is not None


def test_a_batch_answers_in_order_with_repeats_inside_it_and_across_buckets() -> None:
    ids = WindowedIdSet(window_s=4 * 3600.0, buckets_per_window=4)
    assert ids.add_many([5, 6, 5, 7, 6], now=0.0) == [True, True, False, True, False]
    # later buckets: the first ones are sealed into the shared array and still found
    assert ids.add_many([8, 5], now=3600.0) == [True, False]
    assert ids.add_many([9, 8, 6, 10], now=2 * 3600.0) == [True, False, False, True]
    assert ids.add(10, now=2 * 3600.0) is False
    assert ids.add_many([], now=2 * 3600.0) == []
    assert len(ids) == 6


def test_sealed_buckets_expire_one_by_one_through_batches() -> None:
    hour = 3600.0
    ids = WindowedIdSet(window_s=4 * hour, buckets_per_window=4)
    for h in range(4):
        assert ids.add_many([100 + h, 200 + h], now=h * hour) == [True, True]
    # hour 0's bucket ends at 1h; gone once the clock is a window past that
    assert ids.add_many([100, 101], now=5 * hour + 1) == [True, False]
    assert ids.add_many([101, 102], now=6 * hour + 1) == [True, False]


def test_a_late_clock_reopens_an_older_bucket_and_it_expires_on_time() -> None:
    hour = 3600.0
    ids = WindowedIdSet(window_s=4 * hour, buckets_per_window=4)
    ids.add_many([1], now=0.0)
    ids.add_many([2], now=2 * hour)
    assert ids.add_many([3, 1], now=0.5 * hour) == [True, False]  # clock went back
    assert ids.add_many([3, 2], now=3 * hour) == [False, False]
    back = WindowedIdSet.from_snapshot(pickle.loads(pickle.dumps(ids.to_snapshot())))
    assert sorted(back.bucket_bytes()) == [0, 2, 3]
    assert back.add_many([1, 3, 2], now=5 * hour + 1) == [True, True, False]


def test_tail_merges_keep_every_id_and_snapshot_matches_the_old_layout() -> None:
    ids = WindowedIdSet(window_s=DAY)
    batch = list(range(0, 30_000, 3))  # over TAIL_MAX: merged into the sorted array
    assert all(ids.add_many(batch, now=10.0))
    assert not any(ids.add_many(batch[::-1], now=20.0))
    assert ids.add_many([1, 2], now=DAY) == [True, True]  # a later bucket
    snap = ids.to_snapshot()
    # the format older versions wrote and read: per bucket, raw native int64 ids
    from array import array

    restored: list[int] = []
    for raw in snap["buckets"].values():
        a = array("q")
        a.frombytes(raw)
        restored.extend(a)
    assert sorted(restored) == sorted([*batch, 1, 2])
