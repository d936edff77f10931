"""The rows every peer writes, and how: the same tables, staged ``ON CONFLICT`` SQL and COPY.

Shared by the plain loop and the Quix Streams peer; it imports nothing of
chirpflow, so it also runs in the Quix peer's own virtual environment.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import psycopg

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
KEYS = {"tweets": ("id",), "analyses": ("tweet_id", "analyzer_version"), "chunks": ("chunk_id",)}
SHAPES = {"tweets": _TWEET, "analyses": _ANALYSIS, "chunks": _CHUNK}


def cols(shape: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(n for n, _ in shape)


def write(conn: psycopg.Connection, data: dict[str, list[tuple[Any, ...]]]) -> None:
    """``data``'s rows in one transaction (COPY into staging, then ``ON CONFLICT DO NOTHING``)."""
    with conn.transaction(), conn.cursor() as cur:
        for table, shape in SHAPES.items():
            names = cols(shape)
            with cur.copy(f"COPY plain_{table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([t for _, t in shape])
                for row in data[table]:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM plain_{table}"
                f" ON CONFLICT ({', '.join(KEYS[table])}) DO NOTHING"
            )


def stage(conn: psycopg.Connection) -> None:
    """The temporary staging tables :func:`write` copies into (once per connection)."""
    for table, shape in SHAPES.items():
        conn.execute(
            f"CREATE TEMP TABLE plain_{table} ON COMMIT DELETE ROWS AS"
            f" SELECT {cols(shape)} FROM {table} WITH NO DATA"
        )
    conn.commit()


def empty() -> dict[str, list[tuple[Any, ...]]]:
    return {t: [] for t in SHAPES}


def chunk(
    batch: list[tuple[Any, ...]], seq: int, data: dict[str, list[tuple[Any, ...]]], prefix: str
) -> int:
    """Rows of one chunk of ``(id, text, author, created, lang, origin)`` tuples; the next seq."""
    digest = hashlib.blake2b(digest_size=8)
    for row in sorted(str(r[0]) for r in batch):
        digest.update(row.encode())
        digest.update(b"\x1f")
    cid = f"{prefix}#{digest.hexdigest()}"
    now = datetime.now(UTC)
    for tid, text, author, created, lang, origin in batch:
        data["tweets"].append((tid, text, author, created, now, lang, "kafka", origin, cid))
        data["analyses"].append((tid, "noop-1", "noop", "neutral", 0.0, [], 0, [], cid, now))
    data["chunks"].append((cid, prefix, seq, len(batch), "noop", "noop-1", now, now))
    return seq + 1
