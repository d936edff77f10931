from __future__ import annotations

import asyncio

from chirpflow.rate_limits import parse_remaining
from connectors.redis.rate_limit import RedisBuckets
from operators.llm.rate_limit import Bucket, LocalBuckets


def test_bucket_refills_continuously_and_says_how_long_to_wait() -> None:
    b = Bucket(capacity=60, level=0, stamp=100.0)
    b.refill(101.0)
    assert b.level == 1.0
    assert b.wait_for(1) == 0.0
    assert b.wait_for(3) == 2.0  # two more units at one per second
    assert b.wait_for(10_000) == 59.0  # a request bigger than the bucket waits for a full one
    b.refill(1000.0)
    assert b.level == 60  # never above capacity


def test_local_buckets_take_and_follow_provider_headers() -> None:
    async def scenario() -> list[float]:
        buckets = LocalBuckets(rpm=600, tpm=10_000)
        waits = [await buckets.acquire(100) for _ in range(5)]
        assert buckets.tokens is not None and buckets.tokens.level <= 9_500 + 1
        buckets.observe(
            {"x-ratelimit-remaining-tokens": "50", "x-ratelimit-remaining-requests": "x"}
        )
        assert buckets.tokens.level <= 50 + 1
        waits.append(await buckets.acquire(60))  # needs ~10 more tokens: a short wait
        return waits

    waits = asyncio.run(scenario())
    assert waits[:5] == [0.0] * 5
    assert waits[5] > 0


def test_unlimited_buckets_never_wait() -> None:
    assert asyncio.run(LocalBuckets(None, None).acquire(10**9)) == 0.0


def test_remaining_headers_are_parsed() -> None:
    assert parse_remaining({"x-ratelimit-remaining-requests": "7"}) == (7.0, None)
    assert parse_remaining(None) == (None, None)


def test_redis_buckets_are_shared_between_processes(redis_url: str) -> None:
    a = RedisBuckets(redis_url, rpm=3, tpm=None, name="m")
    b = RedisBuckets(redis_url, rpm=3, tpm=None, name="m")
    keys = [k for k, _ in a.limits]

    def take(buckets: RedisBuckets) -> float:
        import time

        return float(buckets._take(keys=keys, args=[time.time(), 3, 1]))

    assert [take(a), take(b), take(a)] == [0.0, 0.0, 0.0]
    assert take(b) > 0  # the fourth request of the minute waits, whoever asks
    other = RedisBuckets(redis_url, rpm=3, tpm=None, name="other-model")
    assert asyncio.run(other.acquire(1)) == 0.0
    a.observe({"x-ratelimit-remaining-requests": "0"})
    assert take(a) > 0
