"""Analysis results in Redis with a TTL, shared by every worker, process and replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import timedelta

import orjson
import redis

from chirpflow.model import RiskFlag, Sentiment, TweetAnalysis


def _encode(a: TweetAnalysis) -> bytes:
    return orjson.dumps(asdict(a))


def _decode(raw: bytes) -> TweetAnalysis:
    d = orjson.loads(raw)
    d["sentiment"] = Sentiment(d["sentiment"])
    d["flags"] = [RiskFlag(f) for f in d["flags"]]
    return TweetAnalysis(**d)


class RedisResultCache:
    """``MGET`` for lookups, one pipeline of ``SET EX`` for stores."""

    def __init__(
        self, url: str, ttl: timedelta = timedelta(days=30), prefix: str = "chirpflow:result:"
    ) -> None:
        self._client = redis.Redis.from_url(url)
        self.ttl = max(1, int(ttl.total_seconds()))
        self.prefix = prefix
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, TweetAnalysis]:
        wanted = list(keys)
        if not wanted:
            return {}
        values = self._client.mget([self.prefix + k for k in wanted])
        found: dict[str, TweetAnalysis] = {}
        for key, raw in zip(wanted, values, strict=True):
            if raw is None:
                self.misses += 1
                continue
            try:
                found[key] = _decode(raw)
                self.hits += 1
            except (ValueError, TypeError, KeyError):
                self.misses += 1  # an entry from an incompatible version: analyse again
        return found

    def put_many(self, items: dict[str, TweetAnalysis]) -> None:
        if not items:
            return
        pipe = self._client.pipeline(transaction=False)
        for key, value in items.items():
            pipe.set(self.prefix + key, _encode(value), ex=self.ttl)
        pipe.execute()

    def close(self) -> None:
        self._client.close()
