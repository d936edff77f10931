"""Normalization by platform: native payloads of each platform's source, and
the chirpflow JSON form of any platform's post (as ``ingest`` puts it on Kafka).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chirpflow.model import DeadLetter, PublicMetrics, RawRecord, RefKind, Tweet
from chirpflow.operators import normalize as x
from chirpflow.operators.platforms import bluesky, mastodon, reddit
from chirpflow.operators.platforms.common import Invalid, R, count, post, text_at, time_at
from chirpflow.platforms import OTHER_PLATFORMS, native_id

ToPost = Callable[[dict[str, Any], RawRecord, datetime], Tweet]
NATIVE: dict[str, ToPost] = {
    "reddit": reddit.to_post,
    "bluesky": bluesky.to_post,
    "mastodon": mastodon.to_post,
}


def normalize_native(record: RawRecord) -> Tweet | DeadLetter:
    """The post in a native payload of ``record.platform``, or a dead letter."""
    try:
        obj = x._decode(record.payload)
        if "platform" in obj:  # already the chirpflow form (a jsonl file, a replay)
            return from_canonical(obj, record)
        to_post = NATIVE.get(record.platform)
        if to_post is None:
            raise Invalid(R.INVALID_VALUE, f"unknown platform {record.platform[:20]!r}")
        return to_post(obj, record, datetime.now(UTC))
    except Invalid as err:
        return x._dead(record, err.reason, err.detail)
    except Exception as err:  # defensive: a bug here must not stop the flow
        return x._dead(record, R.INVALID_VALUE, f"unexpected {type(err).__name__}: {err}")


def from_canonical(obj: dict[str, Any], record: RawRecord) -> Tweet:
    """A post of another platform in the chirpflow JSON form; raises ``Invalid``."""
    platform = obj.get("platform")
    if platform not in OTHER_PLATFORMS:
        raise Invalid(
            R.INVALID_VALUE,
            f"'platform' is {str(platform)[:20]!r}, expected x, {', '.join(OTHER_PLATFORMS)}",
        )
    assert isinstance(platform, str)
    pid = text_at(obj, "id", required=True, limit=400) or ""
    author = text_at(obj, "author_id", required=True, limit=400) or ""
    link = text_at(obj, "link", required=True, limit=500) or ""
    if not link.startswith("https://"):
        raise Invalid(R.INVALID_VALUE, f"'link' {link[:60]!r} is not an https address")
    if not pid.startswith(f"{platform}:"):
        raise Invalid(R.INVALID_VALUE, f"'id' {pid[:60]!r} is not a {platform} id")
    pm = obj.get("public_metrics") or {}
    if not isinstance(pm, dict):
        raise Invalid(R.WRONG_TYPE, "'public_metrics' must be an object")
    kind = obj.get("referenced_kind")
    ref = text_at(obj, "referenced_tweet_id", limit=400)
    conv = text_at(obj, "conversation_id", limit=400)
    now = datetime.now(UTC)
    tweet = post(
        record,
        platform,
        native=native_id(platform, pid),
        text=text_at(obj, "text", required=True, limit=x.MAX_TEXT_CHARS) or "",
        author_id=native_id(platform, author),
        author_username=text_at(obj, "author_username", limit=300),
        created_at=time_at(obj, "created_at", now),
        link=link,
        metrics=PublicMetrics(
            retweets=count(pm.get("retweet_count")),
            replies=count(pm.get("reply_count")),
            likes=count(pm.get("like_count")),
            quotes=count(pm.get("quote_count")),
        ),
        lang=text_at(obj, "lang", limit=16),
        conversation=native_id(platform, conv) if conv else None,
        referenced=native_id(platform, ref) if ref else None,
        referenced_kind=RefKind(kind) if kind in ("reply", "quote", "retweet") else None,
        followers=None if obj.get("author_followers") is None else count(obj["author_followers"]),
    )
    fetched = obj.get("fetched_at")
    if fetched is not None:
        tweet.fetched_at = time_at(obj, "fetched_at", now)
    return tweet
