"""The results query module against real PostgreSQL: every filter, paging, streaming."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.results import (
    TweetFilter,
    count,
    list_tweets,
    stream,
)
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    RiskFlag,
    Sentiment,
    TweetAnalysis,
)
from tests.factories import T0, tweet

HOSTILE = "<img src=x onerror=alert(1)> 100%_off [x.com/brand](https://evil.example)"


def _fill(url: str) -> None:
    migrate(url)
    specs = [
        # n, text, author, source, watch, sentiment, risk, flags, topics, minutes after T0
        (1, "calm morning", "alice", "synthetic", "brand", "neutral", 0, [], ["weather"], 1),
        (2, "my phone is 555-0100", "bob", "x_api", "brand", "negative", 70, ["pii"], ["phone"], 2),
        (3, HOSTILE, "mallory", "x_api", "promo", "negative", 40, ["keyword"], ["Scam"], 3),
        (4, "love it", "alice", "synthetic", None, "positive", 5, [], ["product"], 4),
        (5, "you idiot", "carol", "synthetic", "brand", "negative", 90, ["toxicity"], [], 5),
    ]
    tweets, analyses = [], []
    for n, text, author, source, watch, sent, risk, flags, topics, minutes in specs:
        t = tweet(
            n,
            text,
            author_username=author,
            source=source,
            watch=watch,
            created_at=T0 + timedelta(minutes=minutes),
        )
        tweets.append(t)
        analyses.append(
            TweetAnalysis(
                t.id,
                Sentiment(sent),
                0.5,
                topics,
                "en",
                risk,
                [RiskFlag(f) for f in flags],
                "offline",
                "offline-1",
                "because",
            )
        )
    chunk = Chunk("k", 0, tweets, T0)
    summary = ChunkAnalysis(chunk.chunk_id, "k", 0, len(tweets), "", "offline", "offline-1")
    writer = PostgresWriter(url)
    writer.write([ChunkResult(chunk, summary, analyses)])
    writer.close()


def _ids(url: str, f: TweetFilter, **kw: int) -> list[int]:
    return [int(r["id"]) - 1_800_000_000_000_000_000 for r in list_tweets(url, f, **kw)]


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (TweetFilter(), [5, 4, 3, 2, 1]),
        (TweetFilter(since=T0 + timedelta(minutes=3)), [5, 4, 3]),
        (TweetFilter(until=T0 + timedelta(minutes=3)), [2, 1]),
        (TweetFilter(source="x_api"), [3, 2]),
        (TweetFilter(watch="brand"), [5, 2, 1]),
        (TweetFilter(sentiment=Sentiment.NEGATIVE), [5, 3, 2]),
        (TweetFilter(min_risk=70), [5, 2]),
        (TweetFilter(flag=RiskFlag.PII), [2]),
        (TweetFilter(flagged=True), [5, 3, 2]),
        (TweetFilter(topic="scam"), [3]),
        (TweetFilter(text="100%_"), [3]),
        (TweetFilter(text="%"), [3]),  # the user's % is a literal, not a wildcard
        (TweetFilter(author="@Alice"), [4, 1]),
        (TweetFilter(author="alice", sentiment=Sentiment.POSITIVE), [4]),
    ],
)
def test_each_filter_selects_its_tweets(pg_url: str, f: TweetFilter, expected: list[int]) -> None:
    _fill(pg_url)
    assert _ids(pg_url, f) == expected
    assert count(pg_url, "tweets", f) == len(expected)


def test_pages_are_disjoint_and_newest_first(pg_url: str) -> None:
    _fill(pg_url)
    pages = [_ids(pg_url, TweetFilter(), limit=2, page=p) for p in (1, 2, 3, 4)]
    assert pages == [[5, 4], [3, 2], [1], []]


def test_hostile_text_is_a_value_not_sql(pg_url: str) -> None:
    _fill(pg_url)
    assert _ids(pg_url, TweetFilter(text="'; DROP TABLE tweets; --")) == []
    assert _ids(pg_url, TweetFilter(author="x' OR '1'='1")) == []
    (row,) = list_tweets(pg_url, TweetFilter(author="mallory"))
    assert row["text"] == HOSTILE
    assert row["url"] == f"https://x.com/mallory/status/{row['id']}"
    assert row["flags"] == ["keyword"] and row["reason"] == "because"


def test_stream_yields_every_row_in_batches(pg_url: str) -> None:
    _fill(pg_url)
    batches = list(stream(pg_url, "tweets", TweetFilter(), batch=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert list(stream(pg_url, "dead-letters", TweetFilter())) == []
