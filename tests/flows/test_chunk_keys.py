"""Which chunk a tweet joins, by ``pipeline.chunk_key``; a job's tweets always by job."""

from __future__ import annotations

import pytest

from chirpflow.flows.analysis import chunk_key_fn
from tests.factories import tweet

_PLAIN = tweet(1, source="kafka", author_username="ann")
_WATCHED = tweet(2, source="kafka", watch="brand", author_username=None, author_id="77")
_JOB = tweet(3, source="api", watch="job:42", author_username="bob")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("source", ["kafka", "kafka", "job:42"]),
        ("watch", ["kafka", "brand", "job:42"]),
        ("author", ["ann", "77", "job:42"]),
    ],
)
def test_each_kind_keys_tweets_and_jobs_keep_their_own_chunks(
    kind: str, expected: list[str]
) -> None:
    key_of = chunk_key_fn(kind)
    assert [key_of(t) for t in (_PLAIN, _WATCHED, _JOB)] == expected


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chunk_key 'mood'"):
        chunk_key_fn("mood")
