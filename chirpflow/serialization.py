"""JSON forms of the domain model, with orjson.

A tweet's JSON is a superset of the message teams already put on Kafka:
``{"id","text","author_id","conversation_id","created_at","processed_at","referenced_tweet_id"}``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson

from chirpflow.model import Tweet, TweetAnalysis


def dumps(obj: Any) -> bytes:
    """orjson with the options every chirpflow document uses."""
    return orjson.dumps(obj, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def iso(ts: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``."""
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tweet_to_dict(tweet: Tweet) -> dict[str, Any]:
    m = tweet.metrics
    return {
        "id": tweet.id,
        "text": tweet.text,
        "author_id": tweet.author_id,
        "author_username": tweet.author_username,
        "conversation_id": tweet.conversation_id,
        "created_at": iso(tweet.created_at),
        "processed_at": iso(tweet.fetched_at),
        "fetched_at": iso(tweet.fetched_at),
        "referenced_tweet_id": tweet.referenced_tweet_id,
        "referenced_kind": tweet.referenced_kind.value if tweet.referenced_kind else None,
        "lang": tweet.lang,
        "public_metrics": {
            "retweet_count": m.retweets,
            "reply_count": m.replies,
            "like_count": m.likes,
            "quote_count": m.quotes,
            "impression_count": m.views,
        },
        "source": tweet.source,
        "watch": tweet.watch,
        "author_followers": tweet.author_followers,
    }


def post_to_dict(tweet: Tweet) -> dict[str, Any]:
    """A post's JSON: an X tweet's is unchanged, another platform's adds ``platform``, ``link``."""
    doc = tweet_to_dict(tweet)
    if tweet.platform != "x":
        doc["platform"] = tweet.platform
        doc["link"] = tweet.link
    return doc


def tweet_to_json(tweet: Tweet) -> bytes:
    return dumps(post_to_dict(tweet))


def analysis_to_dict(analysis: TweetAnalysis) -> dict[str, Any]:
    return asdict(analysis)
