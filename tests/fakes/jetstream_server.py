"""A fake Bluesky Jetstream: post events over a websocket, resumable by cursor.

``/subscribe?wantedCollections=..&wantedDids=..&cursor=<µs>`` sends one JSON
event per text frame, oldest first: commits of the wanted collections (and
DIDs, when given) at or after the cursor, interleaved with ``identity`` and
``account`` events (which ignore the filters), websocket pings as keep-alives.
Without a cursor it sends what is buffered (the "live" tail of the test). A
connection can be scripted to drop after N events in the middle of a frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

T0_US = 1_790_000_000_000_000


@dataclass
class FakeJetstream:
    events: list[dict[str, Any]] = field(default_factory=list)
    drops: deque[int] = field(default_factory=deque)  # per connection: cut after N events
    garbage: set[int] = field(default_factory=set)  # send a non-JSON frame before event i
    connects: list[dict[str, list[str]]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, did: str, text: str, n: int = 1) -> list[int]:
        """``n`` post-create commits by ``did``; their time_us."""
        out = []
        with self._lock:
            for i in range(n):
                self._n += 1
                t = T0_US + self._n * 1000
                self.events.append(
                    {
                        "did": did,
                        "time_us": t,
                        "kind": "commit",
                        "commit": {
                            "rev": f"rev{self._n}",
                            "operation": "create",
                            "collection": "app.bsky.feed.post",
                            "rkey": f"3ljet{self._n:08d}",
                            "record": {
                                "$type": "app.bsky.feed.post",
                                "text": f"{text} {i}" if n > 1 else text,
                                "createdAt": "2026-09-01T00:00:00.000Z",
                                "langs": ["en"],
                            },
                            "cid": f"bafy{self._n}",
                        },
                    }
                )
                self._n += 1
                self.events.append(  # noise the filters do not apply to
                    {"did": did, "time_us": t + 1, "kind": "identity", "identity": {"did": did}}
                )
                out.append(t)
        return out

    def like(self, did: str) -> None:
        with self._lock:
            self._n += 1
            self.events.append(
                {
                    "did": did,
                    "time_us": T0_US + self._n * 1000,
                    "kind": "commit",
                    "commit": {
                        "operation": "create",
                        "collection": "app.bsky.feed.like",
                        "rkey": "x",
                    },
                }
            )

    def handler(self, ws: ServerConnection) -> None:
        url = urlparse(ws.request.path if ws.request else "/")
        params = parse_qs(url.query)
        with self._lock:
            self.connects.append(params)
            drop = self.drops.popleft() if self.drops else None
            events = list(self.events)
        if url.path != "/subscribe":
            ws.close(1008, "unknown path")
            return
        wanted = set(params.get("wantedCollections", []))
        dids = set(params.get("wantedDids", []))
        cursor = int(params["cursor"][0]) if "cursor" in params else None
        sent = 0
        for i, e in enumerate(events):
            if cursor is not None and e["time_us"] < cursor:
                continue
            if e["kind"] == "commit":
                if wanted and e["commit"]["collection"] not in wanted:
                    continue
                if dids and e["did"] not in dids:
                    continue
            if i in self.garbage:
                ws.send("{this is not json")
            if drop is not None and sent == drop:
                data = orjson.dumps(e)
                ws.socket.sendall(bytes([0x81, 126]) + len(data).to_bytes(2, "big") + data[:10])
                ws.socket.close()  # cut in the middle of a frame
                return
            ws.send(orjson.dumps(e).decode())
            sent += 1
        while not self.stopping.is_set():  # hold the connection open, as a live stream does
            try:
                ws.ping()
                ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return


@contextmanager
def running(fake: FakeJetstream | None = None) -> Iterator[tuple[FakeJetstream, str]]:
    fake = fake or FakeJetstream()
    with serve(fake.handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        try:
            yield fake, f"ws://127.0.0.1:{port}"
        finally:
            fake.stopping.set()
            server.shutdown()
            thread.join(timeout=5)
