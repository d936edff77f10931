"""Offsets the way Apache Kafka documents them; a fallback only where the broker's answer fails."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from confluent_kafka import Producer

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.kafka import offsets
from chirpflow.connectors.kafka.producer import SafeProducer
from tests.factories import payload


def _never() -> int:
    raise AssertionError("the partition was probed although the broker's answer checked out")


def test_an_answer_that_checks_out_is_used_without_reading_the_partition() -> None:
    assert offsets.checked_end(120, -1, _never, "t[0]") == 120  # nothing in the far future
    assert offsets.checked_end(0, 0, _never, "t[0]") == 0  # an empty partition
    assert offsets.checked_end(5, 5, _never, "t[0]") == 5


def test_an_answer_that_disagrees_falls_back_to_reading(caplog: pytest.LogCaptureFixture) -> None:
    offsets._logged.discard("end")
    with caplog.at_level(logging.WARNING, "chirpflow.connectors.kafka.offsets"):
        assert offsets.checked_end(1, 0, lambda: 40, "t[0]") == 40
        assert offsets.checked_end(1, None, lambda: 41, "t[1]") == 41
    assert len(caplog.records) == 1  # logged once, not once per lookup
    assert "t[0]" in caplog.records[0].getMessage()


def test_on_tansu_ends_are_found_past_its_watermark_and_logged_once(
    kafka_broker: EmbeddedKafka, caplog: pytest.LogCaptureFixture
) -> None:
    kafka_broker.create_topic("ends", 2)
    producer = SafeProducer(kafka_broker.bootstrap)
    for i in range(50):
        producer.produce("ends", str(i), orjson.dumps(payload(i)))
    producer.flush()
    producer.close()
    offsets._logged.discard("end")
    c = offsets.consumer(kafka_broker.bootstrap)
    try:
        with caplog.at_level(logging.WARNING, "chirpflow.connectors.kafka.offsets"):
            total = sum(offsets.end_offset(c, "ends", p) for p in (0, 1))
    finally:
        c.close()
    assert total == 50
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["kafka"]


def test_a_timestamp_answer_is_used_when_its_messages_confirm_it(
    kafka_broker: EmbeddedKafka, caplog: pytest.LogCaptureFixture
) -> None:
    kafka_broker.create_topic("stamps", 1)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(20):
        ms = int((t0 + timedelta(minutes=i)).timestamp() * 1000)
        producer.produce("stamps", value=orjson.dumps(payload(i)), timestamp=ms)
    producer.flush(10)
    offsets._logged.discard("times")
    c = offsets.consumer(kafka_broker.bootstrap)
    try:
        with caplog.at_level(logging.WARNING, "chirpflow.connectors.kafka.offsets"):
            # Tansu answers 0 to every timestamp: right for the first message's time ...
            assert offsets.offset_for_time(c, "stamps", 0, t0) == 0
            assert not [r for r in caplog.records if "offsets_for_times" in r.getMessage()]
            # ... wrong for later ones, which the messages show: searched, logged once
            assert offsets.offset_for_time(c, "stamps", 0, t0 + timedelta(minutes=7)) == 7
            assert offsets.offset_for_time(c, "stamps", 0, t0 + timedelta(minutes=12)) == 12
    finally:
        c.close()
    assert len([r for r in caplog.records if "offsets_for_times" in r.getMessage()]) == 1
