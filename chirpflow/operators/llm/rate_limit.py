"""Keep LLM requests and tokens under the provider's per-minute limits.

Each limit is a sliding 60-second window: a request is sent only when the
requests (or tokens) sent in the last 60 s plus this one fit the limit. That
never exceeds a provider that counts per sliding minute, nor one that
replenishes a token bucket continuously. Provider headers correct it: when
``x-ratelimit-remaining-*`` reaches 0, sending pauses until the matching
``x-ratelimit-reset-*`` duration has passed. :class:`LocalLimiter` serves
one process; ``chirpflow.connectors.redis.rate_limit.RedisLimiter`` shares the same
windows across workers and processes.

Requests are also paced: at most twice the average rate (``rpm / 60`` per
second) over short spans. A whole minute's allowance sent at once arrives
at the provider spread over a second or more (the event loop builds each
request in turn), so its window frees those slots later than ours; paced
sends arrive when they are stamped.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

from chirpflow.rate_limits import WINDOW_S, block_for


class SlidingWindow:
    """Amounts sent in the last ``WINDOW_S`` seconds, against a limit."""

    def __init__(self, limit: float, window_s: float = WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self.events: collections.deque[tuple[float, float]] = collections.deque()
        self.total = 0.0

    def _expire(self, now: float) -> None:
        while self.events and self.events[0][0] <= now - self.window_s:
            self.total -= self.events.popleft()[1]

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` (capped at the limit) fits the window."""
        self._expire(now)
        amount = min(amount, self.limit)
        excess = self.total + amount - self.limit
        if excess <= 0:
            return 0.0
        freed = 0.0
        for stamp, sent in self.events:
            freed += sent
            if freed >= excess:
                return max(0.0, stamp + self.window_s - now)
        return self.window_s

    def take(self, amount: float, now: float) -> None:
        amount = min(amount, self.limit)
        self.events.append((now, amount))
        self.total += amount


class LocalLimiter:
    """In-process limits (no Redis configured); ``None`` means unlimited."""

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        self.requests = SlidingWindow(rpm) if rpm else None
        self.tokens = SlidingWindow(tpm) if tpm else None
        self.blocked_until = 0.0
        self.min_gap = 30.0 / rpm if rpm else 0.0  # half the average interval
        self._last_send = -float("inf")
        self._lock = asyncio.Lock()

    def try_take(self, tokens: int) -> float:
        now = time.monotonic()
        delay = max(0.0, self.blocked_until - now, self._last_send + self.min_gap - now)
        for window, amount in ((self.requests, 1.0), (self.tokens, float(tokens))):
            if window is not None:
                delay = max(delay, window.wait_for(amount, now))
        if delay > 0:
            return delay
        self._last_send = now
        if self.requests is not None:
            self.requests.take(1.0, now)
        if self.tokens is not None:
            self.tokens.take(float(tokens), now)
        return 0.0

    async def acquire(self, tokens: int) -> float:
        waited = 0.0
        async with self._lock:
            while (delay := self.try_take(tokens)) > 0:
                await asyncio.sleep(delay)
                waited += delay
            return waited

    def observe(self, headers: Any, age_s: float = 0.0) -> None:
        pause = block_for(headers) - age_s
        if pause > 0:
            self.blocked_until = max(self.blocked_until, time.monotonic() + pause)
