"""The fast path accepts the common shape and agrees with the validating path everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.operators.normalize import FUTURE_SLACK, Invalid, _to_tweet
from chirpflow.operators.normalize_fast import fast_tweet
from tests.factories import payload, record

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _full(doc: dict[str, Any]) -> object:
    try:
        return _to_tweet(doc, record(0, b""), NOW)
    except Invalid as err:
        return err.reason


def test_common_tweets_take_the_fast_path() -> None:
    docs = [orjson.loads(orjson.dumps(p)) for p in SyntheticTweets(seed=3).batch(0, 500)]
    docs += [payload(1), payload(2, author_username="ann", referenced_kind="quoted")]
    for doc in docs:
        fast = fast_tweet(doc, record(0, b""), NOW + FUTURE_SLACK, utf8_checked=True)
        assert fast is not None, doc
        assert fast == _full(doc)


_ids = st.sampled_from(["1", "9223372036854775807", "9223372036854775808", "01", "12a", "", 7])
_times = st.sampled_from(
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.5+00:00",
        "2026-01-01T02:00:00+02:00",
        "2026-01-01T00:00:00",
        "2030-01-01T00:00:00Z",
        "2001-01-01T00:00:00Z",
        "nope Z",
        1767225600,
        None,
    ]
)
_short = st.none() | st.sampled_from(["", "en", "x" * 17, "é", "a\x00"]) | st.integers()
_fields = {
    "id": _ids,
    "author_id": _ids,
    "conversation_id": st.none() | _ids,
    "referenced_tweet_id": st.none() | _ids,
    "referenced_kind": st.none() | st.sampled_from(["reply", "quoted", "nope", ""]),
    "referenced_tweets": st.none() | st.just([{"id": "5", "type": "quoted"}]),
    "text": st.text(max_size=20) | st.integers(),
    "created_at": _times,
    "fetched_at": _times,
    "processed_at": _times,
    "lang": _short,
    "author_username": _short,
    "username": _short,
    "author_followers": st.none() | st.integers(-1, 5),
    "platform": st.none() | st.sampled_from(["x", "reddit"]),
    "public_metrics": st.none()
    | st.just([])
    | st.dictionaries(
        st.sampled_from(["retweet_count", "like_count", "impression_count"]),
        st.none() | st.integers(-1, 2**64) | st.booleans() | st.just("3"),
    ),
}


@settings(max_examples=500, deadline=None)
@given(st.fixed_dictionaries({}, optional=_fields))
def test_fast_path_agrees_with_the_full_checks(changes: dict[str, Any]) -> None:
    doc = payload(0, **changes)  # a valid tweet with some fields changed or added
    fast = fast_tweet(doc, record(0, b""), NOW + FUTURE_SLACK, utf8_checked=False)
    if fast is not None:  # the fast path only accepts what the full path accepts, equally
        assert fast == _full(doc)


def test_fast_path_declines_what_it_does_not_fully_check() -> None:
    latest = NOW + FUTURE_SLACK
    for changes in (
        {"created_at": "2026-01-01T02:00:00+02:00"},  # another offset: converted by the full path
        {"id": "0123"},  # canonicalised by the full path
        {"text": "bad \x00"},
        {"platform": "reddit"},
        {"public_metrics": {"like_count": True}},
        {"referenced_tweets": [{"id": "5", "type": "quoted"}]},
    ):
        assert fast_tweet(payload(0, **changes), record(0, b""), latest, utf8_checked=True) is None
