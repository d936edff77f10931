"""Chunks and spend in PostgreSQL: re-formed chunks never rewrite rows, spend only adds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.connectors.postgres.usage import usage_by_provider
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    Outcome,
    Sentiment,
    TweetAnalysis,
)
from tests.factories import T0, tweet


def _result(ids: range, seq: int, requests: int, cost: float) -> ChunkResult:
    tweets = [tweet(i) for i in ids]
    chunk = Chunk(key="k", seq=seq, tweets=tweets, opened_at=T0)
    analyses = [
        TweetAnalysis(t.id, Sentiment.NEUTRAL, 0.0, [], "en", 0, [], "llm", "v1") for t in tweets
    ]
    summary = ChunkAnalysis(
        chunk.chunk_id,
        "k",
        seq,
        len(tweets),
        "s",
        "llm",
        "v1",
        "gpt-test",
        prompt_tokens=10 * requests,
        cost_usd=cost,
        requests=requests,
    )
    return ChunkResult(chunk, summary, analyses)


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.encode()).fetchall()


def test_a_chunk_reformed_after_a_restart_never_rewrites_the_stored_one(pg_url: str) -> None:
    migrate(pg_url)
    writer = PostgresWriter(pg_url)
    whole = _result(range(0, 100), 3, requests=1, cost=0.5)
    writer.write([whole])
    # restored with 40 tweets and flushed at once: same seq, fewer tweets; then the rest
    early = _result(range(0, 40), 3, requests=1, cost=0.2)
    rest = _result(range(40, 130), 4, requests=1, cost=0.3)
    batch: list[Outcome] = [early, rest]
    writer.write(batch)
    writer.write(batch)  # the same batch again (a retried write): adds nothing
    writer.close()
    chunks = _rows(pg_url, "SELECT chunk_id, size FROM chunks ORDER BY seq")
    # the early chunk owns no tweet (no row); the rest owns only its 30 new ones
    assert chunks == [(whole.chunk.chunk_id, 100), (rest.chunk.chunk_id, 30)]
    owners = _rows(
        pg_url,
        "SELECT t.chunk_id, count(*), count(a.tweet_id) FROM tweets t"
        " LEFT JOIN analyses a ON a.tweet_id = t.id AND a.chunk_id = t.chunk_id"
        " GROUP BY t.chunk_id ORDER BY count(*) DESC",
    )
    assert owners == [(whole.chunk.chunk_id, 100, 100), (rest.chunk.chunk_id, 30, 30)]
    # every analysis made was paid for and is in the ledger, once
    stats = store_stats(pg_url)
    assert stats["llm_requests"] == 3 and stats["llm_cost_usd"] == 1.0
    assert stats["llm_prompt_tokens"] == 30


def test_migration_keeps_spend_recorded_before_the_ledger(postgres_server: str) -> None:
    from chirpflow.connectors.embedded.postgres import drop_database, ensure_database

    url = ensure_database(postgres_server, "ledger_upgrade")
    try:
        migrate(url, target=5)
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO chunks (chunk_id, key, seq, size, analyzer, analyzer_version,"
                " requests, cost_usd, prompt_tokens) VALUES ('k#0', 'k', 0, 100, 'llm', 'v1',"
                " 2, 0.51, 900)"
            )
            conn.execute(
                "INSERT INTO source_usage VALUES (%s, 'x', 'x:brand', 4, 400, 2.0)",
                (date(2026, 11, 30),),
            )
        migrate(url)
        stats = store_stats(url)
        assert (stats["llm_requests"], stats["llm_cost_usd"]) == (2, 0.51)
        assert stats["llm_prompt_tokens"] == 900
        with psycopg.connect(url) as conn:
            assert usage_by_provider(conn) == {"x": {"requests": 4, "tweets": 400, "cost_usd": 2.0}}
            # the per-day totals are still there to read, as a view over the ledger
            day = conn.execute("SELECT day, requests, cost_usd FROM source_usage").fetchall()
        assert day == [(date(2026, 11, 30), 4, Decimal("2.000000"))]
        assert stats["runs"][0]["run_id"] == "before-ledger"
    finally:
        drop_database(postgres_server, "ledger_upgrade")


def test_a_redriven_analysis_is_filed_under_the_chunk_that_holds_its_tweet(pg_url: str) -> None:
    migrate(pg_url)
    writer = PostgresWriter(pg_url)
    failed = _result(range(0, 10), 0, requests=1, cost=0.1)
    failed.analyses = failed.analyses[:8]  # two tweets failed (dead letters in the flow)
    writer.write([failed])
    redrive = _result(range(8, 10), 0, requests=1, cost=0.02)
    writer.write([redrive], resolved=[tweet(8).origin, tweet(9).origin])
    writer.close()
    assert _rows(pg_url, "SELECT chunk_id, size FROM chunks") == [(failed.chunk.chunk_id, 10)]
    assert _rows(pg_url, "SELECT DISTINCT chunk_id, count(*) FROM analyses GROUP BY 1") == [
        (failed.chunk.chunk_id, 10)
    ]
    assert store_stats(pg_url)["llm_requests"] == 2
