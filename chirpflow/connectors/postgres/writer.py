"""Idempotent batched writes of outcomes: one COPY per table, two connections at once.

Rows are copied into temporary staging tables, then moved with
``INSERT ... SELECT ... ON CONFLICT`` on each table's natural key, so a
replay after recovery never duplicates a row. Connection failures are retried
with backoff (the flow waits) up to ``max_outage``; nothing is dropped.

A chunk's tweets, analyses, row and spend are written in ONE transaction, so
a crash leaves all of them or none. A tweet belongs to the first chunk that
stored it: its analysis is filed under that chunk, and a chunk's recorded
size counts only the tweets that belong to it (a chunk re-formed after a
restart whose tweets all belong elsewhere gets no row; its spend is still
recorded in ``llm_spend``). Chunk rows are never overwritten.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from tenacity import RetryCallState

from chirpflow import metrics
from chirpflow.connectors.notify.outbox import insert_rows
from chirpflow.connectors.postgres.job_tweets import JOB_TWEETS, not_analysed
from chirpflow.connectors.postgres.post_rows import post_row
from chirpflow.model import (
    JOB_PREFIX,
    ChunkResult,
    DeadLetter,
    Duplicate,
    Outcome,
    Tweet,
    split_origin,
)
from chirpflow.platforms import store_key
from chirpflow.retry import retrying, scaled_jitter

log = logging.getLogger(__name__)

# Column names and PostgreSQL types of each staged table: COPY runs in binary
# format (about 2.5x less Python time per row than text COPY).
_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "tweets": (
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
        ("author_followers", "int8"),
        ("platform", "text"),
        ("post_id", "text"),
        ("link", "text"),
    ),
    "analyses": (
        ("tweet_id", "int8"),
        ("analyzer_version", "text"),
        ("analyzer", "text"),
        ("sentiment", "text"),
        ("sentiment_score", "float4"),
        ("topics", "text[]"),
        ("language", "text"),
        ("risk", "int2"),
        ("flags", "text[]"),
        ("reason", "text"),
        ("chunk_id", "text"),
        ("analyzed_at", "timestamptz"),
    ),
    "chunks": (
        ("chunk_id", "text"),
        ("key", "text"),
        ("seq", "int8"),
        ("size", "int4"),
        ("summary", "text"),
        ("analyzer", "text"),
        ("analyzer_version", "text"),
        ("model", "text"),
        ("prompt_tokens", "int4"),
        ("cached_tokens", "int4"),
        ("completion_tokens", "int4"),
        ("cost_usd", "numeric"),
        ("opened_at", "timestamptz"),
        ("analyzed_at", "timestamptz"),
        ("requests", "int4"),
        ("cache_hits", "int4"),
    ),
    "llm_spend": (
        ("id", "text"),
        ("run_id", "text"),
        ("chunk_id", "text"),
        ("model", "text"),
        ("requests", "int4"),
        ("prompt_tokens", "int4"),
        ("cached_tokens", "int4"),
        ("completion_tokens", "int4"),
        ("cost_usd", "numeric"),
        ("cache_hits", "int4"),
        ("tweets", "int4"),
        ("at", "timestamptz"),
    ),
    "duplicates": (
        ("origin", "text"),
        ("tweet_id", "int8"),
        ("source", "text"),
        ("seen_at", "timestamptz"),
    ),
    "dead_letters": (
        ("origin", "text"),
        ("source", "text"),
        ("reason", "text"),
        ("detail", "text"),
        ("payload", "text"),
        ("tweet_id", "text"),
        ("first_seen", "timestamptz"),
        ("last_seen", "timestamptz"),
    ),
    "progress": (("stream", "text"), ("first_seq", "int8"), ("last_seq", "int8")),
    "notifications": (
        ("id", "text"),
        ("rule", "text"),
        ("channel", "text"),
        ("kind", "text"),
        ("payload", "jsonb"),
    ),
}


def _cols(table: str) -> str:
    return ", ".join(name for name, _ in _COLUMNS[table])


_TWEET_COLS = _cols("tweets")
_ANALYSIS_COLS = _cols("analyses")
_CHUNK_COLS = _cols("chunks")
_DUP_COLS = _cols("duplicates")
_DEAD_COLS = _cols("dead_letters")
_PROGRESS_COLS = _cols("progress")

_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS stage_tweets ON COMMIT DELETE ROWS AS
    SELECT {_TWEET_COLS} FROM tweets WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_analyses ON COMMIT DELETE ROWS AS
    SELECT {_ANALYSIS_COLS} FROM analyses WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_chunks ON COMMIT DELETE ROWS AS
    SELECT {_CHUNK_COLS} FROM chunks WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_duplicates ON COMMIT DELETE ROWS AS
    SELECT {_DUP_COLS} FROM duplicates WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_dead_letters ON COMMIT DELETE ROWS AS
    SELECT {_DEAD_COLS} FROM dead_letters WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_progress ON COMMIT DELETE ROWS AS
    SELECT {_PROGRESS_COLS} FROM source_progress WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_notifications ON COMMIT DELETE ROWS AS
    SELECT {_cols("notifications")} FROM notifications WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_owned (id int8, chunk_id text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_llm_spend ON COMMIT DELETE ROWS AS
    SELECT {_cols("llm_spend")} FROM llm_spend WITH NO DATA;
"""

# an analysis is filed under the chunk its tweet belongs to (the first that stored it)
# (a tweet stored by this transaction: its staged chunk; else one index probe,
# evaluated only for those rows; never a join with the whole tweets table)
_OWNER = "coalesce(o.chunk_id, (SELECT t.chunk_id FROM tweets t WHERE t.id = s.tweet_id))"
_ANALYSIS_FROM_STAGE = ", ".join(
    _OWNER if name == "chunk_id" else f"s.{name}" for name, _ in _COLUMNS["analyses"]
)
# a chunk's size: the tweets this transaction stored for it (all of them,
# unless a chunk stored earlier holds some); its row is written with them, and
# its id names the set, so the size never changes afterwards
_CHUNK_FROM_STAGE = ", ".join(
    "n.size" if name == "size" else f"c.{name}" for name, _ in _COLUMNS["chunks"]
)

_MERGE = {
    "notifications": f"""INSERT INTO notifications ({_cols("notifications")})
        SELECT DISTINCT ON (id) {_cols("notifications")} FROM stage_notifications
        ON CONFLICT (id) DO NOTHING""",
    "tweets": f"""WITH stored AS (
            INSERT INTO tweets ({_TWEET_COLS})
            SELECT DISTINCT ON (id) {_TWEET_COLS} FROM stage_tweets
            ON CONFLICT (id) DO NOTHING RETURNING id, chunk_id)
        INSERT INTO stage_owned (id, chunk_id) SELECT id, chunk_id FROM stored""",
    "analyses": f"""INSERT INTO analyses ({_ANALYSIS_COLS})
        SELECT DISTINCT ON (s.tweet_id, s.analyzer_version) {_ANALYSIS_FROM_STAGE}
        FROM stage_analyses s LEFT JOIN stage_owned o ON o.id = s.tweet_id
        ON CONFLICT (tweet_id, analyzer_version) DO NOTHING""",
    "chunks": f"""INSERT INTO chunks ({_CHUNK_COLS})
        SELECT DISTINCT ON (c.chunk_id) {_CHUNK_FROM_STAGE} FROM stage_chunks c
        JOIN (SELECT chunk_id, count(*)::int4 AS size FROM stage_owned GROUP BY chunk_id) n
          ON n.chunk_id = c.chunk_id
        ON CONFLICT (chunk_id) DO NOTHING""",
    "llm_spend": f"""INSERT INTO llm_spend ({_cols("llm_spend")})
        SELECT {_cols("llm_spend")} FROM stage_llm_spend ON CONFLICT (id) DO NOTHING""",
    "duplicates": f"""INSERT INTO duplicates ({_DUP_COLS})
        SELECT {_DUP_COLS} FROM stage_duplicates ON CONFLICT (origin) DO NOTHING""",
    "dead_letters": f"""INSERT INTO dead_letters ({_DEAD_COLS})
        SELECT DISTINCT ON (origin) {_DEAD_COLS} FROM stage_dead_letters
        ON CONFLICT (origin) DO UPDATE SET
            reason = EXCLUDED.reason, detail = EXCLUDED.detail,
            last_seen = GREATEST(dead_letters.last_seen, EXCLUDED.last_seen)""",
    # in stream order: writers of the same streams lock their rows in one order
    "progress": f"""INSERT INTO source_progress ({_PROGRESS_COLS})
        SELECT stream, min(first_seq), max(last_seq) FROM stage_progress GROUP BY stream
        ORDER BY stream
        ON CONFLICT (stream) DO UPDATE SET
            first_seq = LEAST(source_progress.first_seq, EXCLUDED.first_seq),
            last_seq = GREATEST(source_progress.last_seq, EXCLUDED.last_seq),
            updated_at = now()""",
}


@dataclass(slots=True)
class Rows:
    """Outcomes flattened into per-table row tuples."""

    tweets: list[tuple[Any, ...]] = field(default_factory=list)
    analyses: list[tuple[Any, ...]] = field(default_factory=list)
    chunks: list[tuple[Any, ...]] = field(default_factory=list)
    duplicates: list[tuple[Any, ...]] = field(default_factory=list)
    dead_letters: list[tuple[Any, ...]] = field(default_factory=list)
    progress: dict[str, tuple[int, int]] = field(default_factory=dict)
    notifications: list[tuple[Any, ...]] = field(default_factory=list)
    llm_spend: list[tuple[Any, ...]] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    job_results: list[tuple[Any, ...]] = field(default_factory=list)

    def count(self) -> int:
        return (
            len(self.tweets)
            + len(self.analyses)
            + len(self.chunks)
            + len(self.duplicates)
            + len(self.dead_letters)
        )

    def saw(self, origin: str) -> None:
        stream, seq = split_origin(origin)
        self.cover(stream, seq, seq)

    def saw_all(self, tweets: Iterable[Tweet]) -> None:
        """:meth:`saw` for many tweets: one :meth:`cover` per stream, not per tweet."""
        spans: dict[str, list[int]] = {}
        for t in tweets:
            stream, _, digits = t.origin.rpartition(":")
            seq = int(digits)
            span = spans.get(stream)
            if span is None:
                spans[stream] = [seq, seq]
            elif seq < span[0]:
                span[0] = seq
            elif seq > span[1]:
                span[1] = seq
        for stream, (lo, hi) in spans.items():
            self.cover(stream, lo, hi)

    def cover(self, stream: str, first: int, last: int) -> None:
        lo_hi = self.progress.get(stream)
        if lo_hi is None:
            self.progress[stream] = (first, last)
        else:
            lo, hi = lo_hi
            if first < lo or last > hi:
                self.progress[stream] = (min(lo, first), max(hi, last))


def _spend_row(item: ChunkResult, at: datetime) -> tuple[Any, ...]:
    ca = item.analysis
    return (
        ca.call_id,
        ca.run_id,
        ca.chunk_id,
        ca.model,
        ca.requests,
        ca.prompt_tokens,
        ca.cached_tokens,
        ca.completion_tokens,
        Decimal(repr(ca.cost_usd)),
        ca.cache_hits,
        len(item.chunk.tweets),
        at,
    )


def _dead_row(d: DeadLetter, now: datetime) -> tuple[Any, ...]:
    seen = d.seen_at or now
    return (d.origin, d.source, d.reason.value, d.detail, d.payload, d.tweet_id, seen, seen)


def _job_result(item: ChunkResult) -> tuple[Any, ...]:
    """One finished chunk of an on-demand job, as the job's results JSON."""
    tweets = {t.id: t for t in item.chunk.tweets}
    analyses = [
        {
            "tweet_id": a.tweet_id,
            "text": tweets[a.tweet_id].text if a.tweet_id in tweets else None,
            "created_at": tweets[a.tweet_id].created_at.isoformat()
            if a.tweet_id in tweets
            else None,
            "sentiment": a.sentiment.value,
            "sentiment_score": a.sentiment_score,
            "topics": a.topics,
            "risk": a.risk,
            "flags": [f.value for f in a.flags],
            "language": a.language,
            "reason": a.reason,
        }
        for a in item.analyses
    ]
    ca = item.analysis
    doc = {
        "chunk_id": ca.chunk_id,
        "summary": ca.summary,
        "model": ca.model,
        "cost_usd": ca.cost_usd,
        "analyses": analyses,
        "dead_letters": [
            {"tweet_id": d.tweet_id, "reason": d.reason.value, "detail": d.detail}
            for d in item.dead_letters
        ],
        # tweets stored without an analysis (an analyzer that produces none, e.g. noop)
        "not_analysed": not_analysed(item),
    }
    job_id = ca.key.removeprefix(JOB_PREFIX)
    return (job_id, ca.chunk_id, Jsonb(doc), len(item.chunk.tweets))


def flatten(outcomes: Iterable[Outcome], now: datetime | None = None) -> Rows:
    """Per-table rows for a batch of outcomes, and the stream positions they cover."""
    now = now or datetime.now(UTC)
    rows = Rows()
    for item in outcomes:
        if isinstance(item, ChunkResult):
            ca = item.analysis
            cid = ca.chunk_id
            analyzed_at = ca.analyzed_at or now
            tweets = item.chunk.tweets
            rows.tweets += [post_row(t, cid) for t in tweets]
            rows.saw_all(tweets)
            append = rows.analyses.append
            for a in item.analyses:
                append(
                    (
                        store_key(a.tweet_id),
                        a.analyzer_version,
                        a.analyzer,
                        a.sentiment.value,
                        a.sentiment_score,
                        a.topics,
                        a.language,
                        a.risk,
                        # most have none: the empty list as it is, no new list per row
                        [f.value for f in a.flags] if a.flags else a.flags,
                        a.reason,
                        cid,
                        analyzed_at,
                    )
                )
            rows.chunks.append(
                (
                    cid,
                    ca.key,
                    ca.seq,
                    len(tweets),  # the staged merge counts only the tweets it stores
                    ca.summary,
                    ca.analyzer,
                    ca.analyzer_version,
                    ca.model,
                    ca.prompt_tokens,
                    ca.cached_tokens,
                    ca.completion_tokens,
                    Decimal(repr(ca.cost_usd)),
                    ca.opened_at,
                    analyzed_at,
                    ca.requests,
                    ca.cache_hits,
                )
            )
            if item.analyses or ca.requests or ca.cost_usd:  # noop: no call, nothing spent
                rows.llm_spend.append(_spend_row(item, analyzed_at))
            for d in item.dead_letters:
                rows.dead_letters.append(_dead_row(d, now))
            rows.notifications += insert_rows(item.notifications)
            if ca.key.startswith(JOB_PREFIX):
                rows.job_results.append(_job_result(item))
        elif isinstance(item, Duplicate):
            rows.duplicates.append(
                (item.origin, store_key(item.tweet_id), item.source, item.seen_at)
            )
            rows.saw(item.origin)
        elif isinstance(item, DeadLetter):
            rows.dead_letters.append(_dead_row(item, now))
            rows.saw(item.origin)
    return rows


def _record_job_results(cur: psycopg.Cursor[Any], results: list[tuple[Any, ...]]) -> None:
    """Chunk results of jobs, then each job's progress recounted from them (idempotent)."""
    cur.executemany(
        "INSERT INTO analysis_results (job_id, chunk_id, results, size)"
        " SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM analysis_jobs WHERE id = %s)"
        " ON CONFLICT (job_id, chunk_id) DO NOTHING",
        [(j, c, doc, n, j) for j, c, doc, n in results],
    )
    cur.execute(
        "UPDATE analysis_jobs j SET processed_tweets = s.done, updated_at = now(),"
        " status = CASE WHEN j.status = 'analysing' AND s.done >= j.total_tweets"
        "   THEN 'completed' ELSE j.status END,"
        " completed_at = CASE WHEN j.status = 'analysing' AND s.done >= j.total_tweets"
        "   THEN now() ELSE j.completed_at END"
        # distinct tweets, analysed, dead-lettered or stored unanalysed: a job fetched
        # again after a restart re-forms chunks under new ids, but never counts a tweet twice
        f" FROM (SELECT r.job_id, count(DISTINCT e->>'tweet_id')::int AS done"
        f"       FROM analysis_results r, jsonb_array_elements({JOB_TWEETS}) e"
        "       WHERE r.job_id = ANY(%s) GROUP BY r.job_id) s"
        " WHERE j.id = s.job_id",
        (sorted({r[0] for r in results}),),
    )


# A batch is written in two halves on two connections at once: while one
# connection's merge runs in PostgreSQL (GIL released), the other's rows are
# encoded in Python. Each half is its own transaction and holds whole chunks
# (tweets, analyses, chunk row, spend, notifications: all or nothing); the
# first half also takes duplicates, loose dead letters, stream progress and
# every job's chunks (a job's progress is recounted in one transaction).
# write() returns only when both have committed, and every statement is an
# idempotent upsert, so a crash between the two commits is repaired by the
# replay that follows. (That is ``write()``; a pipelining sink instead calls
# ``prepare()`` and then ``commit()`` from two threads, each batch in one
# transaction on a free connection.) Tables are merged in this order: tweets before the
# analyses and chunk rows that look their owner up.
_TABLES = (
    "tweets",
    "analyses",
    "chunks",
    "llm_spend",
    "duplicates",
    "dead_letters",
    "progress",
    "notifications",
)


def split_halves(outcomes: Sequence[Outcome]) -> tuple[list[Outcome], list[Outcome]]:
    """Two halves of about equal tweets; whole chunks, all else in the first."""
    halves: tuple[list[Outcome], list[Outcome]] = ([], [])
    load = [0, 0]
    for item in outcomes:
        if isinstance(item, ChunkResult) and not item.analysis.key.startswith(JOB_PREFIX):
            slot = 0 if load[0] <= load[1] else 1
            size = len(item.chunk.tweets)
        else:
            slot, size = 0, 1
        halves[slot].append(item)
        load[slot] += size
    return halves


def _copy(
    cur: psycopg.Cursor[Any], target: str, table: str, data: Sequence[tuple[Any, ...]]
) -> None:
    query = f"COPY {target} ({_cols(table)}) FROM STDIN (FORMAT BINARY)"
    with cur.copy(query.encode()) as copy:
        copy.set_types([kind for _, kind in _COLUMNS[table]])
        for row in data:
            copy.write_row(row)


# The common case: every tweet of the batch is new, so its tweets, analyses and
# chunk rows are copied straight into their tables (no staging, no merge). Any
# conflict (a replay, a tweet in two chunks of one batch) undoes that attempt
# and the batch takes the staged merge, which decides ownership row by row.
_DIRECT = ("tweets", "analyses", "chunks")


def copy_direct(conn: psycopg.Connection, cur: psycopg.Cursor[Any], rows: Rows) -> bool:
    """Copy tweets, analyses and chunk rows straight in; False (nothing written) on a conflict."""
    if not rows.tweets or any(row[3] <= 0 for row in rows.chunks):
        return False
    try:
        with conn.transaction():  # a savepoint
            for table in _DIRECT:
                data: list[tuple[Any, ...]] = getattr(rows, table)
                if data:
                    _copy(cur, table, table, data)
    except psycopg.errors.UniqueViolation:
        return False
    return True


@dataclass(slots=True)
class Prepared:
    """A batch's rows: ``first`` (with progress and deletes) and ``second``, written at once."""

    first: Rows
    second: Rows


class PostgresWriter:
    """Writes batches of outcomes; safe to call again with the same batch."""

    def __init__(
        self,
        url: str,
        *,
        max_outage_s: float = 600.0,
        max_backoff_s: float = 30.0,
        parallel: bool = True,
    ) -> None:
        self._url = url
        self._conns: list[psycopg.Connection | None] = [None, None]
        self.max_outage_s = max_outage_s
        self.max_backoff_s = max_backoff_s
        self.rows_written = 0
        self.retries = 0
        self.copied_direct = {True: 0, False: 0}  # batch halves with tweets: direct or merged
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="pg-writer") if parallel else None
        # connections not in use; a batch in halves takes both under ``_both``
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for slot in (0, 1) if parallel else (0,):
            self._free.put(slot)
        self._both = threading.Lock()
        self._counting = threading.Lock()
        self.commit_threads = 2 if parallel else 1

    def _connect(self, slot: int) -> psycopg.Connection:
        conn = self._conns[slot]
        if conn is None or conn.closed:
            conn = psycopg.connect(self._url, autocommit=False)
            conn.execute(_STAGING.encode())
            conn.commit()
            self._conns[slot] = conn
        return conn

    def write(self, outcomes: Sequence[Outcome], resolved: Sequence[str] = ()) -> int:
        """Store ``outcomes``; returns the rows staged.

        ``resolved``: origins of dead letters that these outcomes replace
        (a re-drive), deleted in the same transaction as the analyses.
        """
        halves = self._pool is not None and not resolved  # a re-drive: one transaction
        return self.commit(self._prepare(outcomes, resolved, halves))

    def prepare(self, outcomes: Sequence[Outcome], resolved: Sequence[str] = ()) -> Prepared:
        """The rows of ``outcomes`` as one transaction's (no I/O).

        A pipelining sink prepares the next batch while :attr:`commit_threads`
        threads :meth:`commit` earlier ones, each on a connection of its own.
        """
        return self._prepare(outcomes, resolved, halves=False)

    def _prepare(
        self, outcomes: Sequence[Outcome], resolved: Sequence[str], halves: bool
    ) -> Prepared:
        if halves:
            first, second = split_halves(outcomes)
        else:
            first, second = list(outcomes), list[Outcome]()
        rows, other = flatten(first), flatten(second)
        rows.resolved = list(resolved)
        for stream, (lo, hi) in other.progress.items():  # one writer per progress row
            rows.cover(stream, lo, hi)
        other.progress = {}
        return Prepared(rows, other)

    def commit(self, prepared: Prepared) -> int:
        """Store prepared rows; returns when they are committed (both halves, if two).

        Safe to call from :attr:`commit_threads` threads at once: each takes a
        free connection (a batch in halves takes both).
        """
        rows, other = prepared.first, prepared.second
        count = rows.count() + other.count()
        if not count and not rows.progress and not rows.resolved:
            return 0
        if self._pool is None or not other.count():
            with self._slot() as slot:
                self._retrying(slot, rows)
        else:
            with self._both, self._slot() as one, self._slot() as two:
                later = self._pool.submit(self._retrying, two, other)
                try:
                    self._retrying(one, rows)
                finally:
                    later.result()  # wait for it, and raise its error if it failed
        with self._counting:
            self.rows_written += count
        return count

    @contextlib.contextmanager
    def _slot(self) -> Iterator[int]:
        slot = self._free.get()
        try:
            yield slot
        finally:
            self._free.put(slot)

    def _retrying(self, slot: int, rows: Rows) -> None:
        def attempt() -> None:
            try:
                self._write_rows(slot, rows)
            except psycopg.OperationalError:
                metrics.SINK_ERRORS.labels("postgres").inc()
                self._drop_connection(slot)
                self.retries += 1
                raise

        def note(state: RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            reason = str(err).strip()
            n = state.attempt_number
            log.warning("postgres write failed (%s); retry %d in %.1fs", reason, n, delay)

        retrying(
            attempt,
            on=psycopg.OperationalError,
            wait=scaled_jitter(0.2, self.max_backoff_s),
            max_delay_s=self.max_outage_s,
            before_sleep=note,
        )

    def _write_rows(self, slot: int, rows: Rows) -> None:
        conn = self._connect(slot)
        data_of = {
            "tweets": rows.tweets,
            "analyses": rows.analyses,
            "chunks": rows.chunks,
            "duplicates": rows.duplicates,
            "dead_letters": rows.dead_letters,
            "progress": [(s, lo, hi) for s, (lo, hi) in rows.progress.items()],
            "notifications": rows.notifications,
            "llm_spend": rows.llm_spend,
        }
        with conn.transaction(), conn.cursor() as cur:
            direct = copy_direct(conn, cur, rows)
            done = _DIRECT if direct else ()
            for table in _TABLES:
                data = data_of[table]
                if not data or table in done:
                    continue
                _copy(cur, f"stage_{table}", table, data)
                cur.execute(_MERGE[table].encode())
            if rows.job_results:
                _record_job_results(cur, rows.job_results)
            if rows.resolved:
                cur.execute("DELETE FROM dead_letters WHERE origin = ANY(%s)", (rows.resolved,))
        if rows.tweets:
            with self._counting:
                self.copied_direct[direct] += 1

    def _drop_connection(self, slot: int) -> None:
        conn = self._conns[slot]
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        self._conns[slot] = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for slot in (0, 1):
            self._drop_connection(slot)
