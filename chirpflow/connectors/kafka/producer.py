"""A Kafka producer that never drops a message and never crashes on a full queue.

Idempotent producer with ``acks=all``; every delivery report is checked;
``BufferError`` (local queue full) is handled by polling and retrying, which
Bytewax's own KafkaSink does not do. ``flush`` returns only when every
message is acknowledged, so the sink's flush contract (see
``chirpflow.connectors.bytewax_flushing_sink``) holds: a snapshot never covers an
unacknowledged message.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.errors import ServiceError
from chirpflow.kafka_connection import KafkaConnection


class SafeProducer:
    def __init__(self, kafka: KafkaConnection | str, extra: dict[str, Any] | None = None) -> None:
        config = client_config(
            kafka,
            **{
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "queue.buffering.max.messages": 100_000,
                # keys hash to partitions as Java clients do, so other producers and
                # consumers of the topic agree on where a key lives
                "partitioner": "murmur2_random",
            },
        )
        config.update(extra or {})
        self._producer = Producer(config)
        self._errors: list[str] = []
        self.produced = 0
        self.buffer_full = 0

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err}")

    def produce(self, topic: str, key: bytes | str | None, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, key=key, value=value, on_delivery=self._report)
                self.produced += 1
                return
            except BufferError:
                self.buffer_full += 1
                self._producer.poll(0.1)  # serve delivery reports, freeing the queue

    def flush(self, timeout: float = 60.0) -> None:
        left = self._producer.flush(timeout)
        if left:
            raise ServiceError(f"kafka: {left} messages not acknowledged after {timeout:.0f}s")
        if self._errors:
            errors, self._errors = self._errors, []
            raise ServiceError(f"kafka delivery failed: {'; '.join(errors[:5])}")

    def close(self) -> None:
        self.flush()
