from __future__ import annotations

from datetime import timedelta

import pytest

from chirpflow.model import Chunk
from chirpflow.operators.chunking import ChunkBuffer
from tests.factories import T0, tweet


def test_full_chunk_is_emitted_at_max_size() -> None:
    buf = ChunkBuffer(key="k", max_size=3)
    assert buf.add(tweet(1), T0) is None
    assert buf.add(tweet(2), T0) is None
    chunk = buf.add(tweet(3), T0)
    assert chunk is not None
    assert [t.id for t in chunk.tweets] == [tweet(i).id for i in (1, 2, 3)]
    assert (chunk.key, chunk.seq) == ("k", 0) and chunk.chunk_id.startswith("k#")
    assert buf.due_at is None
    buf.add(tweet(4), T0)
    assert buf.flush(T0) is not None and buf.next_seq == 2


def test_a_chunk_id_names_its_tweets_whatever_seq_or_order() -> None:
    tweets = [tweet(i) for i in range(3)]
    same = Chunk("k", 0, tweets, T0).chunk_id
    assert Chunk("k", 7, list(reversed(tweets)), T0 + timedelta(hours=1)).chunk_id == same
    # a restored partial chunk flushed early is another chunk, with another id
    assert Chunk("k", 0, tweets[:2], T0).chunk_id != same
    assert Chunk("other", 0, tweets, T0).chunk_id != same


def test_partial_chunk_due_max_wait_after_first_tweet_despite_a_trickle() -> None:
    buf = ChunkBuffer(key="k", max_size=100, max_wait=timedelta(seconds=30))
    buf.add(tweet(0), T0)
    # a tweet every 5 s: an inactivity timeout would never fire
    for i in range(1, 6):
        now = T0 + timedelta(seconds=5 * i)
        buf.add(tweet(i), now)
        assert buf.flush_if_due(now) is None
    assert buf.due_at == T0 + timedelta(seconds=30)
    chunk = buf.flush_if_due(T0 + timedelta(seconds=30))
    assert chunk is not None and len(chunk.tweets) == 6
    assert chunk.opened_at == T0


def test_next_chunk_opens_with_its_own_first_tweet() -> None:
    buf = ChunkBuffer(key="k", max_size=2, max_wait=timedelta(seconds=30))
    buf.add(tweet(0), T0)
    buf.add(tweet(1), T0 + timedelta(seconds=1))
    later = T0 + timedelta(seconds=100)
    buf.add(tweet(2), later)
    assert buf.due_at == later + timedelta(seconds=30)


def test_flush_of_empty_buffer_is_none() -> None:
    buf = ChunkBuffer(key="k")
    assert buf.flush(T0) is None
    assert buf.flush_if_due(T0) is None


def test_max_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ChunkBuffer(key="k", max_size=0)


def test_a_key_closes_once_all_its_announced_tweets_arrived_in_any_order() -> None:
    from chirpflow.operators.chunking import ChunkBuffer
    from tests.factories import T0, tweet

    buf = ChunkBuffer(key="job:x", max_size=100)
    tweets = [tweet(i, watch="job:x") for i in range(5)]
    tweets[1] = tweet(1, watch="job:x", key_total=5)  # the last page's tweet arrives early
    out = [buf.add(t, T0) for t in tweets]
    assert out[:4] == [None] * 4
    assert out[4] is not None and len(out[4].tweets) == 5
