"""One polling reader per watched item of a source, sharing the source's request budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chirpflow.connectors.providers.base import Provider, Watch
from chirpflow.connectors.redis.rate_limit import RedisLimiter
from chirpflow.connectors.sources.polling_reader import PollingReader
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.operators.llm.rate_limit import LocalLimiter
from chirpflow.rate_limits import RateLimiter
from chirpflow.settings import SourceSettings

if TYPE_CHECKING:
    from chirpflow.flows.build import SourceHooks


def source_limiter(src: SourceSettings, hooks: SourceHooks, partitions: int) -> RateLimiter | None:
    """``requests_per_minute``: one budget across processes (Redis), else split in-process."""
    rpm = src.requests_per_minute
    if rpm and hooks.redis_url:
        name = f"source:{src.type}:{src.name}"
        return RedisLimiter(hooks.redis_url, rpm=rpm, tpm=None, name=name)
    if rpm:  # in-process: the budget split between the watched items
        return LocalLimiter(rpm / partitions, None)
    return None


def polled_readers(
    src: SourceSettings,
    watches: list[Watch],
    provider: Callable[[], Provider],
    hooks: SourceHooks,
    **native: Any,
) -> list[RecordReader]:
    """A :class:`PollingReader` per watch (``native``: ``platform``, ``order_key``)."""
    return [
        PollingReader(
            src.name,
            provider(),
            watch,
            src.interval,
            limiter=source_limiter(src, hooks, len(watches)),
            max_pages=src.max_pages,
            backfill_pages=src.backfill_pages,
            on_usage=hooks.on_usage,
            on_fatal=hooks.on_fatal,
            **native,
        )
        for watch in watches
    ]
