"""Normalization of Reddit, Bluesky and Mastodon posts: one model, platform-aware ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from chirpflow.model import DeadLetter, RawRecord, RefKind, Tweet, dedup_key
from chirpflow.operators.normalize import normalize
from chirpflow.platforms import store_key
from chirpflow.serialization import post_to_dict, tweet_to_dict
from tests.factories import T0, payload, record, tweet

NOW = datetime.now(UTC)


def raw(platform: str, data: Any, seq: int = 0) -> RawRecord:
    return RawRecord(
        f"{platform}-src:w:{seq}", f"{platform}-src", data, NOW, "w", platform=platform
    )


REDDIT: dict[str, Any] = {
    "kind": "t3",
    "data": {
        "id": "1abc2z",
        "name": "t3_1abc2z",
        "title": "Brand broke again",
        "selftext": "since the update <b>nothing</b> works",
        "author": "alice",
        "author_fullname": "t2_xyz",
        "subreddit": "brand",
        "created_utc": 1_790_000_000.0,
        "permalink": "/r/brand/comments/1abc2z/brand_broke_again/",
        "score": 12,
        "num_comments": 3,
    },
}
BSKY_VIEW: dict[str, Any] = {
    "uri": "at://did:plc:alice/app.bsky.feed.post/3lbrandpost2",
    "cid": "bafy",
    "author": {"did": "did:plc:alice", "handle": "alice.bsky.social"},
    "record": {
        "$type": "app.bsky.feed.post",
        "text": "the brand app is down",
        "createdAt": "2026-09-01T00:00:00.000Z",
        "langs": ["en"],
    },
    "likeCount": 4,
    "repostCount": 1,
    "replyCount": 0,
    "indexedAt": "2026-09-01T00:00:01.000Z",
}
MASTODON: dict[str, Any] = {
    "id": "113000000000000001",
    "uri": "https://m.example/users/alice/statuses/113000000000000001",
    "url": "https://m.example/@alice/113000000000000001",
    "created_at": "2026-09-01T00:00:00.000Z",
    "content": '<p>I &lt;3 <a href="https://m.example/tags/brand" class="mention hashtag">'
    "#<span>brand</span></a>"
    "<script>steal()</script></p>",
    "spoiler_text": "",
    "visibility": "public",
    "language": "en",
    "in_reply_to_id": None,
    "reblog": None,
    "account": {"id": "1", "username": "alice", "acct": "alice", "url": "https://m.example/@alice"},
    "favourites_count": 2,
    "reblogs_count": 0,
    "replies_count": 1,
}


def test_a_reddit_post_is_a_tweet_of_platform_reddit() -> None:
    t = normalize(raw("reddit", orjson.dumps(REDDIT)))
    assert isinstance(t, Tweet), t
    assert (t.id, t.platform, t.author_id, t.author_username) == (
        "reddit:t3_1abc2z",
        "reddit",
        "reddit:t2_xyz",
        "alice",
    )
    assert t.text == "Brand broke again\n\nsince the update <b>nothing</b> works"
    assert t.url == "https://www.reddit.com/r/brand/comments/1abc2z/brand_broke_again/"
    assert t.created_at == datetime.fromtimestamp(1_790_000_000, UTC)
    assert t.metrics.likes == 12 and t.metrics.replies == 3


def test_a_reddit_comment_replies_to_its_post() -> None:
    comment = {
        "kind": "t1",
        "data": {
            "id": "k1",
            "body": "same",
            "author": "bob",
            "link_id": "t3_1abc2z",
            "created_utc": 1_790_000_100,
            "permalink": "/r/brand/comments/1abc2z/x/k1/",
        },
    }
    t = normalize(raw("reddit", comment))
    assert isinstance(t, Tweet), t
    assert t.id == "reddit:t1_k1" and t.referenced_tweet_id == "reddit:t3_1abc2z"
    assert t.referenced_kind is RefKind.REPLY


def test_bluesky_search_view_feed_item_and_jetstream_commit() -> None:
    view = normalize(raw("bluesky", BSKY_VIEW))
    item = normalize(raw("bluesky", {"post": BSKY_VIEW}))
    commit = normalize(
        raw(
            "bluesky",
            {
                "did": "did:plc:alice",
                "time_us": 1_790_000_000_000_000,
                "kind": "commit",
                "commit": {
                    "rev": "r",
                    "operation": "create",
                    "collection": "app.bsky.feed.post",
                    "rkey": "3lbrandpost2",
                    "record": BSKY_VIEW["record"],
                    "cid": "bafy",
                },
            },
        )
    )
    assert isinstance(view, Tweet) and isinstance(item, Tweet) and isinstance(commit, Tweet)
    assert (
        view.id
        == item.id
        == commit.id
        == "bluesky:at://did:plc:alice/app.bsky.feed.post/3lbrandpost2"
    )
    assert view.url == "https://bsky.app/profile/alice.bsky.social/post/3lbrandpost2"
    assert commit.url == "https://bsky.app/profile/did:plc:alice/post/3lbrandpost2"
    assert (
        view.lang == "en" and view.metrics.likes == 4 and view.author_id == "bluesky:did:plc:alice"
    )


def test_mastodon_html_becomes_text_without_anything_executable() -> None:
    t = normalize(raw("mastodon", MASTODON))
    assert isinstance(t, Tweet), t
    assert t.text == "I <3 #brand"
    assert t.id == "mastodon:https://m.example/users/alice/statuses/113000000000000001"
    assert t.url == MASTODON["url"] and t.author_username == "alice"


@pytest.mark.parametrize(
    ("platform", "data", "reason"),
    [
        ("reddit", b"{not json", "malformed_json"),
        ("reddit", {"kind": "t5", "data": {}}, "invalid_value"),
        ("reddit", {"kind": "t3", "data": {**REDDIT["data"], "selftext": "[removed]"}}, "deleted"),
        (
            "reddit",
            {"kind": "t3", "data": {**REDDIT["data"], "created_utc": "soon"}},
            "invalid_value",
        ),
        ("reddit", {"kind": "t3"}, "missing_field"),
        ("bluesky", {**BSKY_VIEW, "uri": "https://evil"}, "invalid_value"),
        (
            "bluesky",
            {**BSKY_VIEW, "record": {"text": 5, "createdAt": "2026-09-01T00:00:00Z"}},
            "wrong_type",
        ),
        (
            "bluesky",
            {
                "did": "did:plc:a",
                "kind": "commit",
                "commit": {"operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3l"},
            },
            "deleted",
        ),
        ("bluesky", [1, 2], "not_an_object"),
        ("mastodon", {**MASTODON, "account": None}, "missing_field"),
        ("mastodon", {**MASTODON, "content": "<p><script>only()</script></p>"}, "missing_field"),
        ("mastodon", {**MASTODON, "visibility": "direct"}, "invalid_value"),
        ("myspace", {"id": "1"}, "invalid_value"),
    ],
)
def test_broken_platform_payloads_are_dead_letters_with_a_reason(
    platform: str, data: Any, reason: str
) -> None:
    out = normalize(raw(platform, data))
    assert isinstance(out, DeadLetter), out
    assert out.reason.value == reason and out.source == f"{platform}-src"


def test_ids_are_compared_within_a_platform() -> None:
    x = tweet(1)
    reddit = normalize(raw("reddit", REDDIT))
    masto = normalize(raw("mastodon", MASTODON))
    assert isinstance(reddit, Tweet) and isinstance(masto, Tweet)
    keys = {dedup_key(x), dedup_key(reddit), dedup_key(masto)}
    assert len(keys) == 3
    assert store_key(x.id) == int(x.id) > 0 > store_key(reddit.id)  # X ids stay as they are


def test_the_kafka_form_of_x_is_unchanged_and_other_platforms_round_trip() -> None:
    x = normalize(record(1, payload(1)))
    assert isinstance(x, Tweet)
    assert post_to_dict(x) == tweet_to_dict(x) and "platform" not in post_to_dict(x)
    for platform, data in (("reddit", REDDIT), ("bluesky", BSKY_VIEW), ("mastodon", MASTODON)):
        t = normalize(raw(platform, data))
        assert isinstance(t, Tweet)
        doc = post_to_dict(t)
        assert doc["platform"] == platform and doc["link"] == t.url
        again = normalize(
            RawRecord(t.origin, t.source, orjson.dumps(doc), T0, "w")
        )  # as from Kafka
        assert again == t, platform


def test_a_canonical_post_with_a_wrong_id_or_link_is_a_dead_letter() -> None:
    t = normalize(raw("reddit", REDDIT))
    assert isinstance(t, Tweet)
    doc = post_to_dict(t)
    for bad in ({"id": "t3_1abc2z"}, {"link": "javascript:alert(1)"}, {"platform": "myspace"}):
        out = normalize(record(0, {**doc, **bad}))
        assert isinstance(out, DeadLetter) and out.reason.value == "invalid_value", bad


def test_a_tweet_from_an_older_snapshot_is_an_x_tweet() -> None:
    import pickle

    old = tweet(7)
    state = old.__getstate__()
    assert isinstance(state, tuple)
    slots = {k: v for k, v in state[1].items() if k not in ("platform", "link")}
    restored = Tweet.__new__(Tweet)
    for k, v in slots.items():  # what unpickling a Tweet saved before platforms did
        setattr(restored, k, v)
    assert restored.platform == "x" and restored.link is None
    assert restored.url == old.url and dedup_key(restored) == dedup_key(old)
    again = pickle.loads(pickle.dumps(restored))
    assert again.platform == "x" and again.id == old.id
    name = "nonexistent"
    with pytest.raises(AttributeError):
        getattr(restored, name)
