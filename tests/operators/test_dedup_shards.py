from __future__ import annotations

from pathlib import Path

from chirpflow.operators.dedup import WindowedIdSet, snapshot_refs
from chirpflow.operators.dedup_shards import id_count, is_placed, reshard, shard_of
from chirpflow.operators.segment_store import DirSegmentStore

HOUR = 3600.0


def _shards(ids_at: dict[int, float], shards: int) -> dict[str, dict[str, object]]:
    sets: dict[str, WindowedIdSet] = {}
    for tweet_id, at in ids_at.items():
        sets.setdefault(shard_of(tweet_id, shards), WindowedIdSet(window_s=24 * HOUR)).add(
            tweet_id, at
        )
    return {k: {**s.to_snapshot(), "shards": shards} for k, s in sets.items()}


def test_every_id_moves_to_the_shard_that_will_look_for_it_and_keeps_its_bucket() -> None:
    ids_at = {1_000 + i: (i % 24) * HOUR for i in range(200)}
    old = _shards(ids_at, 3)
    assert not is_placed(old, 5)
    new = reshard(old.values(), 5)
    assert is_placed(new, 5) and id_count(new.values()) == 200
    for key, snap in new.items():
        ids = WindowedIdSet.from_snapshot(snap)
        mine = [i for i in ids_at if shard_of(i, 5) == key]
        assert len(ids) == len(mine)
        assert not any(ids.add(i, 23 * HOUR) for i in mine)  # all remembered
    # a bucket still expires on time: ids from hour 0 are gone a window later
    shard = WindowedIdSet.from_snapshot(new["0"])
    early = [i for i, at in ids_at.items() if at == 0 and shard_of(i, 5) == "0"]
    assert early and all(shard.add(i, 25 * HOUR + 1) for i in early)


def test_snapshots_without_a_shard_count_are_judged_by_their_ids() -> None:
    placed = {
        k: {x: v for x, v in s.items() if x != "shards"}
        for k, s in _shards({7: 0.0, 9: 0.0}, 4).items()
    }
    assert is_placed(placed, 4)
    assert not is_placed(placed, 2)


def test_ids_in_segment_files_move_too(tmp_path: Path) -> None:
    store = DirSegmentStore(tmp_path / "dedup")
    ids_at = {1_000 + i: (i % 24) * HOUR for i in range(300)}
    sets: dict[str, WindowedIdSet] = {}
    for tweet_id, at in ids_at.items():
        sets.setdefault(shard_of(tweet_id, 3), WindowedIdSet(window_s=24 * HOUR)).add(tweet_id, at)
    # snapshots taken with recovery on: ids in files, names in the snapshot
    old = {k: s.to_snapshot(store, delta_max=1) for k, s in sets.items()}
    assert all(snapshot_refs(s) and not any(s["buckets"].values()) for s in old.values())
    assert is_placed(old, 3, store) and not is_placed(old, 5, store)
    new = reshard(old.values(), 5, store)
    assert is_placed(new, 5) and id_count(new.values()) == id_count(old.values(), store) == 300
    for key, snap in new.items():
        shard = WindowedIdSet.from_snapshot(snap, store)
        mine = [i for i in ids_at if shard_of(i, 5) == key]
        assert len(shard) == len(mine)
        assert not any(shard.add(i, 23 * HOUR) for i in mine)
