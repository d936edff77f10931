"""Peers doing chirpflow's Kafka -> PostgreSQL work: a plain confluent-kafka + psycopg loop.

The loop consumes the same topic, decodes and checks each tweet, drops
duplicate ids, forms batches of 100 and writes the same tweets, analyses
(neutral, as the no-op analyzer) and chunk rows with the same staged
``ON CONFLICT`` SQL and durability (a commit per 1,000 tweets, then the
consumer offsets). Its speed is measured from the first message to the last
commit, as chirpflow's is.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from confluent_kafka import Consumer, TopicPartition

from chirpflow.connectors.postgres.migrate import migrate

_TWEET = (
    ("id", "int8"),
    ("text", "text"),
    ("author_id", "int8"),
    ("created_at", "timestamptz"),
    ("fetched_at", "timestamptz"),
    ("lang", "text"),
    ("source", "text"),
    ("origin", "text"),
    ("chunk_id", "text"),
)
_ANALYSIS = (
    ("tweet_id", "int8"),
    ("analyzer_version", "text"),
    ("analyzer", "text"),
    ("sentiment", "text"),
    ("sentiment_score", "float4"),
    ("topics", "text[]"),
    ("risk", "int2"),
    ("flags", "text[]"),
    ("chunk_id", "text"),
    ("analyzed_at", "timestamptz"),
)
_CHUNK = (
    ("chunk_id", "text"),
    ("key", "text"),
    ("seq", "int8"),
    ("size", "int4"),
    ("analyzer", "text"),
    ("analyzer_version", "text"),
    ("opened_at", "timestamptz"),
    ("analyzed_at", "timestamptz"),
)
_KEYS = {"tweets": ("id",), "analyses": ("tweet_id", "analyzer_version"), "chunks": ("chunk_id",)}
_SHAPES = {"tweets": _TWEET, "analyses": _ANALYSIS, "chunks": _CHUNK}


def _cols(shape: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(n for n, _ in shape)


def _write(conn: psycopg.Connection, data: dict[str, list[tuple[Any, ...]]]) -> None:
    with conn.transaction(), conn.cursor() as cur:
        for table, shape in _SHAPES.items():
            cols = _cols(shape)
            with cur.copy(f"COPY plain_{table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([t for _, t in shape])
                for row in data[table]:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM plain_{table}"
                f" ON CONFLICT ({', '.join(_KEYS[table])}) DO NOTHING"
            )


def plain_loop(bootstrap: str, url: str, topic: str, partitions: int, n: int) -> dict[str, Any]:
    """Consume ``n`` tweets of ``topic`` into the store at ``url``; tweets/s and CPU per tweet."""
    migrate(url)
    conn = psycopg.connect(url)
    for table, shape in _SHAPES.items():
        conn.execute(
            f"CREATE TEMP TABLE plain_{table} ON COMMIT DELETE ROWS AS"
            f" SELECT {_cols(shape)} FROM {table} WITH NO DATA"
        )
    conn.commit()
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "plain", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen: set[int] = set()
    data: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _SHAPES}
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
            created = datetime.fromisoformat(obj["created_at"])
            origin = f"kafka:{topic}:{m.partition()}:{m.offset()}"
            batch.append(
                (tid, str(obj["text"]), int(obj["author_id"]), created, obj.get("lang"), origin)
            )
            if len(batch) == 100:
                seq = _chunk(batch, seq, data)
                batch = []
                if len(data["tweets"]) >= 1000:
                    _write(conn, data)
                    c.commit(asynchronous=False)
                    data = {t: [] for t in _SHAPES}
    if batch:
        _chunk(batch, seq, data)
    if data["tweets"]:
        _write(conn, data)
        c.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    c.close()
    conn.close()
    return {"tweets_per_s": got / elapsed, "cpu_us_per_tweet": cpu / got * 1e6, "seconds": elapsed}


def _chunk(batch: list[tuple[Any, ...]], seq: int, data: dict[str, list[tuple[Any, ...]]]) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for row in sorted(str(r[0]) for r in batch):
        digest.update(row.encode())
        digest.update(b"\x1f")
    cid = f"plain#{digest.hexdigest()}"
    now = datetime.now(UTC)
    for tid, text, author, created, lang, origin in batch:
        data["tweets"].append((tid, text, author, created, now, lang, "kafka", origin, cid))
        data["analyses"].append((tid, "noop-1", "noop", "neutral", 0.0, [], 0, [], cid, now))
    data["chunks"].append((cid, "plain", seq, len(batch), "noop", "noop-1", now, now))
    return seq + 1
