"""Reply drafts in Redis with a TTL: the same mention is drafted once across processes."""

from __future__ import annotations

from datetime import timedelta

import redis


class RedisDraftCache:
    """Same interface as :class:`chirpflow.operators.actions.draft_cache.DraftCache`."""

    def __init__(
        self, url: str, ttl: timedelta = timedelta(days=7), prefix: str = "chirpflow:draft:"
    ) -> None:
        self._client = redis.Redis.from_url(url)
        self.ttl = max(1, int(ttl.total_seconds()))
        self.prefix = prefix
        self.hits = 0

    def get(self, key: str) -> str | None:
        raw = self._client.get(self.prefix + key)
        if raw is None:
            return None
        self.hits += 1
        return bytes(raw).decode()

    def put(self, key: str, text: str) -> None:
        self._client.set(self.prefix + key, text.encode(), ex=self.ttl)

    def close(self) -> None:
        self._client.close()
