"""Peak memory of the offline path: synthetic source -> ... -> offline analyzer, sinks off.

No PostgreSQL, no console: what the job itself holds. The dedup window is the
default 7 days, so every id stays remembered; the expected dedup state is
``tweets x ~10 bytes`` (see benchmarks/dedup.py), the rest should be flat.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from chirpflow.settings import Environment, settings_from_dict

WINDOW = "7d"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def offline_memory(n: int, _url: str | None = None) -> dict[str, Any]:
    from chirpflow.flows.job import run_job

    start_rss = _rss_mb()
    with tempfile.TemporaryDirectory() as home:
        env = Environment(None, None, None, None, None, Path(home))
        cfg = settings_from_dict(
            {
                "pipeline": {"dedup_window": WINDOW},
                "analyzer": {"kind": "offline"},
                "sinks": {"console": False, "postgres": False},
                "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            }
        )
        started = time.perf_counter()
        summary = run_job(cfg, env, limit=n, recovery=True, live=False)
        elapsed = time.perf_counter() - started
    return {
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "dedup_window": WINDOW,
        "source_rate": "unpaced (rate = 0)",
        "seconds": elapsed,
        "tweets_per_s": summary.arrivals / elapsed,
        "rss_before_mb": start_rss,
        "expected_dedup_state_mb": summary.arrivals * 10 / 2**20,
    }


def offline_memory_10x(n: int, url: str | None = None) -> dict[str, Any]:
    return offline_memory(10 * n, url)
