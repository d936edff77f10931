"""librdkafka's own log lines and errors go through Python logging, rate-limited.

Without this, a dead broker makes librdkafka print hundreds of raw
``%3|...|rdkafka#producer-1|FAIL|...`` lines to stderr. Every Producer,
Consumer and AdminClient we create takes its configuration from
:func:`client_config`, which routes both the log lines (``logger``) and the
client-level errors (``error_cb``) to the ``chirpflow.kafka.client`` logger.
That logger passes at most one line every ``interval`` seconds and never
the same line twice within ``repeat_after``; the next line it passes says
how many it held back.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError

from chirpflow.kafka_connection import KafkaConnection, as_connection

LOGGER_NAME = "chirpflow.kafka.client"
_NUMBERS = re.compile(r"\d+")


class RateLimit(logging.Filter):
    """At most one record per ``interval`` s, and an identical one not within ``repeat_after`` s."""

    def __init__(
        self,
        interval: float = 5.0,
        repeat_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.repeat_after = repeat_after
        self.clock = clock
        self._last_any = float("-inf")
        self._last_seen: dict[str, float] = {}
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = _NUMBERS.sub("#", record.getMessage())
        now = self.clock()
        with self._lock:
            recent = now - self._last_seen.get(key, float("-inf")) < self.repeat_after
            if recent or now - self._last_any < self.interval:
                self._held += 1
                return False
            self._last_any = now
            self._last_seen[key] = now
            held, self._held = self._held, 0
        if held:
            record.msg = f"{record.getMessage()} ({held} similar kafka client message(s) held back)"
            record.args = None
        return True


def client_logger() -> logging.Logger:
    """The shared, rate-limited logger of every Kafka client in this process."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, RateLimit) for f in logger.filters):
        logger.addFilter(RateLimit())
    return logger


def _on_error(err: KafkaError) -> None:
    level = logging.ERROR if err.fatal() else logging.WARNING
    client_logger().log(level, "kafka: %s", err.str())


def client_config(kafka: KafkaConnection | str, **extra: Any) -> dict[str, Any]:
    """Configuration for a Producer, Consumer or AdminClient with its logs routed to Python.

    ``kafka`` is the cluster with its properties (TLS, SASL, ...), or a bare
    ``host:port`` list for a plaintext one.
    """
    return {
        **as_connection(kafka).config(),
        "logger": client_logger(),
        "error_cb": _on_error,
        **extra,
    }
