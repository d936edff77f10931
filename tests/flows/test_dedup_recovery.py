"""The dedup step in Bytewax with recovery on: small snapshots, every id kept over a kill.

Ids live in files of the recovery directory; snapshots name them."""

from __future__ import annotations

import pickle
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from chirpflow.flows.job import run_job
from chirpflow.flows.recovery_migration import dedup_segments_dir
from chirpflow.flows.steps.dedup import DedupLogic, split_by_shard
from chirpflow.model import Duplicate, Tweet
from chirpflow.operators.dedup import DELTA_MAX, snapshot_refs
from chirpflow.operators.segment_store import DirSegmentStore
from chirpflow.settings import Settings, settings_from_dict
from tests.factories import payload, tweet
from tests.flows.helpers import env_for, write_jsonl

SHARDS = 4
DELTA = 60
BATCH = 100


def _dedup(items: list[Any], recovery: Path) -> list[Tweet | Duplicate]:
    """Run the flow's dedup step (our DedupLogic in Bytewax) over batches of tweets."""
    store = DirSegmentStore(dedup_segments_dir(recovery))
    flow = Dataflow("chirpflow")
    batches = op.input("read", flow, TestingSource(items))
    sharded = op.flat_map("dedup_shard", batches, lambda b: split_by_shard(b, SHARDS))
    deduped = op.stateful_batch(
        "dedup",
        sharded,
        lambda resume: DedupLogic(timedelta(days=7), resume, SHARDS, store, delta_max=DELTA),
    )
    out: list[tuple[str, list[Any]]] = []
    op.output("out", deduped, TestingSink(out))
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(str(recovery)))
    return [item for _, batch in out for item in batch]


def _dedup_snaps(recovery: Path) -> list[bytes]:
    with closing(sqlite3.connect(recovery / "part-0.sqlite3")) as db:
        rows = db.execute(
            "SELECT ser_change FROM snaps WHERE step_id = 'chirpflow.dedup'"
            " AND ser_change IS NOT NULL"
        ).fetchall()
    return [bytes(blob) for (blob,) in rows]


def test_a_killed_dedup_resumes_from_small_snapshots_and_remembers_every_id(
    tmp_path: Path,
) -> None:
    recovery = tmp_path / "recovery"
    recovery.mkdir()
    init_db_dir(recovery, 1)
    batches = [[tweet(b * BATCH + i) for i in range(BATCH)] for b in range(20)]
    again = [tweet(n) for n in range(0, 20 * BATCH, 7)]  # all seen before the kill
    new = [tweet(10_000 + n) for n in range(50)]
    # ABORT ends the run like a kill: what the last snapshot holds is all that is left
    items = [*batches, TestingSource.ABORT(), again, new]
    first = _dedup(items, recovery)
    assert len(first) == 20 * BATCH and not any(isinstance(t, Duplicate) for t in first)

    snaps = [pickle.loads(blob) for blob in _dedup_snaps(recovery)]
    assert snaps and all("segments" in s for s in snaps)
    # 2,000 ids in 4 shards: each snapshot holds fewer than DELTA ids, the rest are file names
    assert max(len(blob) for blob in _dedup_snaps(recovery)) < DELTA * 8 + 1_000
    files = {p.stem for p in dedup_segments_dir(recovery).iterdir()}
    assert {n for s in snaps for names in snapshot_refs(s).values() for n in names} <= files

    # resumed after the kill (input replays from the last snapshot): every tweet
    # seen before is a duplicate, new ones pass
    second = _dedup(items, recovery)
    assert sum(isinstance(t, Duplicate) for t in second) == len(again)
    passed = {t.id for t in second if isinstance(t, Tweet)}
    assert {t.id for t in new} <= passed
    assert passed - {t.id for t in new} <= {t.id for t in batches[-1]}  # at most a replay


def _job_cfg(name: str, path: Path) -> Settings:
    return settings_from_dict(
        {
            "pipeline": {"snapshot_interval": "1s", "max_wait": "30s", "dedup_shards": 1},
            "sources": [{"name": name, "type": "jsonl", "path": str(path)}],
            "sinks": {"console": False},
            "analyzer": {"kind": "offline"},
        }
    )


def test_the_job_keeps_dedup_ids_in_files_of_its_recovery_directory(
    tmp_path: Path, pg_url: str
) -> None:
    env = env_for(tmp_path, pg_url)
    n = DELTA_MAX + 500  # past one segment's worth in the one shard
    lines = write_jsonl(tmp_path / "a.jsonl", [payload(i) for i in range(n)])
    first = run_job(_job_cfg("a", lines), env, live=False)
    assert (first.arrivals, first.analyzed) == (n, n)
    assert list(dedup_segments_dir(env.home / "recovery").glob("*.ids"))
    # the same file under a new name is read again: the resumed window knows every id
    second = run_job(_job_cfg("renamed", lines), env, live=False)
    assert (second.arrivals, second.analyzed, second.duplicates) == (n, 0, n)
