"""One service check that names its variable and address when it fails.

``doctor``, the readiness probe and the start-up preflight all show a failed
service as ``VARIABLE address: cause`` (secrets masked), never a traceback.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from chirpflow.logs import redact, secret_values

Check = Callable[[], tuple[bool, str]]


def cause(err: BaseException) -> str:
    """The short reason of a client library's exception, on one line."""
    from confluent_kafka import KafkaException

    if isinstance(err, KafkaException) and err.args and hasattr(err.args[0], "str"):
        text = str(err.args[0].str())
    else:
        text = str(err) or type(err).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(err).__name__)[:300]


_SERVICE_LIBRARIES = frozenset(
    {"psycopg", "psycopg_pool", "redis", "confluent_kafka", "cimpl", "httpx"}
)


def is_service_failure(err: BaseException) -> bool:
    """An error a service client library raised (connection lost, refused, ...)."""
    return any(klass.__module__.split(".")[0] in _SERVICE_LIBRARIES for klass in type(err).__mro__)


def tcp_probe(addresses: list[tuple[str, int]], timeout: float) -> None:
    """Raise ``OSError`` unless at least one of ``addresses`` accepts a connection."""
    last: OSError | None = None
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as err:
            last = err
    raise OSError((last.strerror if last else None) or "no address to connect to")


@dataclass(frozen=True)
class ServiceCheck:
    """``probe`` raising means "not reachable (yet)"; returning ``(False, why)`` is final."""

    var: str
    address: str  # as shown to people, secrets masked
    probe: Check

    def attempt(self) -> tuple[bool, str, bool]:
        """``(ok, detail, worth_retrying)``."""
        try:
            ok, detail = self.probe()
        except Exception as err:
            return False, self._masked(f"{self.var} {self.address}: {cause(err)}"), True
        return ok, self._masked(detail if ok else f"{self.var} {self.address}: {detail}"), False

    def __call__(self) -> tuple[bool, str]:
        ok, detail, _ = self.attempt()
        return ok, detail

    @staticmethod
    def _masked(text: str) -> str:
        return redact(text, secret_values())
