"""Drafts already written, by text: the same mention asked again costs no call.

A key hashes the prompt version, the context layer's version, the persona
and the normalized tweet text (as the analysis cache normalizes it), so a
new prompt, an approved or rolled-back context, or another persona drafts
afresh. In-process LRU, like the analysis path's ``LruResultCache``; with
``REDIS_URL``, ``chirpflow.connectors.redis.draft_cache.RedisDraftCache``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Protocol

from chirpflow.action_model import PROMPT_VERSION
from chirpflow.operators.result_cache import normalize_text


def draft_key(text: str, persona: str, context: tuple[int, str] | None) -> str:
    version = str(context[0]) if context else "-"
    raw = f"{PROMPT_VERSION}\x1f{version}\x1f{persona}\x1f{normalize_text(text)}"
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class DraftStore(Protocol):
    """Where drafts are cached: :class:`DraftCache` here, ``RedisDraftCache`` shared."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


class DraftCache:
    def __init__(self, max_items: int = 10_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, str] = OrderedDict()
        self.hits = 0

    def get(self, key: str) -> str | None:
        text = self._items.get(key)
        if text is not None:
            self.hits += 1
            self._items.move_to_end(key)
        return text

    def put(self, key: str, text: str) -> None:
        if self.max_items <= 0:
            return
        self._items[key] = text
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
