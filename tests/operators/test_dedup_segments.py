"""Dedup snapshots with a segment store write what changed, not the window."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import pytest

from chirpflow.operators.dedup import WindowedIdSet, snapshot_refs
from chirpflow.operators.segment_store import DirSegmentStore, bucket_of

HOUR = 3600.0
BASE = 1_800_000_000_000_000_000
PER_EPOCH = 500
DELTA = 2_000
EPOCHS_PER_HOUR = 10


def _ids(epoch: int) -> list[int]:
    return [BASE + (epoch * PER_EPOCH + i) * 7919 for i in range(PER_EPOCH)]


def _dir_bytes(store: DirSegmentStore) -> int:
    if not store.directory.is_dir():
        return 0
    return sum(p.stat().st_size for p in store.directory.iterdir())


def _files(store: DirSegmentStore) -> set[str]:
    return {p.stem for p in store.directory.iterdir() if p.suffix == ".ids"}


class _Run:
    """Ids added over simulated time (4 h window of 4 buckets), a snapshot every epoch."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = DirSegmentStore(tmp_path / "dedup")
        self.ids = WindowedIdSet(window_s=4 * HOUR, buckets_per_window=4)
        self.blobs: list[bytes] = []
        self.written: list[int] = []

    def epochs(self, first: int, last: int) -> None:
        for epoch in range(first, last):
            assert all(self.ids.add_many(_ids(epoch), now=epoch * HOUR / EPOCHS_PER_HOUR))
            before = _dir_bytes(self.store)
            self.blobs.append(pickle.dumps(self.ids.to_snapshot(self.store, delta_max=DELTA)))
            self.written.append(max(0, _dir_bytes(self.store) - before))

    def load(self, epoch: int) -> WindowedIdSet:
        return WindowedIdSet.from_snapshot(pickle.loads(self.blobs[epoch]), self.store)


def test_snapshot_bytes_follow_the_new_ids_not_the_window(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.epochs(0, 40)  # 4 buckets of 5,000 ids; the last snapshot covers 20,000 ids
    window = len(pickle.dumps(run.ids.to_snapshot()))  # the inline form: the whole window
    assert window > 20_000 * 8
    # each snapshot carries fewer than DELTA ids plus a few names, whatever the window
    assert max(len(b) for b in run.blobs) < DELTA * 8 + 2_000
    # the files hold each id about twice (a recent segment, then its sealed bucket whole)
    assert sum(run.written) <= 3 * 8 * 40 * PER_EPOCH
    assert sum(map(len, run.blobs)) + sum(run.written) < window * 40 / 5


def test_a_resume_from_segments_remembers_every_id(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.epochs(0, 37)
    back = run.load(-1)
    assert len(back) == len(run.ids) == 37 * PER_EPOCH
    now = 36 * HOUR / EPOCHS_PER_HOUR
    for epoch in range(37):
        assert not any(back.add_many(_ids(epoch), now=now)), epoch
    assert all(back.add_many(_ids(37), now=now))
    # and the resumed set goes on writing only what changed
    again = WindowedIdSet.from_snapshot(pickle.loads(run.blobs[-1]), run.store)
    assert len(pickle.dumps(again.to_snapshot(run.store, delta_max=DELTA))) < DELTA * 8 + 2_000


def test_old_snapshots_stay_loadable_until_their_buckets_expire(tmp_path: Path) -> None:
    run = _Run(tmp_path)
    run.epochs(0, 40)
    old = run.load(5)
    assert len(old) == 6 * PER_EPOCH
    assert not any(old.add_many(_ids(3), now=0.5 * HOUR))

    run.epochs(40, 70)  # 7 h: buckets 0, 1 and 2 have left the 4 h window
    left = {bucket_of(name) for name in _files(run.store)}
    assert min(left) >= 2, left  # bucket 2 ends at 3 h: gone once the clock passes 7 h
    run.epochs(70, 72)
    assert min(bucket_of(name) for name in _files(run.store)) >= 3
    latest = pickle.loads(run.blobs[-1])
    named = {n for names in snapshot_refs(latest).values() for n in names}
    assert named <= _files(run.store)
    back = WindowedIdSet.from_snapshot(latest, run.store)
    assert len(back) == len(run.ids)


def test_a_missing_file_gives_one_line_and_dedup_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = _Run(tmp_path)
    run.epochs(0, 25)  # buckets 0 and 1 sealed, bucket 2 open
    other = _Run(tmp_path)  # a second shard sharing the directory
    other.ids.add_many([7, 8, 9], now=0.0)
    other.ids.add_many([10], now=2 * HOUR)
    other.blobs.append(pickle.dumps(other.ids.to_snapshot(run.store, delta_max=1)))
    snap = pickle.loads(run.blobs[-1])
    lost = snapshot_refs(snap)[0]
    for name in {*lost, *snapshot_refs(pickle.loads(other.blobs[-1]))[0]}:
        (run.store.directory / f"{name}.ids").unlink()

    caplog.set_level(logging.INFO)
    store = DirSegmentStore(run.store.directory)  # a new process
    back = WindowedIdSet.from_snapshot(snap, store)
    shard = WindowedIdSet.from_snapshot(pickle.loads(other.blobs[-1]), store)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "missing" in lines[0].getMessage() and str(run.store.directory) in lines[0].getMessage()
    assert "\n" not in lines[0].getMessage()

    now = 2.4 * HOUR
    assert all(back.add_many(_ids(0), now=now))  # bucket 0's ids are forgotten
    assert not any(back.add_many(_ids(15), now=now))  # the others are remembered
    assert not shard.add(10, now=now) and shard.add(7, now=now)
    # the next snapshot writes what it has again: it loads without a word
    caplog.clear()
    healed = back.to_snapshot(store, delta_max=DELTA)
    assert len(WindowedIdSet.from_snapshot(healed, DirSegmentStore(store.directory))) == len(back)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_inline_snapshot_loads_and_its_next_snapshot_uses_segments(tmp_path: Path) -> None:
    ids = WindowedIdSet(window_s=4 * HOUR, buckets_per_window=4)
    for h in range(3):
        ids.add_many([BASE + h * 10_000 + i for i in range(3_000)], now=h * HOUR)
    inline: dict[str, Any] = pickle.loads(pickle.dumps(ids.to_snapshot()))
    assert "segments" not in inline
    store = DirSegmentStore(tmp_path / "dedup")
    back = WindowedIdSet.from_snapshot(inline, store)
    snap = back.to_snapshot(store, delta_max=DELTA)
    assert sorted(snapshot_refs(snap)) == [0, 1, 2]  # the open bucket passed DELTA too
    assert len(pickle.dumps(snap)) < 2_000
    again = WindowedIdSet.from_snapshot(snap, store)
    assert len(again) == len(ids) == 9_000
    assert not any(again.add_many([BASE + 10_000 + i for i in range(3_000)], now=2 * HOUR))


def test_a_late_clock_reopening_a_sealed_bucket_round_trips(tmp_path: Path) -> None:
    store = DirSegmentStore(tmp_path / "dedup")
    ids = WindowedIdSet(window_s=4 * HOUR, buckets_per_window=4)
    ids.add_many([1, 2], now=0.0)
    ids.add_many([5], now=2 * HOUR)
    ids.to_snapshot(store, delta_max=1)
    assert ids.add_many([3, 1], now=0.5 * HOUR) == [True, False]  # clock went back
    ids.add_many([6], now=3 * HOUR)
    back = WindowedIdSet.from_snapshot(ids.to_snapshot(store, delta_max=1), store)
    assert sorted(back.bucket_bytes()) == [0, 2, 3]
    assert back.add_many([1, 2, 3, 5, 6, 7], now=3 * HOUR) == [False] * 5 + [True]


def test_the_store_names_files_by_content_and_deletes_only_expired_ones(tmp_path: Path) -> None:
    store = DirSegmentStore(tmp_path / "dedup")
    first = store.put(3, b"\x01" * 16)
    assert store.put(3, b"\x01" * 16) == first  # same ids, same file
    later = store.put(5, b"\x02" * 16)
    assert bucket_of(first) == 3 and first != later
    (store.directory / "notes.ids").write_bytes(b"not ours")
    (store.directory / ".tmp-abc").write_bytes(b"being written")
    assert store.expire(4) == 1
    assert store.get(first) is None and store.get(later) == b"\x02" * 16
    assert _files(store) == {later, "notes"}
    assert (store.directory / ".tmp-abc").exists()
