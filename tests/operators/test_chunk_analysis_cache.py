"""Which analyzers go through the result cache (no text hashing when it cannot help)."""

from __future__ import annotations

from datetime import UTC, datetime

from chirpflow.model import Chunk
from chirpflow.operators.chunk_analysis import ChunkAnalyzer
from chirpflow.operators.offline import NoopAnalyzer, OfflineAnalyzer
from chirpflow.operators.result_cache import LruResultCache
from tests.factories import tweet


def _chunk() -> Chunk:
    tweets = [tweet(1, "same text"), tweet(2, "same text"), tweet(3, "other text")]
    return Chunk(key="k", seq=0, tweets=tweets, opened_at=datetime.now(UTC))


def test_noop_analyzer_skips_the_result_cache() -> None:
    cache = LruResultCache(100)
    runner = ChunkAnalyzer(NoopAnalyzer(), cache)
    result = runner.run(_chunk())
    assert not result.analyses and not result.dead_letters  # stored, not analysed
    assert len(cache) == 0 and (cache.hits, cache.misses) == (0, 0)
    assert result.analysis.cache_hits == 0 and runner.stats.failed == 0


def test_noop_failure_dead_letters_every_tweet() -> None:
    result = ChunkAnalyzer(NoopAnalyzer(), LruResultCache(100)).failed(_chunk(), "stopped")
    assert not result.analyses
    assert [d.tweet_id for d in result.dead_letters] == [t.id for t in _chunk().tweets]


def test_offline_analyzer_still_analyses_each_text_once() -> None:
    cache = LruResultCache(100)
    runner = ChunkAnalyzer(OfflineAnalyzer([]), cache)
    first = runner.run(_chunk())
    assert len(first.analyses) == 3 and len(cache) == 2 and runner.stats.analysed == 2
    again = runner.run(_chunk())
    assert again.analysis.cache_hits == 3
