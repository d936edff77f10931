"""Requests per API key per minute, shared by every API replica through Redis.

One sorted set per key (member = unique id, score = time): a Lua script drops
what is older than a minute, then counts and takes atomically, or answers how
long until the oldest request leaves the window. If Redis cannot be reached
the replica falls back to its own in-process budget (logged), never to a 500.
"""

from __future__ import annotations

import logging
import time
import uuid

import redis

from chirpflow.errors import ConfigError
from chirpflow.request_budget import WINDOW_S, LocalBudget

log = logging.getLogger(__name__)

_TAKE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tostring(math.max(0.001, tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return '0'
"""


class RedisBudget:
    def __init__(self, url: str, per_minute: int, prefix: str = "chirpflow:api:budget") -> None:
        self.per_minute = per_minute
        try:
            self._client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        except ValueError as err:
            raise ConfigError(f"REDIS_URL: {err}") from None
        self._take = self._client.register_script(_TAKE)
        self._prefix = prefix
        self._fallback = LocalBudget(per_minute)
        self._degraded = False

    def check(self, client: int) -> float:
        try:
            wait = float(
                self._take(
                    keys=[f"{self._prefix}:{client}"],
                    args=[time.time(), WINDOW_S, self.per_minute, uuid.uuid4().hex],
                )
            )
        except redis.RedisError as err:
            if not self._degraded:
                log.warning("API request budget: Redis unreachable (%s); counting locally", err)
                self._degraded = True
            return self._fallback.check(client)
        self._degraded = False
        return wait

    def close(self) -> None:
        self._client.close()
