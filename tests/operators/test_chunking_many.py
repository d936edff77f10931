"""ChunkBuffer.add_many and the merged chunk-key groups: the same as one tweet at a time."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from chirpflow.flows.analysis import chunk_key_fn
from chirpflow.flows.steps.chunking import PASS, group_by_chunk_key, split_by_chunk_key
from chirpflow.model import Chunk, DeadLetter, Duplicate, Tweet
from chirpflow.operators.chunking import ChunkBuffer
from tests.factories import T0, tweet

# per tweet: its key_total (None mostly); a batch is a list of those
batches = st.lists(
    st.lists(st.one_of(st.none(), st.none(), st.integers(1, 12)), max_size=30), max_size=6
)


def _state(buf: ChunkBuffer) -> tuple[object, ...]:
    return (buf.next_seq, [t.id for t in buf.tweets], buf.opened_at, buf.seen, buf.expected)


def _chunks(chunks: list[Chunk]) -> list[tuple[object, ...]]:
    return [(c.key, c.seq, [t.id for t in c.tweets], c.opened_at, c.closed_at) for c in chunks]


@given(batches, st.integers(1, 7), st.integers(0, 10))
def test_add_many_is_add_of_each_tweet(
    sizes: list[list[int | None]], max_size: int, restored: int
) -> None:
    # a buffer restored with some tweets already open, maybe more than max_size
    start = ChunkBuffer(key="k", max_size=max_size)
    start.tweets = [tweet(10_000 + i) for i in range(restored)]
    start.opened_at = T0 if restored else None
    start.seen = restored
    one, many = dataclasses.replace(start, tweets=list(start.tweets)), start
    n = 0
    for step, totals in enumerate(sizes):
        now = T0 + timedelta(seconds=step)
        tweets = [tweet(n + i, key_total=k) for i, k in enumerate(totals)]
        n += len(tweets)
        by_one = [c for t in tweets if (c := one.add(t, now)) is not None]
        assert _chunks(many.add_many(tweets, now)) == _chunks(by_one)
        assert _state(many) == _state(one)


def test_a_full_run_of_plain_tweets_fills_chunks_by_slices() -> None:
    buf = ChunkBuffer(key="k", max_size=100)
    chunks = buf.add_many([tweet(i) for i in range(250)], T0)
    assert [len(c.tweets) for c in chunks] == [100, 100] and [c.seq for c in chunks] == [0, 1]
    assert len(buf.tweets) == 50 and buf.seen == 250 and buf.due_at == T0 + buf.max_wait


def test_shard_outputs_merge_into_one_group_per_chunk_key_in_order() -> None:
    key_of = chunk_key_fn("author")
    dup = Duplicate("o", "1", "test", T0)
    dead = DeadLetter("o2", "test", "malformed_json", "bad", "{")  # type: ignore[arg-type]
    shards: list[tuple[str, list[Tweet | Duplicate | DeadLetter]]] = [
        ("s0", [tweet(i, author_username=f"u{i % 3}") for i in range(0, 12, 2)]),
        ("dead", [dead]),
        ("s1", [*(tweet(i, author_username=f"u{i % 3}") for i in range(1, 12, 2)), dup]),
    ]
    merged = group_by_chunk_key(shards, key_of)
    assert len(merged) == len({k for k, _ in merged}) == 4  # u0, u1, u2, pass-through
    expected: dict[str, list[Tweet | Duplicate | DeadLetter]] = {}
    for _, batch in shards:
        for key, items in split_by_chunk_key(batch, key_of):
            expected.setdefault(key, []).extend(items)
    assert dict(merged) == expected
    assert dict(merged)[PASS] == [dead, dup]


def test_shard_outputs_of_one_chunk_key_become_one_group() -> None:
    by_source = chunk_key_fn("source")
    shards: list[tuple[str, list[Tweet | Duplicate | DeadLetter]]] = [
        ("s0", [tweet(i) for i in range(0, 10, 2)]),
        ("s1", [tweet(i) for i in range(1, 10, 2)]),
        ("s2", []),
    ]
    merged = group_by_chunk_key(shards, by_source)
    assert merged == [("test", [*shards[0][1], *shards[1][1]])]
