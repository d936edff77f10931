"""A reader over one partition of a Kafka topic; the position is the next offset.

Nothing is committed to the broker: the offset lives in the recovery snapshot
(or, for a replay, the range is given). ``end`` (exclusive) makes the reader
finish there, for replays; without it the reader tails the partition.
``consume`` with a zero timeout only takes what librdkafka already fetched in
the background, so ``read`` never blocks the worker.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, KafkaError, TopicPartition

from chirpflow import metrics
from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.kafka_connection import KafkaConnection
from chirpflow.model import RawRecord, make_origin

log = logging.getLogger(__name__)
IDLE = timedelta(milliseconds=50)
_MAX_KEYS = 4096  # message keys remembered decoded per reader (the first ones)


class KafkaPartitionReader:
    def __init__(
        self,
        source: str,
        kafka: KafkaConnection | str,
        topic: str,
        partition: int,
        start: int,
        end: int | None = None,
    ) -> None:
        self.source = source
        self.topic = topic
        self.partition = partition
        self.start = start
        self.end = end
        self._kafka = kafka
        self._consumer: Consumer | None = None
        self._assigned_at: int | None = None
        self._stream = f"{source}:{topic}:{partition}"
        self._watches: dict[bytes, str] = {}  # message key -> watch, decoded once

    @property
    def stream(self) -> str:
        return self._stream

    def start_position(self) -> int:
        return self.start

    def _assign(self, position: int) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                client_config(
                    self._kafka,
                    **{
                        "group.id": f"chirpflow-{self.source}",
                        "enable.auto.commit": False,
                        "enable.partition.eof": False,
                        "auto.offset.reset": "earliest",
                        "fetch.wait.max.ms": 50,
                    },
                )
            )
        if self._assigned_at != position:
            self._consumer.assign([TopicPartition(self.topic, self.partition, position)])
            self._assigned_at = position
        return self._consumer

    def read(self, position: int, max_items: int) -> ReadResult:
        if self.end is not None and position >= self.end:
            return ReadResult([], position, exhausted=True)
        if self.end is not None:
            max_items = min(max_items, self.end - position)
        consumer = self._assign(position)
        messages = consumer.consume(num_messages=max_items, timeout=0.01)
        now = datetime.now(UTC)
        records: list[RawRecord] = []
        # per message: locals only, and each message key decoded once per reader
        append, source, end, stream = records.append, self.source, self.end, self._stream
        watches = self._watches
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("%s: %s", stream, err)
                continue
            offset = msg.offset()
            if offset is None:
                continue
            if end is not None and offset >= end:
                break
            key = msg.key()
            if isinstance(key, bytes):
                watch = watches.get(key)
                if watch is None:
                    watch = key.decode("utf-8", "replace")
                    if len(watches) < _MAX_KEYS:
                        watches[key] = watch
            else:
                watch = None
            append(RawRecord(make_origin(stream, offset), source, msg.value() or b"", now, watch))
            position = offset + 1
        self._assigned_at = position
        self._report_lag(consumer, position)
        if not records:
            return ReadResult([], position, wait_until=now + IDLE)
        return ReadResult(records, position)

    def _report_lag(self, consumer: Consumer, position: int) -> None:
        try:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, self.partition), cached=True
            )
        except Exception:  # no fetch yet: nothing known
            return
        if high is not None and high >= 0:
            metrics.KAFKA_LAG.labels(self.topic, str(self.partition)).set(max(0, high - position))

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
