"""Changing the configuration between runs, with recovery on, must not crash the job.

Sources added, removed and renamed, chunk_key, chunk size, dedup shards and
workers changed: positions of unchanged sources and the dedup window are kept,
nothing stored is stored or analysed again, new sources are read.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
import orjson
import pytest
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.errors import ConfigError
from chirpflow.flows.analysis import chunk_key_fn
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.flows.recovery_migration import FlowShape, dedup_segments_dir, prepared_recovery
from chirpflow.flows.steps.chunking import ChunkLogic, split_by_chunk_key
from chirpflow.flows.summary import RunSummary
from chirpflow.model import Chunk
from chirpflow.operators.dedup import WindowedIdSet, snapshot_refs
from chirpflow.operators.segment_store import DirSegmentStore
from chirpflow.settings import Environment, Settings, settings_from_dict
from tests.factories import payload, tweet
from tests.flows.helpers import env_for, scalar, write_jsonl

MIGRATION_LOG = "chirpflow.flows.recovery_migration"


def _tweets(ids: range | list[int]) -> list[Any]:
    return [payload(i, author_id=str(100 + i % 3)) for i in ids]


def _cfg(sources: dict[str, Path], **pipeline: Any) -> Settings:
    return settings_from_dict(
        {
            "pipeline": {"snapshot_interval": "1s", "max_wait": "30s", **pipeline},
            "sources": [{"name": n, "type": "jsonl", "path": str(p)} for n, p in sources.items()],
            "sinks": {"console": False},
            "analyzer": {"kind": "offline"},
        }
    )


def _run(cfg: Settings, env: Environment, workers: int = 1) -> RunSummary:
    return run_job(cfg, env, workers=workers, live=False)


def _append(path: Path, items: list[Any]) -> None:
    with path.open("ab") as f:
        f.writelines(orjson.dumps(item) + b"\n" for item in items)


def test_sources_chunking_shards_and_workers_change_between_runs(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=MIGRATION_LOG)
    env = env_for(tmp_path, pg_url)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _append(a, _tweets(range(100)))

    first = _run(_cfg({"a": a}), env)
    assert (first.arrivals, first.analyzed) == (100, 100)

    # add a source; new lines in the kept one; other chunk key, chunk size,
    # dedup shards and workers. B repeats five tweets A already had.
    _append(a, _tweets(range(100, 120)))
    _append(b, _tweets([*range(200, 250), *range(10, 15)]))  # other shards for 16 and 5
    cfg = _cfg({"a": a, "b": b}, chunk_key="author", chunk_size=7, dedup_shards=5)
    second = _run(cfg, env, workers=2)
    assert second.arrivals == 20 + 55  # A resumed where it was; B read from its start
    assert (second.analyzed, second.duplicates) == (70, 5)
    assert scalar(pg_url, "SELECT max(size) FROM chunks WHERE key <> 'a'") <= 7
    assert "dedup_shards is now 5" in caplog.text

    # rename A (same file, so all of it comes again), drop B, shards and workers again
    caplog.clear()
    _append(b, _tweets(range(250, 260)))  # never read: B is gone
    third = _run(_cfg({"renamed": a}, dedup_shards=2), env)
    assert (third.arrivals, third.analyzed, third.duplicates) == (120, 0, 120)
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 1
    assert "a:a.jsonl" in dropped[0] and "b:b.jsonl" in dropped[0]

    # back to the defaults, one worker: nothing new, nothing again
    fourth = _run(_cfg({"renamed": a}), env)
    assert (fourth.arrivals, fourth.analyzed) == (0, 0)
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 170
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 170


def test_a_new_process_count_stops_with_one_line(tmp_path: Path, pg_url: str) -> None:
    env = env_for(tmp_path, pg_url)
    a = write_jsonl(tmp_path / "a.jsonl", _tweets(range(10)))
    _run(_cfg({"a": a}), env)
    child = {k: v for k, v in os.environ.items() if not k.startswith(("CHIRPFLOW_", "BYTEWAX_"))}
    child.update(
        {
            "DATABASE_URL": pg_url,
            "CHIRPFLOW_HOME": str(env.home),
            "CHIRPFLOW_ADDRESSES": "127.0.0.1:1;127.0.0.1:2",
            "CHIRPFLOW_PROCESS_ID": "0",
        }
    )
    out = subprocess.run(
        [sys.executable, "-m", "chirpflow.flows.cli", "run", "--source", f"jsonl:{a}", "--quiet"],
        env=child,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "number of processes changed from 1 to 2" in lines[0]
    assert "--reset-recovery" in lines[0]


def test_ingest_follows_a_changed_source_list(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    env = dataclasses.replace(
        env_for(tmp_path, pg_url), kafka_bootstrap_servers=kafka_broker.bootstrap
    )
    cfg = settings_from_dict({"ingest": {"topic": "cfg-raw", "dlq_topic": "cfg-raw.dlq"}})
    a = write_jsonl(tmp_path / "a.jsonl", _tweets(range(10)))
    b = write_jsonl(tmp_path / "b.jsonl", _tweets(range(10, 15)))
    run_ingest(cfg, env, source_spec=f"jsonl:{a}")
    run_ingest(cfg, env, source_spec=f"jsonl:{b}")
    run_ingest(cfg, env, source_spec=f"jsonl:{a}")  # A's position was dropped: read again
    assert _topic_count(kafka_broker, "cfg-raw") == 10 + 5 + 10


def _topic_count(broker: EmbeddedKafka, topic: str) -> int:
    from chirpflow.connectors.kafka import offsets

    c = offsets.consumer(broker.bootstrap)
    try:
        return sum(
            offsets.end_offset(c, topic, p) - offsets.watermarks(c, topic, p)[0]
            for p in offsets.partitions(c, topic)
        )
    finally:
        c.close()


def _chunks_after(items: list[Any], key: str, size: int, store: Path) -> list[Chunk]:
    """Run the chunk step of the flow (our ChunkLogic in Bytewax) over ``items``."""
    key_of = chunk_key_fn(key)
    flow = Dataflow("chirpflow")
    batches = op.input("read", flow, TestingSource(items))
    keyed = op.flat_map("chunk_key", batches, lambda b: split_by_chunk_key(b, key_of))
    chunked = op.stateful_batch(
        "chunk", keyed, lambda resume: ChunkLogic(key_of, size, timedelta(seconds=30), resume)
    )
    out: list[tuple[str, Any]] = []
    op.output("out", chunked, TestingSink(out))
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(str(store)))
    return [c for _, c in out if isinstance(c, Chunk)]


def test_open_chunks_survive_a_crash_then_a_new_chunk_key_and_a_smaller_size(
    tmp_path: Path,
) -> None:
    store = tmp_path / "recovery"
    store.mkdir()
    init_db_dir(store, 1)
    held = [tweet(i) for i in range(30)]  # open in a chunk keyed by source when it crashes
    new = [tweet(i) for i in range(30, 40)]
    # ABORT ends the run like a kill: no end of input, the open chunk stays in the snapshot
    assert _chunks_after([held, TestingSource.ABORT()], "source", 100, store) == []
    chunks = _chunks_after([held, new], "author", 7, store)
    assert sorted(t.id for c in chunks for t in c.tweets) == sorted(t.id for t in held + new)
    assert max(len(c.tweets) for c in chunks) == 7
    assert {c.key for c in chunks} == {"test"} | {t.author_id for t in new}


def _committed_in_flight(store: Path) -> int:
    """Chunks the ``analyze`` step holds in the last committed snapshot."""
    path = store / "part-0.sqlite3"
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            row = db.execute(
                "SELECT ser_change FROM snaps WHERE step_id = 'chirpflow.analyze'"
                " AND snap_epoch <= (SELECT max(commit_epoch) FROM commits)"
                " ORDER BY snap_epoch DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:  # the store is still being created
            return 0
    return len(pickle.loads(row[0])) if row and row[0] else 0


def test_chunks_in_flight_are_analysed_after_switching_to_the_offline_analyzer(
    tmp_path: Path, pg_url: str
) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    env = env_for(tmp_path, pg_url)
    a = write_jsonl(tmp_path / "a.jsonl", _tweets(range(200)))
    cfg = tmp_path / "llm.toml"
    cfg.write_text(
        '[pipeline]\nsnapshot_interval = "300ms"\nchunk_size = 50\n'
        f'[[sources]]\nname = "a"\ntype = "jsonl"\npath = "{a}"\nfollow = true\n'
        '[analyzer]\nkind = "llm"\nmodel = "gpt-test"\n'
        "[sinks]\nconsole = false\n"
    )
    child = {k: v for k, v in os.environ.items() if not k.startswith(("CHIRPFLOW_", "OPENAI_"))}
    with running(FakeLLM(latency_s=60)) as (fake, url):
        child.update(
            DATABASE_URL=pg_url,
            CHIRPFLOW_HOME=str(env.home),
            CHIRPFLOW_CONFIG=str(cfg),
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=url,
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "chirpflow.flows.cli", "run", "--quiet"],
            env=child,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while _committed_in_flight(env.home / "recovery") < 4:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "the LLM chunks never reached a snapshot"
                time.sleep(0.1)
            assert fake.in_flight == 4
        finally:
            proc.kill()
            proc.communicate(timeout=30)
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 0

    summary = _run(_cfg({"a": a}), env)  # offline analyzer, same source
    assert (summary.analyzed, summary.duplicates) == (200, 0)
    assert scalar(pg_url, "SELECT count(DISTINCT tweet_id) FROM analyses") == 200


def test_a_cluster_refuses_a_new_dedup_shard_count_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "recovery"
    store.mkdir()
    init_db_dir(store, 2)  # process 0 of 2 keeps part-0
    (store / "part-1.sqlite3").unlink()
    ids = WindowedIdSet()
    ids.add(16, 0.0)
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db, db:
        db.execute(
            "INSERT INTO snaps (step_id, state_key, snap_epoch, ser_change) VALUES (?, ?, 1, ?)",
            ("chirpflow.dedup", "0", pickle.dumps({**ids.to_snapshot(), "shards": 16})),
        )
        db.execute("INSERT INTO commits (part_index, commit_epoch) VALUES (0, 1)")
    monkeypatch.setenv("CHIRPFLOW_ADDRESSES", "127.0.0.1:1;127.0.0.1:2")
    monkeypatch.setenv("CHIRPFLOW_PROCESS_ID", "0")
    shape = FlowShape("chirpflow", ["a:a.jsonl"], dedup_shards=16)
    prepared_recovery(store, shape)  # unchanged: fine
    with pytest.raises(ConfigError, match="dedup_shards changed from 16 to 4") as err:
        prepared_recovery(store, dataclasses.replace(shape, dedup_shards=4))
    assert "\n" not in str(err.value) and "--reset-recovery" in str(err.value)


def test_a_new_dedup_shard_count_moves_ids_kept_in_segment_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=MIGRATION_LOG)
    store = tmp_path / "recovery"
    store.mkdir()
    init_db_dir(store, 1)
    files = DirSegmentStore(dedup_segments_dir(store))
    rows = []
    for shard in range(4):
        ids = WindowedIdSet()
        ids.add_many([n for n in range(1_000) if n % 4 == shard], 0.0)
        ids.add_many([n for n in range(1_000, 1_400) if n % 4 == shard], 86_400.0)
        snap = {**ids.to_snapshot(files, delta_max=10), "shards": 4}
        assert len(snapshot_refs(snap)) == 2 and not any(snap["buckets"].values())
        rows.append(("chirpflow.dedup", str(shard), pickle.dumps(snap)))
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db, db:
        db.executemany(
            "INSERT INTO snaps (step_id, state_key, snap_epoch, ser_change) VALUES (?, ?, 1, ?)",
            rows,
        )
        db.execute("INSERT INTO commits (part_index, commit_epoch) VALUES (0, 1)")
    shape = FlowShape("chirpflow", ["a:a.jsonl"], dedup_shards=3)
    prepared_recovery(store, shape)
    assert "moved 1400 remembered tweet ids from 4 shard(s) into 3" in caplog.text
    with closing(sqlite3.connect(store / "part-0.sqlite3")) as db:
        moved = {
            key: pickle.loads(blob)
            for key, blob in db.execute(
                "SELECT state_key, ser_change FROM snaps WHERE step_id = 'chirpflow.dedup'"
            )
        }
    assert sorted(moved) == ["0", "1", "2"]
    for key, snap in moved.items():
        ids = WindowedIdSet.from_snapshot(snap, files)
        assert len(ids) == len(range(int(key), 1_400, 3))
        assert not any(ids.add_many(list(range(int(key), 1_400, 3)), 86_400.0))
