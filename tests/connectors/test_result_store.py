"""Analysis results by text key in PostgreSQL (the result cache without Redis)."""

from __future__ import annotations

import pytest

from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.result_store import PostgresResultCache
from chirpflow.model import RiskFlag, Sentiment, TweetAnalysis
from chirpflow.operators.result_cache import LruResultCache, TieredResultCache


def _a(tid: str) -> TweetAnalysis:
    return TweetAnalysis(
        tid, Sentiment.NEGATIVE, -0.5, ["ai"], "en", 70, [RiskFlag.PII], "llm", "llm-1", "why"
    )


def test_results_survive_a_new_cache_and_are_never_overwritten(pg_url: str) -> None:
    migrate(pg_url)
    first = PostgresResultCache(pg_url)
    first.put_many({"k1": _a("1"), "k2": _a("2")})
    first.put_many({"k1": _a("9")})  # a second store of a key keeps the first
    again = PostgresResultCache(pg_url)
    found = again.get_many(["k1", "k2", "k3"])
    assert found == {"k1": _a("1"), "k2": _a("2")}
    assert (again.hits, again.misses) == (2, 1)
    first.close()
    again.close()


def test_an_unreachable_store_is_a_miss_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    cache = PostgresResultCache("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert cache.get_many(["k1"]) == {}
    cache.put_many({"k1": _a("1")})
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and "look-up failed" in warnings[0]
    assert all("\n" not in w and "Traceback" not in w for w in warnings)


def test_tiered_cache_fills_the_first_from_the_second() -> None:
    fast, slow = LruResultCache(10), LruResultCache(10)
    slow.put_many({"k1": _a("1")})
    tiered = TieredResultCache(fast, slow)
    assert set(tiered.get_many(["k1", "k2"])) == {"k1"}
    assert set(fast.get_many(["k1"])) == {"k1"}
    tiered.put_many({"k2": _a("2")})
    assert set(slow.get_many(["k2"])) == {"k2"} and set(fast.get_many(["k2"])) == {"k2"}
