"""The domain model: tweets, chunks, analyses, duplicates and dead letters.

Plain slotted dataclasses: cheap to create a million of, picklable for Bytewax
snapshots, and free of any engine or I/O concern.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chirpflow.platforms import hashed_key
from chirpflow.runs import current_run_id, new_record_id


class RefKind(StrEnum):
    """How a tweet points at another one."""

    REPLY = "reply"
    QUOTE = "quote"
    RETWEET = "retweet"


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class RiskFlag(StrEnum):
    PII = "pii"
    KEYWORD = "keyword"
    TOXICITY = "toxicity"


class DeadLetterReason(StrEnum):
    """Why an input item could not become an analysed tweet."""

    MALFORMED_JSON = "malformed_json"
    INVALID_UTF8 = "invalid_utf8"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    TOO_LARGE = "too_large"
    DELETED = "deleted"  # a post deleted or removed on its platform
    ANALYZER_FAILED = "analyzer_failed"


@dataclass(slots=True, frozen=True)
class PublicMetrics:
    retweets: int = 0
    replies: int = 0
    likes: int = 0
    quotes: int = 0
    views: int | None = None


@dataclass(slots=True)
class Tweet:
    """One tweet, normalized from any provider.

    ``origin`` names the exact place the item was read from
    (``source:partition:offset``); it is the natural key of an arrival, so a
    replay after recovery recognises the same arrival again.
    """

    id: str
    text: str
    author_id: str
    created_at: datetime
    origin: str
    source: str
    fetched_at: datetime
    author_username: str | None = None
    conversation_id: str | None = None
    lang: str | None = None
    referenced_tweet_id: str | None = None
    referenced_kind: RefKind | None = None
    metrics: PublicMetrics = field(default_factory=PublicMetrics)
    watch: str | None = None
    author_followers: int | None = None
    # how many tweets its chunk key will have in all, when known (an on-demand
    # job's size, carried by its last page): the key's last chunk closes at once
    key_total: int | None = None
    # "x" (the default) or another platform (see chirpflow.platforms); a post of
    # another platform carries its web address in ``link``
    platform: str = "x"
    link: str | None = None
    # ``int(id)``, set by normalization for an X post whose ids it proved
    # canonical (every id of it is then a digit string that fits in 64 bits),
    # so the hot path converts the id once; None when not known (compute it)
    store_id: int | None = field(default=None, compare=False, repr=False)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            """Fields added later, on a Tweet restored from an older recovery snapshot.

            Only called when a slot is unset, so it costs nothing otherwise.
            """
            try:
                return _ADDED_LATER[name]
            except KeyError:
                raise AttributeError(name) from None

    @property
    def handle(self) -> str | None:
        """The author's username (without @) when it is a valid X handle, else None."""
        user = (self.author_username or "").removeprefix("@")
        return user if re.fullmatch(HANDLE_PATTERN, user) else None

    @property
    def url(self) -> str:
        """The post's web address: its platform's own link, else on x.com by handle
        when it is a valid one, else by id alone."""
        if self.link is not None:
            return self.link
        return f"https://x.com/{self.handle or 'i'}/status/{self.id}"


_ADDED_LATER: dict[str, Any] = {"platform": "x", "link": None, "store_id": None}


@dataclass(slots=True)
class Chunk:
    """Up to ``max_size`` tweets of one key, analysed together."""

    key: str
    seq: int
    tweets: list[Tweet]
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def chunk_id(self) -> str:
        """Named by its content: the same tweets always make the same id.

        A chunk re-formed differently after a restart (a restored partial chunk
        flushed early) gets an id of its own and never overwrites another.
        """
        return chunk_id_of(self.key, [t.id for t in self.tweets])


def chunk_id_of(key: str, tweet_ids: Iterable[str]) -> str:
    """``key#`` and a digest of the sorted tweet ids, each followed by a 0x1F byte.

    The digest is over one joined buffer: the same bytes as one update per id.
    """
    ids = sorted(tweet_ids)
    data = ("\x1f".join(ids) + "\x1f").encode() if ids else b""
    return f"{key}#{hashlib.blake2b(data, digest_size=8).hexdigest()}"


@dataclass(slots=True)
class TweetAnalysis:
    tweet_id: str
    sentiment: Sentiment
    sentiment_score: float
    topics: list[str]
    language: str | None
    risk: int
    flags: list[RiskFlag]
    analyzer: str
    analyzer_version: str
    reason: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.flags) or self.risk >= 50


@dataclass(slots=True)
class ChunkAnalysis:
    chunk_id: str
    key: str
    seq: int
    size: int
    summary: str
    analyzer: str
    analyzer_version: str
    model: str | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    opened_at: datetime | None = None
    analyzed_at: datetime | None = None
    requests: int = 0
    cache_hits: int = 0
    call_id: str = field(default_factory=new_record_id)  # this analysis's own spend record
    run_id: str = field(default_factory=current_run_id)  # the process that made the call


@dataclass(slots=True)
class DeadLetter:
    origin: str
    source: str
    reason: DeadLetterReason
    detail: str
    payload: str
    tweet_id: str | None = None
    seen_at: datetime | None = None


@dataclass(slots=True)
class Duplicate:
    """A second (or later) arrival of a tweet id inside the dedup window."""

    origin: str
    tweet_id: str
    source: str
    seen_at: datetime


@dataclass(slots=True)
class Notification:
    """One alert for one channel; ``id`` is deterministic (rule, tweet or chunk, channel).

    The content is structured; each channel renders it (Discord embed, Telegram text).
    """

    id: str
    rule: str
    channel: str
    kind: str  # "tweet" | "digest" | "fold"
    title: str
    body: str
    url: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) lines
    severity: int = 0  # 0-100, for ordering and colour


@dataclass(slots=True)
class ChunkResult:
    """What analysing one chunk produced: per-tweet analyses and failures."""

    chunk: Chunk
    analysis: ChunkAnalysis
    analyses: list[TweetAnalysis]
    dead_letters: list[DeadLetter] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    def unanalysed(self) -> list[Tweet]:
        """Tweets of the chunk stored without an analysis (an analyzer that produces
        none, e.g. noop): neither analysed nor dead-lettered."""
        tweets = self.chunk.tweets
        if len(self.analyses) + len(self.dead_letters) >= len(tweets):
            return []
        ended = {a.tweet_id for a in self.analyses} | {d.tweet_id for d in self.dead_letters}
        return [t for t in tweets if t.id not in ended]


@dataclass(slots=True)
class RawRecord:
    """One item exactly as a source read it, before validation.

    ``payload`` is the wire form (bytes or str of JSON) or an already decoded
    object; normalization turns it into a :class:`Tweet` or a :class:`DeadLetter`.
    """

    origin: str
    source: str
    payload: bytes | str | dict[str, Any]
    fetched_at: datetime
    watch: str | None = None
    key_total: int | None = None  # see Tweet.key_total
    platform: str = "x"  # the platform whose native payload this is


HANDLE_PATTERN = r"[A-Za-z0-9_]{1,15}"  # X's rule for a handle
USERNAME_PATTERN = rf"@?{HANDLE_PATTERN}"  # an X handle, with or without its @
JOB_PREFIX = "job:"  # the watch (and chunk key) of tweets fetched for an on-demand job


def is_job_tweet(tweet: Tweet) -> bool:
    return tweet.watch is not None and tweet.watch.startswith(JOB_PREFIX)


def dedup_key(tweet: Tweet) -> int:
    """The id deduplication counts: the tweet id, or (job, tweet id) for a job's tweet.

    A post of another platform counts by a hash of its platform-aware id.
    """
    watch = tweet.watch
    if watch is None or not watch.startswith(JOB_PREFIX):  # is_job_tweet, inline: per tweet
        if tweet.platform == "x":
            sid = tweet.store_id
            return int(tweet.id) if sid is None else sid
        return hashed_key(tweet.id)
    digest = hashlib.blake2b(f"{tweet.watch}:{tweet.id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def make_origin(stream: str, seq: int) -> str:
    """The natural key of one arrival: the stream (source and partition) and position."""
    return f"{stream}:{seq}"


def split_origin(origin: str) -> tuple[str, int]:
    """``(stream, seq)`` of an origin made by :func:`make_origin`."""
    stream, _, seq = origin.rpartition(":")
    return stream, int(seq)


Outcome = ChunkResult | Duplicate | DeadLetter
