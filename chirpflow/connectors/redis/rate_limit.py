"""The LLM rate limits in Redis, shared by every worker and process.

Each limit is a sliding 60-second window kept as a sorted set (member =
unique id and amount, score = time) plus its running total; one Lua script
expires, checks and takes atomically, or answers how long to wait. A pause
learnt from provider headers is shared too, and so is the pacing: requests
go out at most at twice the average rate (see ``chirpflow.operators.llm.rate_limit``
for why a whole minute's allowance must not leave in one burst).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import redis

from chirpflow.rate_limits import WINDOW_S, block_for

_TAKE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait = math.max(0, blocked - now)
local n = (#KEYS - 2) / 2
local pace = KEYS[#KEYS]
local gap = tonumber(ARGV[2 + 2 * n + 2])
if gap > 0 then
    local last = tonumber(redis.call('GET', pace) or '0')
    wait = math.max(wait, last + gap - now)
end
for w = 1, n do
    local set, sum = KEYS[2 * w], KEYS[2 * w + 1]
    local limit = tonumber(ARGV[2 + 2 * w - 1])
    local need = math.min(tonumber(ARGV[2 + 2 * w]), limit)
    local old = redis.call('ZRANGEBYSCORE', set, '-inf', now - window)
    local gone = 0
    for _, m in ipairs(old) do gone = gone + tonumber(string.match(m, ':(.*)$')) end
    if #old > 0 then
        redis.call('ZREMRANGEBYSCORE', set, '-inf', now - window)
        redis.call('INCRBYFLOAT', sum, -gone)
    end
    local total = tonumber(redis.call('GET', sum) or '0')
    local excess = total + need - limit
    if excess > 0 then
        local freed = 0
        local rows = redis.call('ZRANGE', set, 0, -1, 'WITHSCORES')
        for i = 1, #rows, 2 do
            freed = freed + tonumber(string.match(rows[i], ':(.*)$'))
            if freed >= excess then
                wait = math.max(wait, tonumber(rows[i + 1]) + window - now)
                break
            end
        end
    end
end
if wait > 0 then return tostring(wait) end
for w = 1, n do
    local set, sum = KEYS[2 * w], KEYS[2 * w + 1]
    local limit = tonumber(ARGV[2 + 2 * w - 1])
    local need = math.min(tonumber(ARGV[2 + 2 * w]), limit)
    redis.call('ZADD', set, now, ARGV[2 + 2 * n + 1] .. ':' .. need)
    redis.call('INCRBYFLOAT', sum, need)
    redis.call('EXPIRE', set, window * 2)
    redis.call('EXPIRE', sum, window * 2)
end
if gap > 0 then redis.call('SET', pace, now, 'EX', math.ceil(window)) end
return '0'
"""


class RedisLimiter:
    """Shared request and token windows for one provider model."""

    def __init__(
        self, url: str, rpm: float | None, tpm: float | None, name: str = "default"
    ) -> None:
        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(_TAKE)
        base = f"chirpflow:rate:{name}"
        self._blocked = f"{base}:blocked"
        self._pace = f"{base}:last_send"
        self.min_gap = 30.0 / rpm if rpm else 0.0
        self.windows: list[tuple[str, float]] = []
        if rpm:
            self.windows.append((f"{base}:requests", float(rpm)))
        if tpm:
            self.windows.append((f"{base}:tokens", float(tpm)))

    def try_take(self, tokens: int, now: float | None = None) -> float:
        """Take room for one request now, or return the seconds to wait (nothing taken)."""
        keys = [self._blocked]
        args: list[Any] = [time.time() if now is None else now, WINDOW_S]
        for key, limit in self.windows:
            keys += [key, f"{key}:sum"]
            args += [limit, 1 if key.endswith(":requests") else tokens]
        keys.append(self._pace)
        args += [uuid.uuid4().hex, self.min_gap]
        return float(self._take(keys=keys, args=args))

    async def acquire(self, tokens: int) -> float:
        waited = 0.0
        while True:
            delay = await asyncio.to_thread(self.try_take, tokens)
            if delay <= 0:
                return waited
            await asyncio.sleep(delay)
            waited += delay

    def observe(self, headers: Any, age_s: float = 0.0) -> None:
        pause = block_for(headers) - age_s
        if pause > 0:
            until = time.time() + pause
            current = float(self._client.get(self._blocked) or 0)
            if until > current:
                self._client.set(self._blocked, until, ex=int(pause) + 5)
