"""Sink scenarios: the PostgreSQL writer alone, and alert delivery under a channel's limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chirpflow.connectors.notify.discord import DiscordChannel
from chirpflow.connectors.notify.dispatcher import Dispatcher
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    Notification,
    RawRecord,
    Sentiment,
    Tweet,
    TweetAnalysis,
    make_origin,
)
from chirpflow.operators.normalize import normalize
from tests.fakes.discord_server import FakeDiscord, running

BATCH = 5000  # tweets per write, as the flow's writer thread batches them


def _results(gen: SyntheticTweets, start: int, n: int) -> list[ChunkResult]:
    now = datetime.now(UTC)
    tweets = [
        t
        for i, p in enumerate(gen.batch(start, n))
        if isinstance(t := normalize(RawRecord(make_origin("s:0", start + i), "s", p, now)), Tweet)
    ]
    out = []
    for k in range(0, len(tweets), 100):
        part = tweets[k : k + 100]
        chunk = Chunk("bench", (start + k) // 100, part, now)
        analyses = [
            TweetAnalysis(t.id, Sentiment.NEUTRAL, 0.0, ["x"], "en", 0, [], "noop", "noop-1")
            for t in part
        ]
        summary = ChunkAnalysis(chunk.chunk_id, "bench", chunk.seq, len(part), "", "noop", "noop-1")
        out.append(ChunkResult(chunk, summary, analyses))
    return out


def pg_sink(n: int, url: str | None) -> dict[str, Any]:
    """Rows/s of the idempotent writer (tweets + analyses + chunks), no flow around it."""
    assert url
    migrate(url)
    gen = SyntheticTweets(seed=5, duplicate_ratio=0.0)
    writer = PostgresWriter(url)
    rows = 0
    elapsed = 0.0
    for start in range(0, n, BATCH):
        batch = _results(gen, start, min(BATCH, n - start))
        t0 = time.perf_counter()
        rows += writer.write(batch)
        elapsed += time.perf_counter() - t0
    writer.close()
    return {
        "tweets": n,
        "rows": rows,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "tweets_per_s": n / elapsed,
    }


def notify(n: int, url: str | None) -> dict[str, Any]:
    """Alerts through the outbox to a Discord webhook limited to 5 requests per 2 s."""
    assert url
    migrate(url)
    count = min(n, 50)
    outbox = Outbox(url)
    outbox.add(
        [
            Notification(f"r:{i}:ops", "r", "ops", "tweet", f"alert {i}", "text", severity=80)
            for i in range(count)
        ]
    )
    fake = FakeDiscord(limit=5, per_s=2.0)
    with running(fake) as (fake, hook):
        dispatcher = Dispatcher(outbox, {"ops": DiscordChannel("ops", hook)}, {"ops": 1000})
        t0 = time.perf_counter()
        while len(fake.messages) < count:
            dispatcher.run_once()
        elapsed = time.perf_counter() - t0
    dispatcher.close()
    limit = fake.limit / fake.per_s
    rate = (count - 1) / elapsed if elapsed else 0.0
    return {
        "tweets": count,
        "messages": len(fake.messages),
        "seconds": elapsed,
        "messages_per_s": rate,
        "channel_limit_per_s": limit,
        "vs_limit": rate / limit,
        "http_429": fake.statuses.count(429),
        "tweets_per_s": rate,
    }
