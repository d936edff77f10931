"""ingest -> Kafka -> analysis -> PostgreSQL, replays of exact ranges, and a killed ingest."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer, TopicPartition

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.kafka import offsets
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.flows.replay import ReplayRange, resolve, run_replay
from chirpflow.settings import Environment, settings_from_dict
from tests.factories import payload
from tests.flows.helpers import env_for, scalar, write_jsonl

CFG = {
    "analyzer": {"kind": "offline"},
    "sinks": {"console": False},
    "pipeline": {"snapshot_interval": "1s", "max_wait": "1s"},
}


def _env(tmp_path: Path, pg_url: str, broker: EmbeddedKafka) -> Environment:
    return dataclasses.replace(env_for(tmp_path, pg_url), kafka_bootstrap_servers=broker.bootstrap)


def _topic_values(bootstrap: str, topic: str) -> list[Any]:
    c = offsets.consumer(bootstrap)
    out: list[Any] = []
    for p in offsets.partitions(c, topic):
        low, high = offsets.watermarks(c, topic, p)[0], offsets.end_offset(c, topic, p)
        if high <= low:
            continue
        c.assign([TopicPartition(topic, p, low)])
        got = 0
        deadline = time.monotonic() + 30
        while got < high - low and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(orjson.loads(msg.value() or b"null"))
                got += 1
    c.close()
    return out


def test_ingest_then_run_from_kafka_stores_every_tweet(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    lines = [payload(i) for i in range(250)] + [b"{broken", payload(3)]  # a bad line, a duplicate
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    env = _env(tmp_path, pg_url, kafka_broker)
    cfg = settings_from_dict(
        {**CFG, "ingest": {"topic": "raw", "dlq_topic": "raw.dlq", "partitions": 2}}
    )
    run_ingest(cfg, env, source_spec=f"jsonl:{path}", recovery=False)
    dead = _topic_values(kafka_broker.bootstrap, "raw.dlq")
    assert [d["reason"] for d in dead] == ["malformed_json"]
    run_job(cfg, env, source_spec="kafka:raw", limit=251, recovery=False, live=False)
    assert scalar(pg_url, "SELECT count(DISTINCT tweet_id) FROM analyses") == 250
    assert scalar(pg_url, "SELECT count(*) FROM duplicates") == 1
    # a replay of the whole topic upserts: no row is duplicated
    _, ranges = run_replay(cfg, env, "raw", ReplayRange(from_beginning=True), live=False)
    assert sum(e - s for s, e in ranges.values()) == 251
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 250
    assert scalar(pg_url, "SELECT count(*) FROM duplicates") == 1


def _produce_timed(bootstrap: str, topic: str, t0: datetime, n: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(n):
        ms = int((t0 + timedelta(minutes=i)).timestamp() * 1000)
        producer.produce(topic, key=b"k", value=orjson.dumps(payload(i)), timestamp=ms)
    producer.flush(10)


def test_replay_from_offsets_and_from_a_timestamp_is_exact(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("timed", 1)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _produce_timed(kafka_broker.bootstrap, "timed", t0, 40)
    env = _env(tmp_path, pg_url, kafka_broker)
    cfg = settings_from_dict(CFG)
    window = ReplayRange(from_time=t0 + timedelta(minutes=10), to_time=t0 + timedelta(minutes=20))
    assert resolve(kafka_broker.bootstrap, "timed", window) == {0: (10, 20)}
    run_replay(cfg, env, "timed", window, live=False)
    ids = scalar(pg_url, "SELECT array_agg(id ORDER BY id) FROM tweets")
    assert ids == [int(payload(i)["id"]) for i in range(10, 20)]
    run_replay(cfg, env, "timed", ReplayRange(from_offsets={0: 35}), live=False)
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 15  # 10..19 and 35..39
    late = ReplayRange(from_time=t0 + timedelta(days=1))
    assert resolve(kafka_broker.bootstrap, "timed", late) == {}  # nothing that late


def test_offsets_for_times_is_checked_against_the_messages(kafka_broker: EmbeddedKafka) -> None:
    kafka_broker.create_topic("probe", 1)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _produce_timed(kafka_broker.bootstrap, "probe", t0, 100)
    c = offsets.consumer(kafka_broker.bootstrap)
    try:
        for minute in (0, 1, 37, 99):
            when = t0 + timedelta(minutes=minute, seconds=-30 if minute else 0)
            assert offsets.offset_for_time(c, "probe", 0, when) == minute
        assert offsets.offset_for_time(c, "probe", 0, t0 + timedelta(hours=5)) == 100
    finally:
        c.close()


def test_bad_replay_arguments_are_named() -> None:
    with pytest.raises(Exception, match="exactly one"):
        ReplayRange()
    with pytest.raises(Exception, match="PARTITION:OFFSET"):
        offsets.parse_offsets("0-12")


CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
INGEST_TOML = """
[pipeline]
snapshot_interval = "300ms"
source_batch_size = 200

[ingest]
topic = "killed"
partitions = 1

[[sources]]
name = "file"
type = "synthetic"
seed = 3
rate = 4000
duplicate_ratio = 0.0
"""


def test_killing_ingest_and_restarting_loses_nothing(
    tmp_path: Path, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("killed", 1)  # so the watcher below sees it from the start
    cfg = tmp_path / "ingest.toml"
    cfg.write_text(INGEST_TOML)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        CHIRPFLOW_CONFIG=str(cfg),
        CHIRPFLOW_HOME=str(tmp_path / "home"),
        KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
    )
    proc = subprocess.Popen([*CLI, "ingest"], env=env, stderr=subprocess.PIPE, text=True)
    c = offsets.consumer(kafka_broker.bootstrap)
    c.assign([TopicPartition("killed", 0, 0)])
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 3000 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        seen += sum(1 for m in c.consume(1000, timeout=0.2) if m.error() is None)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    c.close()
    first = seen
    # resume, and stop after more than the kill could have left unsnapshotted (the last
    # snapshot may lie far behind the kill on a loaded machine): the sequence is deterministic
    out = subprocess.run(
        [*CLI, "ingest", "--limit", str(first + 1000)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    values = _topic_values(kafka_broker.bootstrap, "killed")
    ids = [v["id"] for v in values]
    assert len(ids) >= first
    assert len(set(ids)) > first  # resumed from the snapshot, not from the start
    # every tweet up to the newest is there: no gap left by the kill
    from chirpflow.connectors.sources.synthetic import SyntheticTweets

    expected = [
        p["id"] for p in SyntheticTweets(seed=3, duplicate_ratio=0.0).batch(0, len(set(ids)))
    ]
    assert set(expected) == set(ids)
