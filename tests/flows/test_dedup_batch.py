"""The dedup step's per-batch work: keys, shard groups and outcomes as the per-tweet rules say."""

from __future__ import annotations

from datetime import timedelta

from chirpflow.flows.steps.dedup import DEAD, DedupLogic, _shard_names, dedup_keys, split_by_shard
from chirpflow.model import DeadLetter, Duplicate, Tweet, dedup_key
from chirpflow.model import DeadLetterReason as R
from tests.factories import T0, tweet

SHARDS = 4


def _dead(n: int) -> DeadLetter:
    return DeadLetter(f"test:0:{n}", "test", R.MALFORMED_JSON, "bad", "{", None, T0)


def _mixed() -> list[Tweet]:
    """Every kind of key: store id known or not, a job's tweet, another platform's post."""
    return [
        tweet(1, store_id=1_800_000_000_000_000_001),
        tweet(2),  # store id unknown: from the id
        tweet(3, store_id=1_800_000_000_000_000_003, watch="0"),  # a Kafka message key
        tweet(4, store_id=1_800_000_000_000_000_004, watch="job:abc"),  # per job
        tweet(5, platform="bluesky", link="https://bsky.app/x"),  # hashed id
    ]


def test_dedup_keys_are_dedup_key_of_each_tweet() -> None:
    plain = [tweet(i, store_id=1_800_000_000_000_000_000 + i, watch="0") for i in range(50)]
    assert dedup_keys(plain) == [dedup_key(t) for t in plain]
    tweets = _mixed()
    assert dedup_keys(tweets) == [dedup_key(t) for t in tweets]
    for t in tweets:  # each kind alone, and next to plain stream tweets
        assert dedup_keys([t]) == [dedup_key(t)]
        assert dedup_keys([*plain[:3], t]) == [dedup_key(x) for x in [*plain[:3], t]]
    assert dedup_keys([]) == []


def test_split_by_shard_groups_by_key_in_order_with_dead_letters_apart() -> None:
    items: list[Tweet | DeadLetter] = [_dead(0), *_mixed(), _dead(1)]
    items += [tweet(i, store_id=1_800_000_000_000_000_000 + i) for i in range(10, 30)]
    groups = dict(split_by_shard(items, SHARDS))
    names = _shard_names(SHARDS)
    expected: dict[str, list[Tweet | DeadLetter]] = {}
    for item in items:
        key = names[dedup_key(item) % SHARDS] if isinstance(item, Tweet) else DEAD
        expected.setdefault(key, []).append(item)
    assert groups == expected


def test_a_batch_of_new_tweets_passes_whole_and_repeats_become_duplicates() -> None:
    logic = DedupLogic(timedelta(days=7), None, SHARDS)
    first = [tweet(i, store_id=1_800_000_000_000_000_000 + i, watch="0") for i in range(20)]
    (out,), _ = logic.on_batch([list(first)])
    assert out == first
    again: list[Tweet | DeadLetter] = [first[3], tweet(99), _dead(7), first[3]]
    (out,), _ = logic.on_batch([again])
    t = first[3]
    dup = Duplicate(t.origin, t.id, t.source, t.fetched_at)
    assert out == [dup, again[1], again[2], dup]
    # a job's tweet is new once per job, even when the stream saw its id
    job = tweet(3, store_id=1_800_000_000_000_000_003, watch="job:j1")
    outs, _ = logic.on_batch([[job], [job]])
    assert [[type(x) for x in batch] for batch in outs] == [[Tweet], [Duplicate]]
