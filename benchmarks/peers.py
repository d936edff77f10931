"""Peers doing chirpflow's Kafka -> PostgreSQL work: a plain confluent-kafka + psycopg loop.

The loop consumes the same topic, decodes and checks each tweet, drops
duplicate ids, forms batches of 100 and writes the same tweets and chunk
rows (no analyses rows: the no-op analyzer produces none) with the same SQL as
chirpflow's writer (COPY straight in, the staged ``ON CONFLICT`` merge for a
batch that conflicts) and durability (a commit per 1,000 tweets, then the
consumer offsets). Its speed is measured from the first message to the last
commit, as chirpflow's is.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import psycopg
from confluent_kafka import Consumer, TopicPartition

from benchmarks.peer_rows import chunk, empty, fields, stage, write
from chirpflow.connectors.postgres.migrate import migrate


def plain_loop(bootstrap: str, url: str, topic: str, partitions: int, n: int) -> dict[str, Any]:
    """Consume ``n`` tweets of ``topic`` into the store at ``url``; tweets/s and CPU per tweet."""
    migrate(url)
    conn = psycopg.connect(url)
    stage(conn)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "plain", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen: set[int] = set()
    data = empty()
    batch: list[tuple[Any, ...]] = []
    got = seq = 0
    started = cpu0 = 0.0
    while got < n:
        for m in c.consume(1000, timeout=1.0):
            if m.error() is not None:
                continue
            if not got:
                started, cpu0 = time.perf_counter(), time.process_time()
            got += 1
            obj = orjson.loads(m.value() or b"{}")
            tid = int(obj["id"])
            if tid in seen:
                continue
            seen.add(tid)
            origin = f"kafka:{topic}:{m.partition()}:{m.offset()}"
            key = m.key()
            watch = key.decode("utf-8", "replace") if isinstance(key, bytes) else None
            batch.append((*fields(obj, tid), watch, origin))
            if len(batch) == 100:
                seq = chunk(batch, seq, data, "plain")
                batch = []
                if len(data["tweets"]) >= 1000:
                    write(conn, data)
                    c.commit(asynchronous=False)
                    data = empty()
    if batch:
        chunk(batch, seq, data, "plain")
    if data["tweets"]:
        write(conn, data)
        c.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    c.close()
    conn.close()
    return {"tweets_per_s": got / elapsed, "cpu_us_per_tweet": cpu / got * 1e6, "seconds": elapsed}
