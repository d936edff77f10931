"""The real services the suite and `chirpflow` start from pip packages."""

from __future__ import annotations

from pathlib import Path

import psycopg
import redis
from confluent_kafka import Consumer, Producer, TopicPartition

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.postgres import EmbeddedPostgres


def test_postgres_is_reused_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    first = EmbeddedPostgres(data, durable=False)
    url = first.start()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (42)")
    second = EmbeddedPostgres(data)
    assert second.is_running() and second.start() == url  # found, not started again
    first.stop()
    assert not second.is_running()
    url2 = EmbeddedPostgres(data).start()
    with psycopg.connect(url2) as conn:
        assert conn.execute("SELECT x FROM t").fetchone() == (42,)
    EmbeddedPostgres(data).stop()


def test_redis_answers(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("k", "v", ex=10)
    assert client.get("k") == b"v"


def test_kafka_round_trip_over_partitions(kafka_broker: EmbeddedKafka) -> None:
    kafka_broker.create_topic("harness.t", partitions=3)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(100):
        producer.produce("harness.t", key=f"k{i % 7}", value=f"v{i}", partition=i % 3)
    assert producer.flush(10) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_broker.bootstrap,
            "group.id": "harness",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition("harness.t", p, 0) for p in range(3)])
    seen: list[str] = []
    for _ in range(200):
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None and (value := msg.value()) is not None:
            seen.append(value.decode())
        if len(seen) == 100:
            break
    consumer.close()
    assert sorted(seen) == sorted(f"v{i}" for i in range(100))
