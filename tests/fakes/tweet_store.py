"""The tweets the fake providers serve: one store, three wire formats."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_BASE_ID = 1_900_000_000_000_000_000


@dataclass
class FakeTweet:
    id: int
    text: str
    author: str  # username
    author_id: int
    created_at: datetime
    followers: int = 100
    lang: str = "en"


@dataclass
class TweetStore:
    users: dict[str, int] = field(default_factory=dict)
    tweets: list[FakeTweet] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(_BASE_ID, 7919))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self, name: str) -> int:
        return self.users.setdefault(name, 4_000_000 + len(self.users))

    def post(self, author: str, text: str, n: int = 1) -> list[FakeTweet]:
        """``n`` new tweets by ``author``, ids growing with time (like snowflakes)."""
        out = []
        with self._lock:
            for i in range(n):
                tid = next(self._ids)
                created = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=tid % 10**6)
                t = FakeTweet(
                    tid, f"{text} {i}" if n > 1 else text, author, self.user(author), created
                )
                self.tweets.append(t)
                out.append(t)
        return out

    def _newest_first(self, keep: object) -> list[FakeTweet]:
        with self._lock:
            return sorted((t for t in self.tweets if keep(t)), key=lambda t: -t.id)  # type: ignore[operator]

    def timeline(self, username: str) -> list[FakeTweet]:
        return self._newest_first(lambda t: t.author == username)

    def mentions(self, username: str) -> list[FakeTweet]:
        return self._newest_first(lambda t: f"@{username}".lower() in t.text.lower())

    def search(self, query: str) -> list[FakeTweet]:
        words = [w.lower() for w in query.split() if w.upper() != "OR"]
        return self._newest_first(lambda t: any(w in t.text.lower() for w in words))
