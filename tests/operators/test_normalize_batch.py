"""A batch normalizes exactly as its records do one by one; X tweets carry their store id."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from chirpflow.connectors.postgres.post_rows import post_row
from chirpflow.model import RawRecord, Tweet, dedup_key
from chirpflow.operators.normalize import MAX_PAYLOAD_BYTES, normalize, normalize_batch
from chirpflow.platforms import store_key
from tests.factories import payload, record

NOW = datetime(2026, 6, 1, tzinfo=UTC)

_changes = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["7", "0123", "9223372036854775808", 42, "x1", None]),
        "author_id": st.sampled_from(["5", "05", 9, ""]),
        "created_at": st.sampled_from(
            ["2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00", "2031-01-01T00:00:00Z", 17]
        ),
        "text": st.text(max_size=10) | st.just("a\x00b"),
        "platform": st.sampled_from(["x", "reddit"]),
        "public_metrics": st.just({"like_count": 3}) | st.just({"like_count": -1}),
        "referenced_tweets": st.just([{"id": "5", "type": "quoted"}]),
    },
)


def _wire(doc: dict[str, Any], form: int) -> bytes | str | dict[str, Any]:
    if form == 0:
        return orjson.dumps(doc)
    if form == 1:
        return orjson.dumps(doc).decode()
    if form == 2:
        return doc
    if form == 3:
        return b'{"id": "1", "text": "\xff"}'  # not UTF-8
    if form == 4:
        return b'{"id": "1",'  # malformed
    if form == 5:
        return b"[1, 2]"  # not an object
    return b" " * (MAX_PAYLOAD_BYTES + 1)  # too large


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_changes, st.integers(0, 6)), max_size=6))
def test_a_batch_is_normalized_as_its_records_alone(docs: list[tuple[dict[str, Any], int]]) -> None:
    records = [
        record(i, _wire(payload(i, **changes), form)) for i, (changes, form) in enumerate(docs)
    ]
    assert normalize_batch(records, NOW) == [normalize(r, NOW) for r in records]


def test_another_platforms_native_record_takes_its_own_path() -> None:
    native = RawRecord("r:0:1", "reddit", orjson.dumps(payload(1)), NOW, platform="reddit")
    assert normalize_batch([native], NOW) == [normalize(native, NOW)]


def test_normalized_x_tweets_carry_their_store_id_on_both_paths() -> None:
    fast = payload(3, author_username="ann", referenced_tweet_id="1800000000000000001")
    full = payload(4, created_at="2026-01-01T02:00:00+02:00", id=1800000000000000004)
    tweets = normalize_batch([record(0, orjson.dumps(fast)), record(1, orjson.dumps(full))], NOW)
    for t in tweets:
        assert isinstance(t, Tweet)
        assert t.store_id == int(t.id) == store_key(t.id) == dedup_key(t)
        # the row built from the store id is the row built from the ids
        assert post_row(t, "c#1") == post_row(_without_store_id(t), "c#1")


def test_a_tweet_restored_from_an_older_snapshot_has_no_store_id_and_still_works() -> None:
    t = normalize(record(0, orjson.dumps(payload(5))), NOW)
    assert isinstance(t, Tweet)
    # unpickling a Tweet pickled before the field existed: its state has no store_id
    slots: dict[str, Any] = {name: getattr(t, name) for name in Tweet.__slots__}
    del slots["store_id"]
    restored = Tweet.__new__(Tweet)
    for name, value in slots.items():
        setattr(restored, name, value)
    assert restored.store_id is None
    assert restored == t  # the store id is a cache, not part of the tweet
    assert dedup_key(restored) == dedup_key(t)
    assert post_row(restored, "c#1") == post_row(t, "c#1")


def _without_store_id(t: Tweet) -> Tweet:
    copy: Tweet = pickle.loads(pickle.dumps(t))
    copy.store_id = None
    return copy
