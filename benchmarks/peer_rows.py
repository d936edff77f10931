"""The rows every peer writes, and how: the same tables and SQL as chirpflow's writer.

As chirpflow under the no-op analyzer: tweets and one row per chunk of 100,
no analyses rows (the no-op analyzer produces none).

Shared by the plain loop and the Quix Streams peer; it imports nothing of
chirpflow, so it also runs in the Quix peer's own virtual environment.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import psycopg

_TWEET = (  # the columns chirpflow's writer fills for an X tweet read from Kafka
    ("id", "int8"),
    ("text", "text"),
    ("author_id", "int8"),
    ("author_username", "text"),
    ("conversation_id", "int8"),
    ("created_at", "timestamptz"),
    ("fetched_at", "timestamptz"),
    ("lang", "text"),
    ("referenced_tweet_id", "int8"),
    ("referenced_kind", "text"),
    ("retweets", "int8"),
    ("replies", "int8"),
    ("likes", "int8"),
    ("quotes", "int8"),
    ("views", "int8"),
    ("source", "text"),
    ("watch", "text"),
    ("origin", "text"),
    ("chunk_id", "text"),
    ("platform", "text"),
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
KEYS = {"tweets": ("id",), "chunks": ("chunk_id",)}
SHAPES = {"tweets": _TWEET, "chunks": _CHUNK}


def cols(shape: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(n for n, _ in shape)


def _copy(
    cur: psycopg.Cursor[Any], target: str, shape: tuple[tuple[str, str], ...], rows: list[Any]
) -> None:
    with cur.copy(f"COPY {target} ({cols(shape)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([t for _, t in shape])
        for row in rows:
            copy.write_row(row)


def write(conn: psycopg.Connection, data: dict[str, list[tuple[Any, ...]]]) -> None:
    """``data``'s rows in one transaction, the way chirpflow's writer stores them.

    COPY straight into the tables; a batch with any conflict (a replay) rolls
    back to a savepoint and takes the staged merge (COPY into staging, then
    ``ON CONFLICT DO NOTHING``).
    """
    with conn.transaction(), conn.cursor() as cur:
        try:
            with conn.transaction():  # a savepoint
                for table, shape in SHAPES.items():
                    _copy(cur, table, shape, data[table])
            return
        except psycopg.errors.UniqueViolation:
            pass
        for table, shape in SHAPES.items():
            names = cols(shape)
            _copy(cur, f"plain_{table}", shape, data[table])
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
    """Rows of one chunk of ``(*fields(obj, id), message key, origin)`` tuples; the next seq."""
    digest = hashlib.blake2b(digest_size=8)
    for row in sorted(str(r[0]) for r in batch):
        digest.update(row.encode())
        digest.update(b"\x1f")
    cid = f"{prefix}#{digest.hexdigest()}"
    now = datetime.now(UTC)
    for (
        tid,
        text,
        author,
        user,
        conv,
        created,
        lang,
        ref,
        kind,
        r,
        p,
        li,
        q,
        v,
        key,
        origin,
    ) in batch:
        stored = (tid, text, author, user, conv, created, now, lang, ref, kind, r, p, li, q, v)
        data["tweets"].append((*stored, "kafka", key, origin, cid, "x"))
    data["chunks"].append((cid, prefix, seq, len(batch), "noop", "noop-1", now, now))
    return seq + 1


def fields(obj: dict[str, Any], tid: int) -> tuple[Any, ...]:
    """What is stored of a decoded tweet (``tid`` its id), as chirpflow stores an X tweet."""
    m = obj.get("public_metrics") or {}
    conv, ref = obj.get("conversation_id"), obj.get("referenced_tweet_id")
    return (
        tid,
        str(obj["text"]),
        int(obj["author_id"]),
        obj.get("author_username"),
        int(conv) if conv else None,
        datetime.fromisoformat(obj["created_at"]),
        obj.get("lang"),
        int(ref) if ref else None,
        obj.get("referenced_kind"),
        m.get("retweet_count", 0),
        m.get("reply_count", 0),
        m.get("like_count", 0),
        m.get("quote_count", 0),
        m.get("impression_count"),
    )
