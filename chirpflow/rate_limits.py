"""The rate-limiter interface the LLM analyzer uses, and provider header parsing.

Implementations: ``chirpflow.operators.llm.rate_limit.LocalLimiter`` (one process) and
``chirpflow.connectors.redis.rate_limit.RedisLimiter`` (shared through Redis).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

# Per-minute limits, counted over 60.5 s: our clock starts a request a moment
# before the provider sees it, so a window exactly 60 s long can free a slot
# a few milliseconds before the provider does.
WINDOW_S = 60.5
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class RateLimiter(Protocol):
    async def acquire(self, tokens: int) -> float:
        """Wait for room for one request of ``tokens``; returns the seconds waited."""
        ...

    def try_take(self, tokens: int) -> float:
        """Take room now (returns 0), or say how many seconds to wait (takes nothing)."""
        ...

    def observe(self, headers: Any, age_s: float = 0.0) -> None:
        """Correct the buckets from a response's rate-limit headers.

        ``age_s``: seconds since the request was sent. The provider wrote the
        headers when it took the request, so a reset it announced is that
        much closer by the time a slow answer arrives.
        """
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


def parse_duration(text: str | None) -> float | None:
    """OpenAI-style reset durations: ``"6m0s"``, ``"1.5s"``, ``"12ms"`` -> seconds."""
    if not text:
        return None
    parts = _DURATION.findall(text.strip())
    if not parts:
        try:
            return float(text)
        except ValueError:
            return None
    return sum(float(n) * _SCALE[unit] for n, unit in parts)


def block_for(headers: Any) -> float:
    """Seconds to pause because a limit is used up (remaining 0 until its reset)."""
    if headers is None:
        return 0.0
    req, tok = parse_remaining(headers)
    pause = 0.0
    for remaining, name in ((req, "requests"), (tok, "tokens")):
        if remaining is not None and remaining <= 0:
            pause = max(pause, parse_duration(headers.get(f"x-ratelimit-reset-{name}")) or 1.0)
    return pause
