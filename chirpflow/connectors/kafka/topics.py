"""Create a topic when it does not exist yet (idempotent)."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.errors import ServiceError
from chirpflow.kafka_connection import KafkaConnection


def ensure_topic(
    kafka: KafkaConnection | str, name: str, partitions: int = 1, timeout_s: float = 15.0
) -> None:
    admin = AdminClient(client_config(kafka))
    if name in admin.list_topics(timeout=timeout_s).topics:
        return
    future = admin.create_topics([NewTopic(name, num_partitions=partitions)])[name]
    try:
        future.result(timeout=timeout_s)
    except KafkaException as err:
        if err.args and err.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return
        raise ServiceError(f"kafka: cannot create topic {name!r}: {err}") from None
