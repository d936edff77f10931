"""The ``tweets`` row of a post (see migration 0010): X posts keep no platform id or link."""

from __future__ import annotations

from typing import Any

from chirpflow.model import Tweet
from chirpflow.platforms import store_key


def post_row(t: Tweet, chunk_id: str) -> tuple[Any, ...]:
    m = t.metrics
    other = t.platform != "x"
    return (
        store_key(t.id),
        t.text,
        store_key(t.author_id),
        t.author_username,
        store_key(t.conversation_id) if t.conversation_id else None,
        t.created_at,
        t.fetched_at,
        t.lang,
        store_key(t.referenced_tweet_id) if t.referenced_tweet_id else None,
        t.referenced_kind.value if t.referenced_kind else None,
        m.retweets,
        m.replies,
        m.likes,
        m.quotes,
        m.views,
        t.source,
        t.watch,
        t.origin,
        chunk_id,
        t.author_followers,
        t.platform,
        t.id if other else None,
        t.link if other else None,
    )
