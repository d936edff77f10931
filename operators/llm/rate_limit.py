"""Token buckets for requests/min and tokens/min, kept under the provider's limits.

``acquire`` waits until one request and the estimated tokens fit. Buckets
refill continuously (limit/60 per second) and are corrected downwards by the
provider's ``x-ratelimit-remaining-*`` headers. :class:`LocalBuckets` serves
one process; ``connectors.redis.rate_limit.RedisBuckets`` shares the same
buckets across workers and processes with one atomic script.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from chirpflow.rate_limits import parse_remaining


@dataclass
class Bucket:
    capacity: float
    level: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.level < 0:
            self.level = self.capacity

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.capacity / 60.0)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` (capped at capacity) is available."""
        need = min(amount, self.capacity) - self.level
        return 0.0 if need <= 0 else need * 60.0 / self.capacity


class LocalBuckets:
    """In-process buckets (no Redis configured). ``None`` limits mean unlimited."""

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        self.requests = Bucket(rpm) if rpm else None
        self.tokens = Bucket(tpm) if tpm else None
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> float:
        waited = 0.0
        async with self._lock:
            while True:
                now = time.monotonic()
                delay = 0.0
                for bucket, amount in ((self.requests, 1.0), (self.tokens, float(tokens))):
                    if bucket is not None:
                        bucket.refill(now)
                        delay = max(delay, bucket.wait_for(amount))
                if delay <= 0:
                    if self.requests is not None:
                        self.requests.level -= 1
                    if self.tokens is not None:
                        self.tokens.level -= min(tokens, self.tokens.capacity)
                    return waited
                await asyncio.sleep(delay)
                waited += delay

    def observe(self, headers: Any) -> None:
        req, tok = parse_remaining(headers)
        now = time.monotonic()
        for bucket, remaining in ((self.requests, req), (self.tokens, tok)):
            if bucket is not None and remaining is not None:
                bucket.refill(now)
                bucket.level = min(bucket.level, remaining)
