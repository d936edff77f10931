"""Replays free without Redis: stored analyses answer before the LLM is called."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for, write_jsonl


def test_a_replay_without_redis_makes_no_llm_calls(tmp_path: Path, pg_url: str) -> None:
    cfg = settings_from_dict(
        {
            "pipeline": {"chunk_size": 50, "snapshot_interval": "1s"},
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "analyzer": {"kind": "auto", "model": "gpt-test", "max_in_flight": 2},
            "sinks": {"console": False},
        }
    )
    lines = [payload(i, text=f"great launch number {i} #ai") for i in range(300)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    with running(FakeLLM()) as (fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        assert env.redis_url is None
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
        first = len(fake.requests)
        assert first == 6  # 300 tweets in chunks of 50
        # a new process (a fresh in-process cache) replays the same tweets
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
        assert len(fake.requests) == first  # every text answered by the store
    stats = store_stats(pg_url)
    assert stats["analyzed"] == 300 and stats["cache_hits"] == 300
