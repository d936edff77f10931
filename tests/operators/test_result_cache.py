from __future__ import annotations

from chirpflow.model import Sentiment, TweetAnalysis
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
