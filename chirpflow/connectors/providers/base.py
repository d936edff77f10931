"""The provider interface every tweet API adapter implements.

A provider fetches ONE page of a watched item (an account's timeline, the
mentions of a handle, a search query), newest first, and turns each tweet
into the chirpflow JSON form (see ``chirpflow.operators.normalize``) without
validating it: a payload it cannot map is passed on as it came, so
normalization dead-letters it with the real reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class WatchKind(StrEnum):
    TIMELINE = "timeline"
    MENTIONS = "mentions"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class Watch:
    kind: WatchKind
    target: str  # a username (timeline, mentions) or a query (search)

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.target}"


@dataclass(slots=True)
class Page:
    """One response: tweets newest first, the cursor of the next (older) page."""

    tweets: list[dict[str, Any]]
    next_cursor: str | None
    cost_usd: float = 0.0
    errors: list[str] = field(default_factory=list)  # partial errors of a 200 answer
    pause_until: datetime | None = None  # the provider said: no quota left before this
    remaining: int | None = None  # requests left in the current rate-limit window
    forward: bool = False  # paged toward newer posts: stopping early skips nothing


class ErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # wait until ``retry_at``, then retry
    TRANSIENT = "transient"  # 5xx, timeouts, malformed answers: back off and retry
    FATAL = "fatal"  # bad key, out of credits, forbidden: stop this source


class ProviderError(Exception):
    def __init__(self, kind: ErrorKind, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_at = retry_at


class Provider(Protocol):
    """``name`` labels metrics and costs; ``fetch`` raises :class:`ProviderError`."""

    name: str

    def fetch(self, watch: Watch, since_id: str | None, cursor: str | None) -> Page: ...

    def close(self) -> None: ...


def id_key(tweet_id: Any) -> int:
    """Tweet ids compare as numbers (snowflakes grow with time)."""
    try:
        return int(tweet_id)
    except (TypeError, ValueError):
        return -1


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per request and per tweet returned; ``min_request``: the floor of a request."""

    per_request: float = 0.0
    per_tweet: float = 0.0
    min_request: float = 0.0

    def cost(self, tweets: int) -> float:
        return max(self.per_request + self.per_tweet * tweets, self.min_request)
