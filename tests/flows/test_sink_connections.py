"""A job leaves no PostgreSQL connection open: every sink partition's writer
and the stored-results cache are closed when the job ends."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import psycopg

from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for


def _others(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT left(query, 60) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [str(r[0]) for r in rows]


def _wait_closed(url: str, deadline_s: float = 10.0) -> list[str]:
    """Open connections of others, once closed ones have left (a backend exits
    a moment after its client closes)."""
    end = time.monotonic() + deadline_s
    left = _others(url)
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = _others(url)
    return left


def test_no_connection_is_left_open_after_a_run(tmp_path: Path, pg_url: str) -> None:
    cfg = settings_from_dict(
        {
            "pipeline": {"chunk_size": 50, "snapshot_interval": "1s"},
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "analyzer": {"kind": "auto", "model": "gpt-test", "max_in_flight": 4},
            "sinks": {"console": False},
        }
    )
    with running(FakeLLM()) as (_fake, url):
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        for _ in range(2):
            run_job(cfg, env, limit=2000, recovery=False, live=False)
            assert _wait_closed(pg_url) == []
