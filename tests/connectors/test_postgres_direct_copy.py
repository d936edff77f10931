"""New tweets are copied straight into their tables; a conflicting batch takes the merge."""

from __future__ import annotations

from typing import Any

import psycopg

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.model import Chunk, ChunkAnalysis, ChunkResult, Outcome, Sentiment, TweetAnalysis
from tests.factories import T0, tweet


def _chunk(ids: list[int], seq: int) -> ChunkResult:
    tweets = [tweet(i) for i in ids]
    chunk = Chunk(key="k", seq=seq, tweets=tweets, opened_at=T0)
    analyses = [
        TweetAnalysis(t.id, Sentiment.POSITIVE, 0.5, ["ai"], "en", 10, [], "offline", "v1")
        for t in tweets
    ]
    return ChunkResult(
        chunk, ChunkAnalysis(chunk.chunk_id, "k", seq, len(ids), "s", "offline", "v1"), analyses
    )


def _rows(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.chunk_id, c.size, count(t.id), count(a.tweet_id),"
            " bool_and(a.chunk_id = t.chunk_id)"
            " FROM chunks c LEFT JOIN tweets t ON t.chunk_id = c.chunk_id"
            " LEFT JOIN analyses a ON a.tweet_id = t.id GROUP BY c.chunk_id, c.size"
            " ORDER BY c.chunk_id"
        ).fetchall()


def test_new_tweets_copy_straight_in_and_conflicts_merge(pg_url: str) -> None:
    migrate(pg_url)
    writer = PostgresWriter(pg_url, parallel=False)
    first: list[Outcome] = [_chunk(list(range(0, 40)), 0), _chunk(list(range(40, 80)), 1)]
    writer.write(first)
    assert writer.copied_direct == {True: 1, False: 0}
    stored = _rows(pg_url)
    assert sorted(r[1:] for r in stored) == [(40, 40, 40, True), (40, 40, 40, True)]
    writer.write(first)  # a replay: conflicts, merged, nothing added
    # a chunk re-formed across stored and new tweets: only the new ones are its own
    writer.write([_chunk(list(range(70, 90)), 2)])
    # two chunks of one batch share a tweet: the first to store it owns it
    writer.write([_chunk([100, 101], 3), _chunk([101, 102], 4)])
    writer.close()
    assert writer.copied_direct == {True: 1, False: 3}
    rows = _rows(pg_url)
    assert set(stored) <= set(rows)  # stored rows never change
    sizes = sorted(r[1] for r in rows)
    assert sizes == [1, 2, 10, 40, 40]
    assert all(r[1] == r[2] == r[3] and r[4] for r in rows)
