"""Optional Kafka output against the real (Tansu) broker."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.flows.helpers import env_for, write_jsonl


def _read_all(bootstrap: str, topic: str, expect: int) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "t", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[Any] = []
    deadline = time.monotonic() + 30
    while len(out) < expect and time.monotonic() < deadline:
        msg = consumer.poll(0.3)
        if msg is not None and msg.error() is None:
            value = msg.value() or b""
            out.append(orjson.loads(value) if value.startswith(b"{") else value)
    consumer.close()
    return out


def test_analyses_and_dead_letters_reach_their_topics(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    kafka_broker.create_topic("out.analyses", 1)
    kafka_broker.create_topic("out.dlq", 1)
    path = write_jsonl(tmp_path / "in.jsonl", [payload(i) for i in range(30)] + [b"{broken"])
    cfg = settings_from_dict(
        {
            "analyzer": {"kind": "offline"},
            "sinks": {
                "console": False,
                "kafka": {"enabled": True, "topic": "out.analyses", "dlq_topic": "out.dlq"},
            },
        }
    )
    env = dataclasses.replace(
        env_for(tmp_path, pg_url), kafka_bootstrap_servers=kafka_broker.bootstrap
    )
    run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
    analyses = _read_all(kafka_broker.bootstrap, "out.analyses", 30)
    dead = _read_all(kafka_broker.bootstrap, "out.dlq", 1)
    assert sorted(a["tweet"]["id"] for a in analyses) == sorted(payload(i)["id"] for i in range(30))
    assert analyses[0]["analysis"]["analyzer"] == "offline"
    assert dead[0]["reason"] == "malformed_json"


def test_a_full_local_queue_waits_instead_of_crashing(kafka_broker: EmbeddedKafka) -> None:
    kafka_broker.create_topic("out.small", 1)
    producer = SafeProducer(
        kafka_broker.bootstrap, {"queue.buffering.max.messages": 10, "linger.ms": 100}
    )
    for i in range(500):
        producer.produce("out.small", str(i), b"x" * 100)
    producer.flush()
    assert producer.buffer_full > 0 and producer.produced == 500
    assert len(_read_all(kafka_broker.bootstrap, "out.small", 500)) == 500
