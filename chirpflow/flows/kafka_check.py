"""Does the Kafka cluster answer, and let us in? One line naming the setting to fix.

A refused login or an untrusted broker certificate shows up in librdkafka
only as error callbacks and a metadata time-out. This check collects those
errors (keeping librdkafka's own log lines out of the output) and turns
them into one line naming the setting: ``KAFKA_SASL_PASSWORD``,
``kafka.ssl.ca.location``, ... A refusal is final (``(False, why)``);
a broker that does not answer raises, so callers may wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from confluent_kafka import KafkaError, KafkaException

from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.kafka_connection import KafkaConnection

TIMEOUT_S = 5.0


class _Collect(logging.Handler):
    """Keeps librdkafka's log lines of one check (to read, never to print)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _quiet_logger() -> tuple[logging.Logger, _Collect]:
    logger = logging.Logger("chirpflow.kafka.check")  # not registered: nothing propagates
    collect = _Collect()
    logger.addHandler(collect)
    return logger, collect


_TLS_UNTRUSTED = ("certificate verify failed", "unable to get local issuer", "self-signed")


def refusal(kafka: KafkaConnection, errors: list[KafkaError]) -> str | None:
    """Why the cluster refused us, naming the setting; None when it did not."""
    for err in errors:
        text = err.str()
        if err.code() == KafkaError._AUTHENTICATION and "SSL" not in text:
            return (
                f"authentication failed: check {kafka.origin('sasl.username')} and "
                f"{kafka.origin('sasl.password')} (and {kafka.origin('sasl.mechanism')})"
            )
        lowered = text.lower()
        if any(mark in lowered for mark in _TLS_UNTRUSTED):
            return (
                "TLS: the broker's certificate is not trusted: "
                f"set {kafka.origin('ssl.ca.location')} to the CA that signed it"
            )
        if "ssl handshake failed" in lowered or ("ssl" in lowered and "handshake" in lowered):
            return f"TLS handshake failed: check {kafka.origin('security.protocol')}"
    return None


def _closed(line: str) -> bool:
    text = line.lower()
    return "closed by peer" in text or "disconnected" in text


def probe(
    kafka: KafkaConnection, on_ok: Callable[[int, int], str] | None = None
) -> tuple[bool, str]:
    """``(True, "n broker(s), m topic(s)")``, ``(False, why)`` if refused; raises if silent."""
    from confluent_kafka.admin import AdminClient

    errors: list[KafkaError] = []
    logger, logged = _quiet_logger()
    try:
        admin = AdminClient(client_config(kafka, logger=logger, error_cb=errors.append))
    except KafkaException as err:  # an unknown property or a bad value
        return False, f"bad [kafka] setting: {err.args[0].str() if err.args else err}"
    try:
        meta = admin.list_topics(timeout=TIMEOUT_S)
    except KafkaException:
        admin.poll(0)  # serve the error callbacks
        why = refusal(kafka, errors)
        if why is not None:
            return False, why
        if not kafka.secured and any(_closed(line) for line in logged.lines):
            raise ConnectionError(
                "the broker closed every connection: does it want TLS or SASL? "
                f"(set {kafka.origin('security.protocol')})"
            ) from None
        raise
    return True, f"{len(meta.brokers)} broker(s), {len(meta.topics)} topic(s)"
