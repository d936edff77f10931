"""The ``tweets`` row of a post (see migration 0010): X posts keep no platform id or link."""

from __future__ import annotations

from typing import Any

from chirpflow.model import Tweet
from chirpflow.platforms import store_key


def post_row(t: Tweet, chunk_id: str) -> tuple[Any, ...]:
    m = t.metrics
    sid = t.store_id
    if sid is not None:  # normalized X post: every id is a canonical digit string
        author: int = int(t.author_id)
        conv, ref = t.conversation_id, t.referenced_tweet_id
        conversation = int(conv) if conv else None
        referenced = int(ref) if ref else None
    else:
        sid = store_key(t.id)
        author = store_key(t.author_id)
        conversation = store_key(t.conversation_id) if t.conversation_id else None
        referenced = store_key(t.referenced_tweet_id) if t.referenced_tweet_id else None
    kind = t.referenced_kind
    if t.platform == "x":
        platform, pid, link = "x", None, None
    else:
        platform, pid, link = t.platform, t.id, t.link
    return (
        sid,
        t.text,
        author,
        t.author_username,
        conversation,
        t.created_at,
        t.fetched_at,
        t.lang,
        referenced,
        kind.value if kind else None,
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
        platform,
        pid,
        link,
    )
