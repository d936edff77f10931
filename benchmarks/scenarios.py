"""Benchmark scenarios; each runs in its own process so peak RSS is its own.

``python -m benchmarks.scenarios NAME N [DATABASE_URL]`` prints one JSON object.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.export import export
from benchmarks.jobs import jobs
from benchmarks.kafka import cluster, ingest, kafka_pipeline
from benchmarks.llm import llm_2s, llm_15s
from benchmarks.memory import offline_memory, offline_memory_10x
from benchmarks.sinks import notify, pg_sink
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.connectors.sources.synthetic_reader import SyntheticReader
from chirpflow.model import Tweet
from chirpflow.operators.normalize import normalize
from chirpflow.operators.offline import OfflineAnalyzer
from chirpflow.settings import Environment, settings_from_dict

BATCH = 1000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def source_alone(n: int, _url: str | None) -> dict[str, Any]:
    """Synthetic reader plus validation: what the flow cannot go faster than."""
    reader = SyntheticReader("synthetic", SyntheticTweets(seed=42))
    started = time.perf_counter()
    pos = 0
    valid = 0
    while pos < n:
        result = reader.read(pos, min(BATCH, n - pos))
        pos = result.position
        valid += sum(1 for r in result.records if isinstance(normalize(r), Tweet))
    elapsed = time.perf_counter() - started
    return {"tweets": n, "valid": valid, "seconds": elapsed, "tweets_per_s": n / elapsed}


def analyzer_alone(n: int, _url: str | None) -> dict[str, Any]:
    """The offline analyzer over chunks of 100, with no flow around it.

    Tweets are made 10,000 at a time outside the timed part, so memory stays flat.
    """
    reader = SyntheticReader("synthetic", SyntheticTweets(seed=42))
    analyzer = OfflineAnalyzer(settings_from_dict({}).analyzer.risk_keywords)
    elapsed = 0.0
    analysed = 0
    pos = 0
    while pos < n:
        tweets: list[Tweet] = []
        block_end = min(n, pos + 10_000)
        while pos < block_end:
            result = reader.read(pos, min(BATCH, block_end - pos))
            pos = result.position
            tweets.extend(t for t in map(normalize, result.records) if isinstance(t, Tweet))
        started = time.perf_counter()
        for i in range(0, len(tweets), 100):
            analyzer.analyze(tweets[i : i + 100])
        elapsed += time.perf_counter() - started
        analysed += len(tweets)
    return {"tweets": analysed, "seconds": elapsed, "tweets_per_s": analysed / elapsed}


def _pipeline(kind: str, n: int, url: str | None) -> dict[str, Any]:
    from chirpflow.flows.job import run_job

    assert url, "pipeline scenarios need a database URL"
    with tempfile.TemporaryDirectory() as home:
        env = Environment(url, None, None, None, None, Path(home))
        cfg = settings_from_dict(
            {
                "analyzer": {"kind": kind},
                "sinks": {"console": False},
                "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            }
        )
        started = time.perf_counter()
        summary = run_job(cfg, env, limit=n, recovery=True, live=False)
        elapsed = time.perf_counter() - started
    return {
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "duplicates": summary.duplicates,
        "seconds": elapsed,
        "tweets_per_s": summary.arrivals / elapsed,
    }


def pipeline_noop(n: int, url: str | None) -> dict[str, Any]:
    return _pipeline("noop", n, url)


def pipeline_offline(n: int, url: str | None) -> dict[str, Any]:
    return _pipeline("offline", n, url)


def dedup_state(n: int, _url: str | None) -> dict[str, Any]:
    """10 x ``n`` ids (10M by default) through the compact dedup set and the old one."""
    from benchmarks.dedup import main

    out: dict[str, Any] = main(10 * n)
    out["tweets_per_s"] = 1e6 / out["add_us_per_id"]
    return out


SCENARIOS: dict[str, Callable[[int, str | None], dict[str, Any]]] = {
    "source_alone": source_alone,
    "analyzer_alone": analyzer_alone,
    "pipeline_noop": pipeline_noop,
    "pipeline_offline": pipeline_offline,
    "llm_2s": llm_2s,
    "llm_15s": llm_15s,
    "pg_sink": pg_sink,
    "ingest": ingest,
    "kafka_pipeline": kafka_pipeline,
    "cluster": cluster,
    "jobs": jobs,
    "notify": notify,
    "export": export,
    "dedup_state": dedup_state,
    "offline_memory": offline_memory,
    "offline_memory_10x": offline_memory_10x,
}


if __name__ == "__main__":
    name, count = sys.argv[1], int(sys.argv[2])
    db = sys.argv[3] if len(sys.argv) > 3 else None
    out = SCENARIOS[name](count, db)
    out["peak_rss_mb"] = _peak_rss_mb()
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
