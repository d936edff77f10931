"""Dedup by tweet id in Redis, shared by every worker and process.

Each id is stored as ``SET key origin NX EX window``; the value is the origin
(stream and position) of the first arrival. Replaying that same arrival after
a crash finds its own origin and is NOT called a duplicate, so a recovery
replay cannot turn a tweet that was never stored into a "duplicate". One
round trip per batch (a Lua script).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import redis

from chirpflow.model import Duplicate, Tweet

_SCRIPT = """
local ttl = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
    local origin = ARGV[i + 1]
    if redis.call('SET', key, origin, 'NX', 'EX', ttl) then
        out[i] = 1
    elseif redis.call('GET', key) == origin then
        out[i] = 1
    else
        out[i] = 0
    end
end
return out
"""


class RedisDedup:
    """First arrivals pass, later arrivals inside the window become :class:`Duplicate`."""

    def __init__(
        self,
        url: str,
        window: timedelta = timedelta(days=7),
        prefix: str = "chirpflow:seen:",
    ) -> None:
        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(_SCRIPT)
        self.ttl = max(1, int(window.total_seconds()))
        self.prefix = prefix

    def check(self, tweets: Sequence[Tweet]) -> list[Tweet | Duplicate]:
        if not tweets:
            return []
        keys = [f"{self.prefix}{t.id}" for t in tweets]
        args: list[str | int] = [self.ttl, *(t.origin for t in tweets)]
        flags = self._script(keys=keys, args=args)
        return [
            t if first else Duplicate(t.origin, t.id, t.source, t.fetched_at)
            for t, first in zip(tweets, flags, strict=True)
        ]

    def close(self) -> None:
        self._client.close()
