"""Caches of per-text analysis results, so identical text is analysed once.

Keys hash the normalized text together with the analyzer version; a plain
retweet ("RT @someone: <text>") shares the key of the text it repeats.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

from chirpflow.model import TweetAnalysis
from chirpflow.operators.cached_analysis import Packed, pack, unpack

_RT_PREFIX = re.compile(r"^RT @\w{1,15}: ")


def normalize_text(text: str) -> str:
    """The text that decides an analysis: no retweet prefix, collapsed white space."""
    if text.startswith("RT @"):
        text = _RT_PREFIX.sub("", text, count=1)
    return " ".join(text.split())


def text_key(text: str, analyzer_version: str) -> str:
    digest = hashlib.blake2b(
        f"{analyzer_version}\x1f{normalize_text(text)}".encode("utf-8", "surrogatepass"),
        digest_size=16,
    )
    return digest.hexdigest()


class ResultCache(Protocol):
    """Analysis results by text key (the ``tweet_id`` of a cached value is meaningless)."""

    def get_many(self, keys: Iterable[str]) -> dict[str, TweetAnalysis]: ...

    def put_many(self, items: dict[str, TweetAnalysis]) -> None: ...


class LruResultCache:
    """In-process LRU cache, used when no Redis is configured.

    At most ``max_items`` entries, each in compact form (see
    :mod:`chirpflow.operators.cached_analysis`, about 400 bytes); a hit is a
    fresh :class:`TweetAnalysis` with an empty ``tweet_id``.
    """

    def __init__(self, max_items: int = 100_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, Packed] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Iterable[str]) -> dict[str, TweetAnalysis]:
        found: dict[str, TweetAnalysis] = {}
        for k in keys:
            v = self._items.get(k)
            if v is None:
                self.misses += 1
            else:
                self.hits += 1
                self._items.move_to_end(k)
                found[k] = unpack(v)
        return found

    def put_many(self, items: dict[str, TweetAnalysis]) -> None:
        if self.max_items <= 0:
            return
        for k, v in items.items():
            self._items[k] = pack(v)
            self._items.move_to_end(k)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)


class TieredResultCache:
    """A fast cache in front of a slower shared one: misses of the first go to the
    second, whose hits are kept in the first; stores go to both."""

    def __init__(self, first: ResultCache, second: ResultCache) -> None:
        self.first = first
        self.second = second

    def get_many(self, keys: Iterable[str]) -> dict[str, TweetAnalysis]:
        wanted = list(keys)
        found = self.first.get_many(wanted)
        missing = [k for k in wanted if k not in found]
        if missing:
            more = self.second.get_many(missing)
            if more:
                self.first.put_many(more)
                found.update(more)
        return found

    def put_many(self, items: dict[str, TweetAnalysis]) -> None:
        self.first.put_many(items)
        self.second.put_many(items)

    def close(self) -> None:
        close_cache(self.first)
        close_cache(self.second)


def close_cache(cache: object) -> None:
    """Release a cache's connection, if it holds one (a job's end)."""
    close = getattr(cache, "close", None)
    if callable(close):
        close()
