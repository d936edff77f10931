"""The rate-limiter interface the LLM analyzer uses, and provider header parsing.

Implementations: ``operators.llm.rate_limit.LocalBuckets`` (one process) and
``connectors.redis.rate_limit.RedisBuckets`` (shared through Redis).
"""

from __future__ import annotations

from typing import Any, Protocol


class RateLimiter(Protocol):
    async def acquire(self, tokens: int) -> float:
        """Wait for room for one request of ``tokens``; returns the seconds waited."""
        ...

    def observe(self, headers: Any) -> None:
        """Correct the buckets from a response's rate-limit headers."""
        ...


def parse_remaining(headers: Any) -> tuple[float | None, float | None]:
    """``x-ratelimit-remaining-requests`` / ``-tokens`` as numbers, when present."""
    out: list[float | None] = []
    for name in ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens"):
        value = headers.get(name) if headers is not None else None
        try:
            out.append(float(value) if value is not None else None)
        except ValueError:
            out.append(None)
    return out[0], out[1]
