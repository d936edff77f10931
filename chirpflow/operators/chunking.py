"""Group tweets of one key into chunks of up to ``max_size``.

A partial chunk is due ``max_wait`` after its FIRST tweet arrived, however many
follow; Bytewax's ``collect`` restarts its timeout on every item and so cannot
give that bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter

from chirpflow.model import Chunk, Tweet

DEFAULT_MAX_SIZE = 100
DEFAULT_MAX_WAIT = timedelta(seconds=30)
_KEY_TOTAL = attrgetter("key_total")


@dataclass(slots=True)
class ChunkBuffer:
    """The open chunk of one key and the sequence number of the next one."""

    key: str
    max_size: int = DEFAULT_MAX_SIZE
    max_wait: timedelta = DEFAULT_MAX_WAIT
    next_seq: int = 0
    tweets: list[Tweet] = field(default_factory=list)
    opened_at: datetime | None = None
    seen: int = 0  # tweets added to this key, all chunks
    expected: int | None = None  # tweets this key will have in all, once a tweet said so

    def __post_init__(self) -> None:
        if self.max_size < 1:
            raise ValueError("max_size must be at least 1")

    def add(self, tweet: Tweet, now: datetime) -> Chunk | None:
        """Add a tweet; the chunk when this one filled it, or completed the key."""
        if not self.tweets:
            self.opened_at = now
        self.tweets.append(tweet)
        self.seen += 1
        if tweet.key_total is not None:
            self.expected = tweet.key_total
        complete = self.expected is not None and self.seen >= self.expected
        if len(self.tweets) >= self.max_size or complete:
            return self.flush(now)
        return None

    def add_many(self, tweets: list[Tweet], now: datetime) -> list[Chunk]:
        """``add`` of each tweet in order: the chunks they filled or completed.

        Tweets that say nothing of their key's size, added to a buffer under
        its size, go in by slices of the room left rather than one by one.
        """
        if (
            self.expected is not None
            or len(self.tweets) >= self.max_size
            or list(map(_KEY_TOTAL, tweets)).count(None) != len(tweets)  # in C
        ):
            return [c for t in tweets if (c := self.add(t, now)) is not None]
        out: list[Chunk] = []
        start, end = 0, len(tweets)
        while start < end:
            if not self.tweets:
                self.opened_at = now
            part = tweets[start : start + self.max_size - len(self.tweets)]
            self.tweets.extend(part)
            self.seen += len(part)
            start += len(part)
            if len(self.tweets) >= self.max_size:
                chunk = self.flush(now)
                assert chunk is not None  # it holds max_size tweets
                out.append(chunk)
        return out

    @property
    def due_at(self) -> datetime | None:
        """When the open chunk must be emitted at the latest (None when empty)."""
        if self.opened_at is None or not self.tweets:
            return None
        return self.opened_at + self.max_wait

    def flush_if_due(self, now: datetime) -> Chunk | None:
        due = self.due_at
        if due is not None and now >= due:
            return self.flush(now)
        return None

    def flush(self, now: datetime) -> Chunk | None:
        """Close and return the open chunk, at most ``max_size`` tweets (None when empty).

        A buffer restored with more tweets than ``max_size`` (the size was
        lowered between runs) keeps the rest open and already due.
        """
        if not self.tweets or self.opened_at is None:
            return None
        taken, rest = self.tweets, []
        if len(taken) > self.max_size:
            taken, rest = taken[: self.max_size], taken[self.max_size :]
        chunk = Chunk(
            key=self.key,
            seq=self.next_seq,
            tweets=taken,
            opened_at=self.opened_at,
            closed_at=now,
        )
        self.next_seq += 1
        self.tweets = rest
        if not rest:
            self.opened_at = None
        return chunk
