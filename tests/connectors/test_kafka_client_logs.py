"""librdkafka's logs go through Python logging, a few lines instead of hundreds."""

from __future__ import annotations

import logging

import pytest

from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.kafka.client_logs import LOGGER_NAME, RateLimit
from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.errors import ServiceError


def test_a_dead_broker_gives_a_line_every_few_seconds_not_hundreds(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    extra = {"reconnect.backoff.ms": 10, "message.timeout.ms": 2500}
    producer = SafeProducer(f"127.0.0.1:{free_port()}", extra)
    producer.produce("t", b"k", b"v")
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME), pytest.raises(ServiceError):
        producer.flush(timeout=30.0)  # the message times out after 2.5 s of refused connects
    producer.close()
    out, err = capfd.readouterr()
    assert "rdkafka" not in out + err  # nothing raw on the process's stderr
    lines = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]
    assert "Connection refused" in lines[0].getMessage()


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord(LOGGER_NAME, logging.ERROR, __file__, 1, msg, None, None)


def test_rate_limit_passes_one_per_interval_and_counts_the_rest() -> None:
    now = [0.0]
    limit = RateLimit(interval=5.0, repeat_after=60.0, clock=lambda: now[0])
    assert limit.filter(_record("connect to 127.0.0.1:1 failed (after 0ms)"))
    assert not limit.filter(_record("connect to 127.0.0.1:1 failed (after 3ms)"))
    assert not limit.filter(_record("all brokers down"))
    now[0] = 6.0
    assert not limit.filter(_record("connect to 127.0.0.1:1 failed (after 9ms)"))  # same line
    other = _record("all brokers down")
    assert limit.filter(other)
    assert other.getMessage() == "all brokers down (3 similar kafka client message(s) held back)"
    now[0] = 70.0
    assert limit.filter(_record("connect to 127.0.0.1:1 failed (after 1ms)"))
