"""A tiny threaded HTTP server base for the fakes: JSON in, JSON out, on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

Handler = Callable[[str, str, dict[str, str], Any], tuple[int, Any, dict[str, str]]]


@dataclass
class Streamed:
    """A long chunked response: bytes are written and flushed, floats are pauses.

    ``abrupt``: end by dropping the connection (no final chunk), as a
    network failure would.
    """

    parts: Iterable[bytes | float]
    abrupt: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handle: Handler) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.handle_json = handle


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _do(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out, extra = self.server.handle_json(method, self.path, headers, body)
        if isinstance(out, Streamed):
            self._stream(status, out, extra)
            return
        data = out if isinstance(out, bytes) else b"" if out is None else orjson.dumps(out)
        self.send_response(status)
        if out is not None and "content-type" not in extra:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, status: int, out: Streamed, extra: dict[str, str]) -> None:
        self.send_response(status)
        if "content-type" not in extra:
            self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            for part in out.parts:
                if isinstance(part, float):
                    time.sleep(part)
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            if not out.abrupt:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_POST(self) -> None:
        self._do("POST")

    def do_GET(self) -> None:
        self._do("GET")

    def do_DELETE(self) -> None:
        self._do("DELETE")


@contextmanager
def serve(handle: Handler) -> Iterator[str]:
    """Serve ``handle`` on a free loopback port; yields ``http://127.0.0.1:PORT``."""
    server = _Server(handle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
