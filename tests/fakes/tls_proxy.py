"""A loopback TLS terminator: clients speak TLS to it, it speaks plain TCP to the server.

Tansu 0.6.0 cannot serve TLS itself (its ``--cert`` and ``--key`` flags
exclude each other), so a broker that advertises this proxy's port looks,
to a client, exactly like a TLS listener with the given certificate.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

from tests.fakes.socket_pump import pump


class TlsProxy:
    def __init__(self, cert: Path, key: Path, port: int = 0) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._target: tuple[str, int] | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        assert self._target is not None
        try:
            raw.settimeout(10)
            client = self._context.wrap_socket(raw, server_side=True)
            client.settimeout(None)
            upstream = socket.create_connection(self._target)
        except OSError:  # a client that did not trust us, or no server behind
            raw.close()
            return
        with self._lock:
            self._open += [client, upstream]
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            conns, self._open = self._open, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.close()
