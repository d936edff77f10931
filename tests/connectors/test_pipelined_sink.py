"""A staged writer behind the flushing sink: the next batch is prepared while one
commits, and snapshot() still returns only when every batch is committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import psycopg
import pytest

from chirpflow.connectors.bytewax_flushing_sink import FlushingSink
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.writer import PostgresWriter, Prepared
from chirpflow.flows.steps.sink_adapters import StagedFlattening
from chirpflow.model import Chunk, ChunkAnalysis, ChunkResult, Outcome, make_origin
from tests.factories import T0, tweet


def _chunk(ids: list[int], seq: int) -> ChunkResult:
    tweets = [tweet(i) for i in ids]
    chunk = Chunk(key="k", seq=seq, tweets=tweets, opened_at=T0)
    return ChunkResult(
        chunk, ChunkAnalysis(chunk.chunk_id, "k", seq, len(ids), "", "noop", "v0"), []
    )


def _wait_for(cond: Callable[[], bool], what: str, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)  # polling a condition, not synchronising on time


class _Watched(PostgresWriter):
    """The real writer, counting the batches it prepared."""

    prepared = 0

    def prepare(self, outcomes: Sequence[Outcome], resolved: Sequence[str] = ()) -> Prepared:
        got = super().prepare(outcomes, resolved)
        self.prepared += 1
        return got


def _stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tweets").fetchone()
    return int(row[0]) if row else 0


def test_snapshot_waits_for_a_batch_still_committing(pg_url: str) -> None:
    migrate(pg_url)
    writer = _Watched(pg_url)
    # wrapped as the analysis flow wraps it: two commits at once, each on its own connection
    sink = FlushingSink(lambda _: StagedFlattening(writer, "postgres"), max_pending=1, max_items=1)
    part = sink.build_part("s", "0", None)
    blocker = psycopg.connect(pg_url)
    try:
        # an uncommitted tweet with the first batch's id: its COPY waits on the unique index
        blocker.execute(
            "INSERT INTO tweets (id, text, author_id, created_at, fetched_at, source, origin)"
            " VALUES (%s, 'held', 1, now(), now(), 'test', 'held:0:1')",
            (int(tweet(1).id),),
        )
        part.write_batch([_chunk([2, 1], 0)])  # copies 2, then waits on 1
        part.write_batch([_chunk([3, 4], 1)])
        done = threading.Event()

        def snapshot() -> None:
            part.snapshot()
            done.set()

        waiter = threading.Thread(target=snapshot)
        waiter.start()
        # the next batch is prepared while the first one is blocked in PostgreSQL
        _wait_for(lambda: writer.prepared == 2, "the second batch to be prepared")
        _wait_for(lambda: _lock_waiters(pg_url) > 0, "the first commit to block")
        # the second batch commits on the other connection meanwhile
        _wait_for(lambda: _stored(pg_url) == 2, "the second batch to commit")
        assert not done.is_set()  # the first batch is not committed: no snapshot yet
        blocker.rollback()  # the held tweet goes away; the copy goes on
        waiter.join(10)
        assert done.is_set()
        assert _stored(pg_url) == 4  # every handed-over tweet is committed
    finally:
        blocker.close()
        part.close()


def _lock_waiters(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


class _ListStaged:
    """A real in-memory staged writer: prepare copies, commit stores."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.items: list[int] = []
        self.fail_on = fail_on
        self.closed = False

    def prepare(self, items: list[int]) -> list[int]:
        return sorted(items)

    def commit(self, prepared: list[int]) -> None:
        if self.fail_on in prepared:
            raise OSError("disk on fire")
        self.items.extend(prepared)

    def write(self, items: list[int]) -> None:
        self.commit(self.prepare(items))

    def close(self) -> None:
        self.closed = True


def test_staged_commit_failure_surfaces_and_close_stores_the_rest() -> None:
    ok = _ListStaged()
    part = FlushingSink(lambda _: ok, max_pending=2, max_items=3).build_part("s", "0", None)
    for i in range(10):
        part.write_batch([i])
    part.close()  # the stop waits for every prepared batch to commit
    assert sorted(ok.items) == list(range(10))
    assert ok.closed
    bad = _ListStaged(fail_on=3)
    part = FlushingSink(lambda _: bad).build_part("s", "0", None)
    part.write_batch([1, 2, 3])
    with pytest.raises(RuntimeError, match="disk on fire"):
        part.snapshot()
    with pytest.raises(RuntimeError):
        part.write_batch([4])


def test_progress_stays_right_when_two_writers_cover_the_same_streams(pg_url: str) -> None:
    migrate(pg_url)
    sink = FlushingSink(lambda _: PostgresWriter(pg_url), parts=2, max_pending=2, max_items=2)
    parts = [sink.build_part("s", name, None) for name in ("0", "1")]

    def chunk(n: int, seq: int) -> ChunkResult:
        # every chunk spans both streams, in opposite orders on the two partitions
        streams = ("a:0", "b:0") if seq % 2 else ("b:0", "a:0")
        ts = [tweet(n + i, origin=make_origin(streams[i % 2], n + i)) for i in range(10)]
        c = Chunk(key="k", seq=seq, tweets=ts, opened_at=T0)
        return ChunkResult(c, ChunkAnalysis(c.chunk_id, "k", seq, 10, "", "noop", "v0"), [])

    def feed(p: int) -> None:
        for k in range(20):
            seq = 2 * k + p
            parts[p].write_batch([chunk(10 * seq, seq)])
        parts[p].snapshot()

    threads = [threading.Thread(target=feed, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for part in parts:
        part.close()  # raises if a write failed (e.g. a deadlock that was not retried)
    with psycopg.connect(pg_url) as conn:
        progress = conn.execute(
            "SELECT stream, first_seq, last_seq FROM source_progress ORDER BY stream"
        ).fetchall()
        stored = conn.execute("SELECT count(*) FROM tweets").fetchone()
    sent: dict[str, list[int]] = {}
    for seq in range(40):
        for tw in chunk(10 * seq, seq).chunk.tweets:
            stream, _, at = tw.origin.rpartition(":")
            sent.setdefault(stream, []).append(int(at))
    assert progress == [(s, min(v), max(v)) for s, v in sorted(sent.items())]
    assert stored == (400,)
