from __future__ import annotations

import gc
import tracemalloc

from chirpflow.model import Sentiment, TweetAnalysis
from chirpflow.operators.cached_analysis import ENTRY_BYTES
from chirpflow.operators.result_cache import LruResultCache, normalize_text, text_key


def _a(tid: str) -> TweetAnalysis:
    return TweetAnalysis(tid, Sentiment.NEUTRAL, 0.0, [], None, 0, [], "t", "t-1")


def test_plain_retweet_shares_the_key_of_its_text() -> None:
    assert normalize_text("RT @brand_x: great  launch\n today") == "great launch today"
    assert text_key("RT @brand_x: great launch", "v1") == text_key("great launch", "v1")
    assert text_key("great launch", "v1") != text_key("great launch", "v2")
    assert text_key("Great launch", "v1") != text_key("great launch", "v1")


def test_lru_evicts_least_recently_used() -> None:
    cache = LruResultCache(max_items=2)
    cache.put_many({"a": _a("1"), "b": _a("2")})
    assert set(cache.get_many(["a"])) == {"a"}
    cache.put_many({"c": _a("3")})
    assert set(cache.get_many(["a", "b", "c"])) == {"a", "c"}
    assert (cache.hits, cache.misses) == (3, 1)


def test_zero_size_cache_stores_nothing() -> None:
    cache = LruResultCache(max_items=0)
    cache.put_many({"a": _a("1")})
    assert cache.get_many(["a"]) == {}


def _offline_like(i: int) -> TweetAnalysis:
    """A result as the offline analyzer makes it: its tweet's id, fresh topic strings."""
    tags = ["#AI".lower(), "#Launch".lower()][: 1 + i % 2]
    return TweetAnalysis(
        str(1_850_000_000_000_000_000 + i * 1000),
        Sentiment.POSITIVE,
        round(i / 7919, 4),
        tags,
        "en",
        0,
        [],
        "offline",
        "offline-1",
    )


def test_lru_entry_costs_at_most_its_documented_bytes() -> None:
    n = 20_000
    cache = LruResultCache(max_items=n)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for lo in range(0, 2 * n, 100):  # twice the size: the cache stays at its bound
            cache.put_many(
                {text_key(f"text {i}", "v1"): _offline_like(i) for i in range(lo, lo + 100)}
            )
        gc.collect()
        per_entry = (tracemalloc.get_traced_memory()[0] - base) / n
    finally:
        tracemalloc.stop()
    assert len(cache) == n
    assert per_entry <= ENTRY_BYTES, f"{per_entry:.0f} bytes per cached result"


def test_lru_keeps_no_tweet_id_and_hands_out_fresh_results() -> None:
    cache = LruResultCache(max_items=10)
    stored = _offline_like(1)
    cache.put_many({"k": stored})
    first, second = cache.get_many(["k"])["k"], cache.get_many(["k"])["k"]
    assert first.tweet_id == "" and stored.tweet_id not in gc.get_referents(*cache._items.values())
    assert (first.sentiment, first.sentiment_score, first.topics, first.reason) == (
        stored.sentiment,
        stored.sentiment_score,
        stored.topics,
        stored.reason,
    )
    first.topics.append("changed")
    assert second.topics == stored.topics
