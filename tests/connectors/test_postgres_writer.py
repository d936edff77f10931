"""The idempotent batch writer against a real PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg

from chirpflow.connectors.embedded.postgres import EmbeddedPostgres
from chirpflow.connectors.postgres.migrate import available, migrate
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    DeadLetter,
    DeadLetterReason,
    Duplicate,
    Outcome,
    Sentiment,
    TweetAnalysis,
)
from tests.factories import T0, tweet


def _outcomes(start: int, n: int) -> list[Outcome]:
    tweets = [tweet(i) for i in range(start, start + n)]
    chunk = Chunk(key="k", seq=start, tweets=tweets, opened_at=T0)
    analyses = [
        TweetAnalysis(t.id, Sentiment.POSITIVE, 0.5, ["ai"], "en", 10, [], "offline", "v1")
        for t in tweets
    ]
    summary = ChunkAnalysis(chunk.chunk_id, "k", start, n, "s", "offline", "v1")
    dup = Duplicate(tweet(start + n).origin, tweets[0].id, "test", T0)
    dead = DeadLetter(
        tweet(start + n + 1).origin, "test", DeadLetterReason.MALFORMED_JSON, "x", "{"
    )
    return [ChunkResult(chunk, summary, analyses), dup, dead]


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
        assert row is not None
        return int(row[0])


def test_migrations_apply_once(pg_url: str) -> None:
    assert [m.version for m in migrate(pg_url)] == [m.version for m in available()]
    assert migrate(pg_url) == []


def test_replayed_batches_never_duplicate_rows(pg_url: str) -> None:
    migrate(pg_url)
    writer = PostgresWriter(pg_url)
    batch = _outcomes(0, 50)
    writer.write(batch)
    writer.write(batch)  # a replay after recovery
    writer.write(_outcomes(25, 50))  # overlapping replay with other chunk boundaries
    writer.close()
    assert _count(pg_url, "tweets") == 75
    assert _count(pg_url, "analyses") == 75
    assert _count(pg_url, "chunks") == 2
    stats = store_stats(pg_url)
    assert stats["tweets_ingested"] == 77  # positions 0..76
    assert stats["duplicates"] == 2 and stats["dead_letters"] == 2


def test_database_restart_mid_stream_loses_nothing(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", durable=False)
    url = server.start()
    migrate(url)
    writer = PostgresWriter(url, max_backoff_s=0.5)
    writer.write(_outcomes(0, 10))
    server.stop()

    def bring_back() -> None:
        time.sleep(1.5)
        server.start()

    restarter = threading.Thread(target=bring_back)
    restarter.start()
    writer.write(_outcomes(100, 10))  # waits, retries, then succeeds
    restarter.join()
    assert writer.retries >= 1
    writer.close()
    assert _count(url, "tweets") == 20
    server.stop()


def test_migrations_upgrade_from_every_earlier_version(postgres_server: str) -> None:
    from chirpflow.connectors.embedded.postgres import drop_database, ensure_database

    versions = [m.version for m in available()]
    for start in versions[:-1]:
        url = ensure_database(postgres_server, f"mig{start}")
        assert [m.version for m in migrate(url, target=start)][-1] == start
        applied = [m.version for m in migrate(url)]
        assert applied == [v for v in versions if v > start]
        writer = PostgresWriter(url)
        writer.write(_outcomes(0, 5))
        writer.close()
        assert _count(url, "tweets") == 5
        drop_database(postgres_server, f"mig{start}")
