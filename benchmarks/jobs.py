"""On-demand jobs: 100 accounts analysed at once through the fake LLM (15 s per chunk)."""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.remote_fake import remote_fake
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.job import run_job
from chirpflow.settings import Environment, settings_from_dict
from tests.fakes import twitterapi_io_server

JOBS = 100
ACTIVE = 10
LATENCY_S = 15.0
IN_FLIGHT = 64


def jobs(n: int, url: str | None) -> dict[str, Any]:
    """``n`` tweets in all: 100 jobs of n/100 tweets (1,000 each at the default 100k)."""
    assert url
    per_job = max(100, min(1000, n // JOBS))
    migrate(url)
    fake = twitterapi_io_server.FakeTwitterApiIo(per_s=100_000)
    for j in range(JOBS):
        fake.store.post(f"acct{j}", f"account {j} says", per_job)
    store = JobStore(url)
    ids = [store.create(f"acct{j}", per_job, False, None)["id"] for j in range(JOBS)]
    with (
        tempfile.TemporaryDirectory() as home,
        remote_fake(latency_s=LATENCY_S) as (_, llm),
        twitterapi_io_server.running(fake) as (fake, api),
    ):
        os.environ["TWITTERAPI_IO_KEY"] = fake.key
        cfg = settings_from_dict(
            {
                "pipeline": {"max_wait": "5s"},
                "analyzer": {"kind": "llm", "model": "bench-model", "max_in_flight": IN_FLIGHT},
                "sources": [],
                "sinks": {"console": False},
                "jobs": {
                    "enabled": True,
                    "provider": "twitterapi_io",
                    "base_url": api,
                    "max_active": ACTIVE,
                },
            }
        )
        env = Environment(url, None, None, "sk-test", llm, Path(home))
        started = time.perf_counter()
        run_job(cfg, env, recovery=False, live=False, jobs_until_idle=True)
        elapsed = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, extract(epoch FROM started_at - created_at)::float8"
            " FROM analysis_jobs WHERE id = ANY(%s)",
            (ids,),
        ).fetchall()
    store.close()
    chunks = JOBS * math.ceil(per_job / 100)
    # today's design: each of 10 users' jobs sends one chunk at a time
    one_at_a_time = JOBS / ACTIVE * math.ceil(per_job / 100) * LATENCY_S
    # the ideal with this many requests in flight (and N users feeding them)
    ideal = math.ceil(chunks / min(IN_FLIGHT, ACTIVE * math.ceil(per_job / 100))) * LATENCY_S
    return {
        "tweets": JOBS * per_job,
        "jobs": JOBS,
        "tweets_per_job": per_job,
        "completed": sum(1 for s, _ in rows if s == "completed"),
        "seconds": elapsed,
        "tweets_per_s": JOBS * per_job / elapsed,
        "longest_queue_wait_s": max(w for _, w in rows),
        "ideal_s": ideal,
        "vs_ideal": ideal / elapsed,
        "one_chunk_at_a_time_10_users_s": one_at_a_time,
        "speedup_vs_one_chunk_at_a_time": one_at_a_time / elapsed,
    }
