from __future__ import annotations

import asyncio
import time

import pytest

from chirpflow.connectors.redis.rate_limit import RedisLimiter
from chirpflow.operators.llm.rate_limit import LocalLimiter, SlidingWindow
from chirpflow.rate_limits import WINDOW_S, block_for, parse_duration, parse_remaining


def test_sliding_window_says_when_room_frees() -> None:
    w = SlidingWindow(limit=3)
    for t in (0.0, 10.0, 20.0):
        assert w.wait_for(1, t) == 0.0
        w.take(1, t)
    # the request at t=0 leaves the window at WINDOW_S (60 s plus a small margin)
    assert w.wait_for(1, 30.0) == WINDOW_S - 30.0
    assert w.wait_for(2, 30.0) == WINDOW_S - 20.0  # two must leave: t=0 and t=10
    assert w.wait_for(1, WINDOW_S) == 0.0  # expired
    # bigger than the limit: capped, waits for an empty window
    assert w.wait_for(50, WINDOW_S) == 20.0


def test_no_sixty_second_window_ever_exceeds_the_limit() -> None:
    w = SlidingWindow(limit=10)
    now, sent = 0.0, []
    for _ in range(55):
        now += w.wait_for(1, now)
        w.take(1, now)
        sent.append(now)
    assert all(sum(1 for s in sent if t - 60 < s <= t) <= 10 for t in sent)


def test_local_limiter_waits_and_follows_headers() -> None:
    async def scenario() -> list[float]:
        limiter = LocalLimiter(rpm=600, tpm=10_000)
        waits = [await limiter.acquire(100) for _ in range(3)]
        limiter.observe(
            {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "80ms"}
        )
        waits.append(await limiter.acquire(1))
        return waits

    waits = asyncio.run(scenario())
    assert waits[0] == 0.0
    # paced at twice the average rate: 600 rpm -> one request per 50 ms at most
    assert all(0.0 < w <= 0.06 for w in waits[1:3])
    assert waits[3] >= 0.07  # paused until the provider's reset (80 ms)


def test_unlimited_never_waits() -> None:
    assert asyncio.run(LocalLimiter(None, None).acquire(10**9)) == 0.0


def test_header_parsing() -> None:
    assert parse_remaining({"x-ratelimit-remaining-requests": "7"}) == (7.0, None)
    assert parse_remaining(None) == (None, None)
    assert parse_duration("6m0s") == 360.0
    assert parse_duration("1.5s") == 1.5
    assert parse_duration("12ms") == 0.012
    assert parse_duration("2") == 2.0 and parse_duration("soon") is None
    assert block_for({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "3s"}) == 3.0
    assert block_for({"x-ratelimit-remaining-tokens": "5"}) == 0.0


def test_redis_windows_are_shared_between_processes(redis_url: str) -> None:
    a = RedisLimiter(redis_url, rpm=3, tpm=100, name="m")
    b = RedisLimiter(redis_url, rpm=3, tpm=100, name="m")
    t = time.time()
    # paced: at most twice the average rate, 3 rpm -> one request per 10 s
    assert a.try_take(10, t) == 0.0
    assert b.try_take(10, t + 1) == pytest.approx(9.0)
    assert [b.try_take(10, t + 10), a.try_take(10, t + 20)] == [0.0] * 2
    # the window is full; the first request leaves it at t + WINDOW_S
    assert b.try_take(10, t + 30) == pytest.approx(WINDOW_S - 30)
    assert a.try_take(10, t + WINDOW_S + 0.5) == 0.0
    assert a.try_take(90, t + WINDOW_S + 11) > 0  # tokens: 20 in the window + 90 > 100
    other = RedisLimiter(redis_url, rpm=3, tpm=None, name="other-model")
    assert asyncio.run(other.acquire(1)) == 0.0
    other.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"})
    assert other.try_take(1) > 25


def test_a_reset_announced_by_a_slow_answer_is_counted_from_the_send() -> None:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"}
    fresh, stale = LocalLimiter(rpm=None, tpm=None), LocalLimiter(rpm=None, tpm=None)
    fresh.observe(headers)
    stale.observe(headers, age_s=15.0)  # the answer took 15 s: the reset is 15 s closer
    assert fresh.blocked_until - stale.blocked_until == pytest.approx(15.0, abs=0.05)
    gone = LocalLimiter(rpm=None, tpm=None)
    gone.observe(headers, age_s=45.0)  # already past: no pause at all
    assert gone.blocked_until == 0.0
