"""A trickle of tweets still gets analysed within max_wait of a chunk's first tweet."""

from __future__ import annotations

from pathlib import Path

import psycopg

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.flows.helpers import env_for


def test_partial_chunks_flush_by_deadline_not_by_inactivity(tmp_path: Path, pg_url: str) -> None:
    cfg = settings_from_dict(
        {
            "pipeline": {"max_wait": "1s", "snapshot_interval": "200ms", "chunk_size": 100},
            "sources": [{"name": "trickle", "type": "synthetic", "rate": 40}],
            "sinks": {"console": False},
        }
    )
    # 40 tweets/s with chunks of 100: only the 1 s deadline can close chunks
    run_job(cfg, env_for(tmp_path, pg_url), limit=160, recovery=False, live=False)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT size, extract(epoch FROM analyzed_at - opened_at) FROM chunks ORDER BY seq"
        ).fetchall()
    sizes = [r[0] for r in rows]
    waits = [float(r[1]) for r in rows]
    assert sum(sizes) == store_stats(pg_url)["analyzed"]
    assert len(rows) >= 3 and max(sizes) < 100
    # each chunk closed about max_wait after its first tweet (the last one by EOF earlier)
    assert all(w < 1.0 + 0.75 for w in waits), waits
    assert sorted(waits)[len(waits) // 2] >= 0.9, waits
