"""A Mastodon status as a Tweet.

The id is the status ``uri`` (the same post seen through two instances is one
post; local ids differ per instance), the link its ``url`` (else the uri).
The HTML content becomes plain text (see ``html_text``), a content warning
comes first. A boost (``reblog``) is the boosted status itself, so dedup
counts the original once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chirpflow.model import PublicMetrics, RawRecord, Tweet
from chirpflow.operators.platforms.common import Invalid, R, count, obj_at, post, text_at, time_at
from chirpflow.operators.platforms.html_text import html_to_text
from chirpflow.platforms import MASTODON


def to_post(obj: dict[str, Any], record: RawRecord, now: datetime) -> Tweet:
    reblog = obj.get("reblog")
    if isinstance(reblog, dict):
        obj = reblog
    text_at(obj, "id", required=True, limit=64)
    uri = text_at(obj, "uri", required=True, limit=300) or ""
    if not uri.startswith(("https://", "http://")):
        raise Invalid(R.INVALID_VALUE, f"status uri {uri[:60]!r} is not an address")
    if obj.get("visibility") in ("private", "direct"):
        raise Invalid(R.INVALID_VALUE, "a private or direct status is not collected")
    account = obj_at(obj, "account")
    html = text_at(obj, "content", required=True, limit=100_000) or ""
    text = html_to_text(html)
    warning = text_at(obj, "spoiler_text", limit=1000)
    if warning:
        text = f"{warning}\n\n{text}"
    url = text_at(obj, "url", limit=500)
    lang = text_at(obj, "language", limit=16)
    reply_to = text_at(obj, "in_reply_to_id", limit=64)
    return post(
        record,
        MASTODON,
        native=uri,
        text=text,
        author_id=text_at(account, "url", limit=300)
        or text_at(account, "acct", required=True, limit=300)
        or "",
        author_username=text_at(account, "acct", limit=300),
        created_at=time_at(obj, "created_at", now),
        link=url if url and url.startswith("https://") else uri,
        metrics=PublicMetrics(
            likes=count(obj.get("favourites_count")),
            retweets=count(obj.get("reblogs_count")),
            replies=count(obj.get("replies_count")),
        ),
        lang=lang,
        followers=_followers(account),
        conversation=None if reply_to else uri,
    )


def _followers(account: dict[str, Any]) -> int | None:
    value = account.get("followers_count")
    return None if value is None else count(value)
