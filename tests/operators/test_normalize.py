from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chirpflow.model import DeadLetter, DeadLetterReason, RefKind, Tweet
from chirpflow.operators.normalize import MAX_PAYLOAD_BYTES, normalize
from chirpflow.serialization import tweet_to_dict
from tests.factories import payload, record


def test_team_kafka_format_becomes_a_tweet() -> None:
    raw = orjson.dumps(payload(1, referenced_tweet_id="1800000000000000000"))
    out = normalize(record(7, raw))
    assert isinstance(out, Tweet)
    assert out.id == "1800000000000000001"
    assert out.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert out.fetched_at == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert out.referenced_kind is RefKind.REPLY
    assert out.origin == "test:0:7"


def test_x_api_v2_shape_is_accepted() -> None:
    doc = payload(
        2,
        author_id=42,
        referenced_tweets=[{"type": "quoted", "id": "1700000000000000000"}],
        public_metrics={"retweet_count": 3, "like_count": 9, "impression_count": 100},
        lang="en",
    )
    out = normalize(record(0, doc))
    assert isinstance(out, Tweet)
    assert out.author_id == "42"
    assert out.referenced_kind is RefKind.QUOTE
    assert out.referenced_tweet_id == "1700000000000000000"
    assert (out.metrics.retweets, out.metrics.likes, out.metrics.views) == (3, 9, 100)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"id": "1", "text": ', DeadLetterReason.MALFORMED_JSON),
        (b"\xff\xfe{}", DeadLetterReason.INVALID_UTF8),
        (b"[1, 2, 3]", DeadLetterReason.NOT_AN_OBJECT),
        (orjson.dumps({"text": "no id"}), DeadLetterReason.MISSING_FIELD),
        (orjson.dumps(payload(1, text=None)), DeadLetterReason.MISSING_FIELD),
        (orjson.dumps(payload(1, text=12)), DeadLetterReason.WRONG_TYPE),
        (orjson.dumps(payload(1, id=True)), DeadLetterReason.WRONG_TYPE),
        (orjson.dumps(payload(1, id="12abc")), DeadLetterReason.INVALID_VALUE),
        (orjson.dumps(payload(1, id="99999999999999999999")), DeadLetterReason.INVALID_VALUE),
        (orjson.dumps(payload(1, created_at="yesterday")), DeadLetterReason.INVALID_VALUE),
        (
            orjson.dumps(payload(1, created_at="1999-01-01T00:00:00Z")),
            DeadLetterReason.INVALID_VALUE,
        ),
        (
            orjson.dumps(payload(1, created_at="2999-01-01T00:00:00Z")),
            DeadLetterReason.INVALID_VALUE,
        ),
        (orjson.dumps(payload(1, text="x" * 30_000)), DeadLetterReason.TOO_LARGE),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", DeadLetterReason.TOO_LARGE),
        (orjson.dumps(payload(1, referenced_kind="like")), DeadLetterReason.INVALID_VALUE),
        (orjson.dumps(payload(1, public_metrics=[1])), DeadLetterReason.WRONG_TYPE),
        (orjson.dumps(payload(1, text="nul \u0000 inside")), DeadLetterReason.INVALID_VALUE),
        ("\ud800 lone surrogate", DeadLetterReason.INVALID_UTF8),
    ],
)
def test_bad_input_becomes_a_dead_letter_with_reason(data: Any, reason: DeadLetterReason) -> None:
    out = normalize(record(3, data))
    assert isinstance(out, DeadLetter)
    assert out.reason is reason
    assert out.origin == "test:0:3"
    assert out.detail
    assert "\x00" not in out.payload


def test_dead_letter_keeps_a_bounded_payload_preview() -> None:
    out = normalize(record(0, b"not json " * 10_000))
    assert isinstance(out, DeadLetter)
    assert len(out.payload) <= 4096


def test_leading_zero_ids_are_canonical() -> None:
    out = normalize(record(0, payload(1, id="000123")))
    assert isinstance(out, Tweet)
    assert out.id == "123"


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*payload(0), "x"]), _json_values))
def test_any_json_object_normalizes_or_dead_letters(doc: dict[str, Any]) -> None:
    out = normalize(record(0, orjson.dumps(doc)))
    assert isinstance(out, Tweet | DeadLetter)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_normalize_or_dead_letter(data: bytes) -> None:
    assert isinstance(normalize(record(0, data)), Tweet | DeadLetter)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=400).filter(lambda s: "\x00" not in s),
    tid=st.integers(min_value=1, max_value=2**63 - 1),
    aid=st.integers(min_value=1, max_value=2**63 - 1),
)
def test_valid_tweets_round_trip_through_json(text: str, tid: int, aid: int) -> None:
    first = normalize(record(0, orjson.dumps(payload(0, id=str(tid), text=text, author_id=aid))))
    assert isinstance(first, Tweet)
    again = normalize(record(0, orjson.dumps(tweet_to_dict(first))))
    assert isinstance(again, Tweet)
    assert (again.id, again.text, again.author_id, again.created_at) == (
        str(tid),
        text,
        str(aid),
        first.created_at,
    )
    assert again.fetched_at == first.fetched_at
