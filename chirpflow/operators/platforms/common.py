"""What the per-platform normalizers share: field checks and the Tweet they build.

The checks are those of :mod:`chirpflow.operators.normalize` (same reasons,
same limits); a failed check raises ``Invalid`` and becomes a dead letter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chirpflow.model import DeadLetterReason as R
from chirpflow.model import PublicMetrics, RawRecord, RefKind, Tweet
from chirpflow.operators.normalize import MAX_TEXT_CHARS, Invalid, _count, _str, _time
from chirpflow.platforms import post_id

MAX_NATIVE_ID = 300  # a Bluesky at:// URI or a Mastodon status URI

__all__ = ["MAX_TEXT_CHARS", "Invalid", "R", "count", "obj_at", "post", "text_at", "time_at"]


def obj_at(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        raise Invalid(R.MISSING_FIELD, f"'{key}' is missing")
    if not isinstance(value, dict):
        raise Invalid(R.WRONG_TYPE, f"'{key}' is {type(value).__name__}, expected object")
    return value


def text_at(
    obj: dict[str, Any], key: str, *, required: bool = False, limit: int = 200
) -> str | None:
    return _str(obj, key, required=required, limit=limit)


def time_at(obj: dict[str, Any], key: str, now: datetime) -> datetime:
    ts = _time(obj, key, now, required=True)
    assert ts is not None
    return ts


def count(value: Any) -> int:
    return _count(value)


def post(
    record: RawRecord,
    platform: str,
    *,
    native: str,
    text: str,
    author_id: str,
    author_username: str | None,
    created_at: datetime,
    link: str,
    metrics: PublicMetrics,
    lang: str | None = None,
    conversation: str | None = None,
    referenced: str | None = None,
    referenced_kind: RefKind | None = None,
    followers: int | None = None,
) -> Tweet:
    """The Tweet of one post of ``platform`` (ids made platform-aware here)."""
    if not native or len(native) > MAX_NATIVE_ID:
        raise Invalid(R.INVALID_VALUE, f"post id {native[:60]!r} is empty or too long")
    if len(text) > MAX_TEXT_CHARS:
        raise Invalid(R.TOO_LARGE, f"text has {len(text)} characters (max {MAX_TEXT_CHARS})")
    if not text.strip():
        raise Invalid(R.MISSING_FIELD, "the post has no text")
    return Tweet(
        id=post_id(platform, native),
        text=text,
        author_id=post_id(platform, author_id),
        created_at=created_at,
        origin=record.origin,
        source=record.source,
        fetched_at=record.fetched_at,
        author_username=author_username,
        conversation_id=post_id(platform, conversation) if conversation else None,
        lang=lang,
        referenced_tweet_id=post_id(platform, referenced) if referenced else None,
        referenced_kind=referenced_kind,
        metrics=metrics,
        watch=record.watch,
        key_total=record.key_total,
        author_followers=followers,
        platform=platform,
        link=link,
    )
