"""Request and token buckets in Redis, shared by every worker and process.

One Lua script refills and takes atomically, or answers how long to wait.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis

from chirpflow.rate_limits import parse_remaining

_TAKE = """
local now = tonumber(ARGV[1])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
    local cap = tonumber(ARGV[2 * i])
    local need = math.min(tonumber(ARGV[2 * i + 1]), cap)
    local state = redis.call('HMGET', key, 'level', 'stamp')
    local level = tonumber(state[1]) or cap
    local stamp = tonumber(state[2]) or now
    level = math.min(cap, level + (now - stamp) * cap / 60)
    levels[i] = {level, need, cap}
    if level < need then
        wait = math.max(wait, (need - level) * 60 / cap)
    end
end
for i, key in ipairs(KEYS) do
    local level = levels[i][1]
    if wait == 0 then level = level - levels[i][2] end
    redis.call('HSET', key, 'level', level, 'stamp', now)
    redis.call('EXPIRE', key, 600)
end
return tostring(wait)
"""

_CLAMP = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
    local remaining = tonumber(ARGV[i + 1])
    local level = tonumber(redis.call('HGET', key, 'level'))
    if remaining and level and remaining < level then
        redis.call('HSET', key, 'level', remaining, 'stamp', now)
    end
end
return 1
"""


class RedisBuckets:
    """Shared request/token buckets for one provider and model."""

    def __init__(
        self, url: str, rpm: float | None, tpm: float | None, name: str = "default"
    ) -> None:
        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(_TAKE)
        self._clamp = self._client.register_script(_CLAMP)
        self.limits: list[tuple[str, float]] = []
        if rpm:
            self.limits.append((f"chirpflow:rate:{name}:requests", float(rpm)))
        if tpm:
            self.limits.append((f"chirpflow:rate:{name}:tokens", float(tpm)))

    async def acquire(self, tokens: int) -> float:
        if not self.limits:
            return 0.0
        waited = 0.0
        while True:
            args: list[Any] = [time.time()]
            for key, cap in self.limits:
                args += [cap, 1 if key.endswith(":requests") else tokens]
            keys = [key for key, _ in self.limits]
            delay = float(await asyncio.to_thread(self._take, keys=keys, args=args))
            if delay <= 0:
                return waited
            await asyncio.sleep(delay)
            waited += delay

    def observe(self, headers: Any) -> None:
        req, tok = parse_remaining(headers)
        keys, args = [], [time.time()]
        for key, _ in self.limits:
            value = req if key.endswith(":requests") else tok
            if value is not None:
                keys.append(key)
                args.append(value)
        if keys:
            self._clamp(keys=keys, args=args)
