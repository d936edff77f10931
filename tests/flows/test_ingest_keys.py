"""`chirpflow ingest` keys messages so consumers can share a topic's partitions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.kafka import offsets
from chirpflow.flows.ingest import run_ingest
from chirpflow.settings import settings_from_dict
from tests.flows.helpers import env_for


def _per_partition(bootstrap: str, topic: str) -> list[int]:
    c = offsets.consumer(bootstrap)
    try:
        return [
            offsets.end_offset(c, topic, p) - offsets.watermarks(c, topic, p)[0]
            for p in offsets.partitions(c, topic)
        ]
    finally:
        c.close()


@pytest.mark.parametrize("key", [None, "conversation", "author"])
def test_one_watched_source_spreads_over_every_partition(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka, key: str | None
) -> None:
    topic = f"spread-{key}"
    ingest = {"topic": topic, "dlq_topic": f"{topic}.dlq", "partitions": 3}
    if key:
        ingest["key"] = key
    cfg = settings_from_dict({"ingest": ingest, "sinks": {"console": False}})
    env = dataclasses.replace(
        env_for(tmp_path, pg_url), kafka_bootstrap_servers=kafka_broker.bootstrap
    )
    run_ingest(cfg, env, source_spec="synthetic", rate=0, limit=3000, recovery=False)
    counts = _per_partition(kafka_broker.bootstrap, topic)
    assert sum(counts) == 3000
    assert min(counts) >= 600, counts  # each of the three partitions gets a fair share


def test_keyed_by_watch_a_watched_item_stays_on_one_partition(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    ingest = {"topic": "by-watch", "dlq_topic": "by-watch.dlq", "partitions": 3, "key": "watch"}
    cfg = settings_from_dict({"ingest": ingest, "sinks": {"console": False}})
    env = dataclasses.replace(
        env_for(tmp_path, pg_url), kafka_bootstrap_servers=kafka_broker.bootstrap
    )
    run_ingest(cfg, env, source_spec="synthetic", rate=0, limit=300, recovery=False)
    assert sorted(_per_partition(kafka_broker.bootstrap, "by-watch")) == [0, 0, 300]
