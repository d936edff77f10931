"""``chirpflow dlq retry``: run dead letters through validation and analysis again.

Those that now succeed are stored as analysed tweets with their ORIGINAL
origin and their dead letter is deleted in the same transaction, so the
store's invariant (ingested = analysed + stored not analysed + duplicates +
dead letters) holds.
Those that fail again keep their row with one more attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chirpflow.connectors.postgres.dead_letters import failed_again, list_dead_letters
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.flows.build import make_chunk_analyzer
from chirpflow.model import Chunk, DeadLetterReason, Outcome, Tweet
from chirpflow.operators.normalize import normalize
from chirpflow.settings import Environment, Settings


@dataclass(frozen=True, slots=True)
class RetryReport:
    tried: int
    resolved: int
    still_failing: int


def retry_dead_letters(
    url: str, settings: Settings, env: Environment, reason: str | None, limit: int
) -> RetryReport:
    letters = list_dead_letters(url, reason=reason, limit=limit)
    still: dict[str, tuple[DeadLetterReason, str]] = {}
    tweets: list[Tweet] = []
    for letter in letters:
        out = normalize(letter.record())
        if isinstance(out, Tweet):
            tweets.append(out)
        else:
            still[letter.origin] = (out.reason, out.detail)
    analyzer = make_chunk_analyzer(settings, env, url)
    now = datetime.now(UTC)
    key = f"dlq-retry-{now:%Y%m%dT%H%M%S}"
    size = settings.pipeline.chunk_size
    results: list[Outcome] = []
    for seq, start in enumerate(range(0, len(tweets), size)):
        result = analyzer.run(Chunk(key, seq, tweets[start : start + size], now))
        for dead in result.dead_letters:
            still[dead.origin] = (dead.reason, dead.detail)
        failed = {d.tweet_id for d in result.dead_letters}
        result.dead_letters = []
        # analysed, or stored without an analysis (an analyzer that produces none)
        result.chunk.tweets = [t for t in result.chunk.tweets if t.id not in failed]
        results.append(result)
    resolved = [t.origin for t in tweets if t.origin not in still]
    writer = PostgresWriter(url)
    try:
        writer.write(results, resolved=resolved)
    finally:
        writer.close()
    failed_again(url, still)
    return RetryReport(tried=len(letters), resolved=len(resolved), still_failing=len(still))
