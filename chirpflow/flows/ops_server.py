"""One HTTP endpoint per process for operators: ``/metrics``, ``/healthz``, ``/readyz``.

Our own small server rather than Bytewax's dataflow API server: that one is
only started under ``python -m bytewax.run`` (chirpflow runs flows through
its own CLI) and has no health or readiness endpoints. ``/metrics`` serves
prometheus_client's default registry, where every ``chirpflow_*`` metric lives.

- ``/healthz`` (liveness): 200 while the process serves HTTP.
- ``/readyz`` (readiness): 200 when the dataflow runs (``chirpflow_up`` is 1)
  and every configured service check passes; 503 with the failing checks
  otherwise. Checks are cached for a few seconds so probes stay cheap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

Check = Callable[[], tuple[bool, str]]
CACHE_S = 5.0


class _Handler(BaseHTTPRequestHandler):
    server: _OpsServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._send(200, b'{"status":"ok"}', "application/json")
        elif path == "/readyz":
            ok, report = self.server.readiness()
            self._send(200 if ok else 503, orjson.dumps(report), "application/json")
        else:
            self._send(404, b'{"error":"not found"}', "application/json")


class _OpsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, checks: dict[str, Check]) -> None:
        super().__init__((host, port), _Handler)
        self.checks = checks
        self._cached: tuple[float, bool, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._cached and now - self._cached[0] < CACHE_S:
                return self._cached[1], self._cached[2]
            running = REGISTRY.get_sample_value("chirpflow_up") == 1
            results: dict[str, Any] = {"dataflow": "running" if running else "not running"}
            ok = running
            for name, check in self.checks.items():
                try:
                    passed, detail = check()
                except Exception as err:
                    passed, detail = False, f"{type(err).__name__}: {err}"
                results[name] = "ok" if passed else f"failing: {detail}"
                ok = ok and passed
            report = {"ready": ok, "checks": results}
            self._cached = (now, ok, report)
            return ok, report


class OpsServer:
    """Serve on ``host:port`` (port 0: any free port) in a daemon thread."""

    def __init__(self, port: int, host: str = "0.0.0.0", checks: dict[str, Check] | None = None):
        self._server = _OpsServer(host, port, checks or {})
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="ops-http"
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
