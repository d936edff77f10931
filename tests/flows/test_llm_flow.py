"""The flow with the LLM analyzer: chunks in flight, every tweet accounted for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for, scalar


def _cfg(max_in_flight: int) -> object:
    return settings_from_dict(
        {
            "pipeline": {"chunk_size": 50, "snapshot_interval": "1s"},
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "analyzer": {"kind": "auto", "model": "gpt-test", "max_in_flight": max_in_flight},
            "sinks": {"console": False},
        }
    )


def test_chunks_run_concurrently_up_to_the_limit(tmp_path: Path, pg_url: str) -> None:
    with running(FakeLLM(latency_s=0.3)) as (fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        run_job(_cfg(4), env, limit=1000, recovery=False, live=False)  # type: ignore[arg-type]
    stats = store_stats(pg_url)
    assert stats["tweets_ingested"] == 1000
    assert stats["analyzed"] + stats["duplicates"] + stats["dead_letters"] == 1000
    assert stats["dead_letters"] == 0
    assert 2 <= fake.max_in_flight <= 4  # concurrent, and never past the limit
    assert stats["llm_prompt_tokens"] == fake.prompt_tokens
    assert stats["llm_cost_usd"] > 0
    assert scalar(pg_url, "SELECT count(DISTINCT analyzer) FROM analyses") == 1
    assert scalar(pg_url, "SELECT min(model) FROM chunks") == "gpt-test"


def test_bad_answers_end_analysed_or_dead_lettered(tmp_path: Path, pg_url: str) -> None:
    fake = FakeLLM().then("malformed", "missing", "500", "duplicate", "unknown", "truncated")
    fake.then(*["refusal"] * 3)
    with running(fake) as (fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        run_job(_cfg(1), env, limit=600, recovery=False, live=False)  # type: ignore[arg-type]
    stats = store_stats(pg_url)
    assert stats["tweets_ingested"] == 600
    assert stats["analyzed"] + stats["duplicates"] + stats["dead_letters"] == 600
    assert set(stats["dead_letters_by_reason"]) <= {"analyzer_failed"}


def test_a_replay_of_analysed_tweets_makes_no_llm_calls(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    from tests.factories import payload
    from tests.flows.helpers import write_jsonl

    lines = [payload(i, text=f"great launch number {i} #ai") for i in range(300)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    with running(FakeLLM()) as (fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url, redis_url), openai_api_key="sk-test", openai_base_url=url
        )
        cfg = _cfg(4)
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)  # type: ignore[arg-type]
        first = len(fake.requests)
        stats = store_stats(pg_url)
        assert first == stats["llm_requests"] == 6  # 300 tweets in chunks of 50
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)  # type: ignore[arg-type]
        assert len(fake.requests) == first  # the replay was served from the cache
    stats = store_stats(pg_url)
    assert stats["analyzed"] == 300 and stats["cache_hits"] == 300


def test_chunks_of_many_keys_stay_within_the_limit_per_process(tmp_path: Path, pg_url: str) -> None:
    from tests.factories import payload
    from tests.flows.helpers import write_jsonl

    # 40 authors: their chunks land in every spread partition of the analyze step
    lines = [payload(i, text=f"post {i}", author_id=str(1000 + i % 40)) for i in range(800)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    cfg = settings_from_dict(
        {
            "pipeline": {"chunk_size": 20, "chunk_key": "author", "max_wait": "1s"},
            "analyzer": {"kind": "auto", "model": "gpt-test", "max_in_flight": 2},
            "sinks": {"console": False},
        }
    )
    with running(FakeLLM(latency_s=0.2)) as (fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
    assert store_stats(pg_url)["analyzed"] == 800
    assert fake.max_in_flight == 2  # one bound for the process, not one per partition
