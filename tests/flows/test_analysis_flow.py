"""The whole flow, source to PostgreSQL rows, on real services."""

from __future__ import annotations

from pathlib import Path

import orjson

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.flows.job import run_job
from tests.factories import payload
from tests.flows.helpers import env_for, scalar, settings, write_jsonl


def _assert_invariant(stats: dict[str, int]) -> None:
    assert stats["tweets_ingested"] == (
        stats["analyzed"]
        + stats["stored_not_analysed"]  # 0 here: only the noop analyzer leaves such tweets
        + stats["duplicates"]
        + stats["dead_letters"]
    ), stats
    assert stats["stored_not_analysed"] == 0


def test_jsonl_good_bad_and_duplicate_lines_all_accounted_for(tmp_path: Path, pg_url: str) -> None:
    good = [payload(i, text=f"I love this launch #{i} https://t.co/x") for i in range(250)]
    lines: list[object] = [*good]
    lines += [payload(3), payload(7)]  # duplicates by id
    lines += [b'{"id": "1", "text": ', b"\xff\xfe", orjson.dumps({"text": "no id"})]
    lines += [payload(900, text="RT @brand: I love this launch #1 https://t.co/x")]
    path = write_jsonl(tmp_path / "in.jsonl", lines)

    summary = run_job(
        settings(chunk_size=100),
        env_for(tmp_path, pg_url),
        source_spec=f"jsonl:{path}",
        recovery=False,
        live=False,
    )
    stats = store_stats(pg_url)
    assert stats["tweets_ingested"] == len(lines) == summary.arrivals
    assert stats["analyzed"] == 251
    assert stats["duplicates"] == 2
    assert stats["dead_letters"] == 3
    assert set(stats["dead_letters_by_reason"]) == {
        "malformed_json",
        "invalid_utf8",
        "missing_field",
    }
    assert stats["chunks"] == 3  # 100 + 100 + 51, the last flushed at EOF
    _assert_invariant(stats)
    assert scalar(pg_url, "SELECT max(size) FROM chunks") == 100
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 251
    # the retweet reuses the analysis of the text it repeats
    sentiments = scalar(
        pg_url,
        "SELECT count(DISTINCT sentiment_score) FROM analyses WHERE tweet_id IN "
        f"({int(payload(1)['id'])}, {int(payload(900)['id'])})",
    )
    assert sentiments == 1


def test_rerunning_the_same_input_duplicates_no_rows(tmp_path: Path, pg_url: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [payload(i) for i in range(120)] + [b"oops"])
    for _ in range(2):
        run_job(
            settings(),
            env_for(tmp_path, pg_url),
            source_spec=f"jsonl:{path}",
            recovery=False,
            live=False,
        )
    stats = store_stats(pg_url)
    assert (stats["tweets_ingested"], stats["analyzed"], stats["dead_letters"]) == (121, 120, 1)
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 120
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == 120


def test_synthetic_limit_counts_expected_duplicates(tmp_path: Path, pg_url: str) -> None:
    n = 5000
    summary = run_job(settings(), env_for(tmp_path, pg_url), limit=n, recovery=False, live=False)
    gen = SyntheticTweets(seed=42, duplicate_ratio=0.1)
    expected_dups = sum(gen.is_duplicate(i) for i in range(n))
    stats = store_stats(pg_url)
    assert stats["tweets_ingested"] == n == summary.arrivals
    assert stats["duplicates"] == expected_dups
    assert stats["dead_letters"] == 0
    assert stats["analyzed"] == n - expected_dups
    assert stats["flagged"] > 0
    _assert_invariant(stats)


def test_redis_dedup_gives_the_same_answer(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    n = 3000
    run_job(settings(), env_for(tmp_path, pg_url, redis_url), limit=n, recovery=False, live=False)
    gen = SyntheticTweets(seed=42, duplicate_ratio=0.1)
    stats = store_stats(pg_url)
    assert stats["duplicates"] == sum(gen.is_duplicate(i) for i in range(n))
    _assert_invariant(stats)


def test_recovery_resumes_where_the_last_run_stopped(tmp_path: Path, pg_url: str) -> None:
    env = env_for(tmp_path, pg_url)
    run_job(settings(), env, limit=2000, recovery=True, live=False)
    run_job(settings(), env, limit=1500, recovery=True, live=False)
    stats = store_stats(pg_url)
    gen = SyntheticTweets(seed=42, duplicate_ratio=0.1)
    assert stats["tweets_ingested"] == 3500
    assert stats["duplicates"] == sum(gen.is_duplicate(i) for i in range(3500))
    _assert_invariant(stats)
