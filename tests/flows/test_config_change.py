"""Changing the configuration between runs, with recovery on, must not crash the job.

Sources added, removed and renamed, chunk_key, chunk size, dedup shards and
workers changed: positions of unchanged sources and the dedup window are kept,
nothing stored is stored or analysed again, new sources are read.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.flows.summary import RunSummary
from chirpflow.settings import Environment, Settings, settings_from_dict
from tests.factories import payload
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
