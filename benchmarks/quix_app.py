"""The Quix Streams peer: run by ``benchmarks.quix_peer`` in its own virtual environment.

``python -m benchmarks.quix_app BOOTSTRAP URL TOPIC N STATE_DIR`` consumes N
tweets of TOPIC as the plain loop does (decode, check, drop duplicate ids,
chunks of 100) and writes the same rows through :mod:`benchmarks.peer_rows`
from a batching sink: Quix flushes the sink and then commits the consumer
offsets every 1,000 messages, the plain loop's durability. Prints one JSON
line: tweets/s and CPU per tweet, first message to last commit.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson
import psycopg
from quixstreams import Application
from quixstreams.sinks import BatchingSink, SinkBatch

from benchmarks.peer_rows import chunk, empty, fields, stage, write


class PeerSink(BatchingSink):  # type: ignore[misc]  # quixstreams: its own venv
    """Writes each checkpoint's tweets in chunks of 100, in one transaction."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.conn = psycopg.connect(url)
        stage(self.conn)
        self.seq = 0

    def write(self, batch: SinkBatch) -> None:
        data = empty()
        rows: list[tuple[Any, ...]] = []
        for item in batch:
            key = item.key
            watch = key.decode("utf-8", "replace") if isinstance(key, bytes) else None
            origin = f"kafka:{batch.topic}:{batch.partition}:{item.offset}"
            rows.append((*item.value, watch, origin))
            if len(rows) == 100:
                self.seq = chunk(rows, self.seq, data, "quix")
                rows = []
        if rows:
            self.seq = chunk(rows, self.seq, data, "quix")
        write(self.conn, data)


def main(bootstrap: str, url: str, topic: str, n: int, state_dir: str) -> dict[str, float]:
    app = Application(
        broker_address=bootstrap,
        consumer_group="quix-peer",
        auto_offset_reset="earliest",
        commit_every=1000,
        commit_interval=3600,  # commit by count, as the plain loop does
        state_dir=state_dir,
        use_changelog_topics=False,
        auto_create_topics=False,
    )
    seen: set[int] = set()
    clock: dict[str, float] = {}

    def parse(raw: bytes) -> tuple[Any, ...] | None:
        if not clock:
            clock.update(started=time.perf_counter(), cpu=time.process_time())
        obj = orjson.loads(raw or b"{}")
        tid = int(obj["id"])
        if tid in seen:
            return None
        seen.add(tid)
        return fields(obj, tid)

    sdf = app.dataframe(app.topic(topic, value_deserializer="bytes"))
    sdf = sdf.apply(parse).filter(lambda row: row is not None)
    sdf.sink(PeerSink(url))
    app.run(count=n, timeout=30.0, collect=False)
    elapsed = time.perf_counter() - clock["started"]
    cpu = time.process_time() - clock["cpu"]
    return {"tweets_per_s": n / elapsed, "cpu_us_per_tweet": cpu / n * 1e6, "seconds": elapsed}


if __name__ == "__main__":
    bootstrap, url, topic, n, state_dir = sys.argv[1:6]
    print(orjson.dumps(main(bootstrap, url, topic, int(n), state_dir)).decode())
