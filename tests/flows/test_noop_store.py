"""The no-op analyzer through the real flow: tweets and chunk rows stored, no
placeholder analyses, every tweet accounted for as "stored (not analysed)"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from chirpflow.connectors.postgres.results import TweetFilter, list_tweets
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.flows.job import run_job
from chirpflow.flows.stats_table import render_stats
from chirpflow.settings import Settings, settings_from_dict
from tests.flows.helpers import env_for, scalar


def _noop(**pipeline: Any) -> Settings:
    return settings_from_dict(
        {
            "pipeline": {"snapshot_interval": "1s", "max_wait": "30s", **pipeline},
            "analyzer": {"kind": "noop"},
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "sinks": {"console": False},
        }
    )


def test_noop_stores_tweets_and_chunks_without_analyses_and_loses_none(
    tmp_path: Path, pg_url: str
) -> None:
    n = 2000
    summary = run_job(_noop(), env_for(tmp_path, pg_url), limit=n, recovery=False, live=False)
    gen = SyntheticTweets(seed=42, duplicate_ratio=0.1)
    dups = sum(gen.is_duplicate(i) for i in range(n))
    kept = n - dups
    assert scalar(pg_url, "SELECT count(*) FROM tweets") == kept
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 0
    assert scalar(pg_url, "SELECT sum(size) FROM chunks") == kept
    assert scalar(pg_url, "SELECT count(*) FROM tweets WHERE chunk_id IS NULL") == 0
    assert scalar(pg_url, "SELECT count(*) FROM llm_spend") == 0  # nothing was spent
    # the store accounts for every tweet: stored (not analysed), duplicate or dead
    stats = store_stats(pg_url)
    assert (stats["tweets_ingested"], stats["analyzed"]) == (n, 0)
    assert stats["stored_not_analysed"] == kept
    assert stats["tweets_ingested"] == (
        stats["analyzed"]
        + stats["stored_not_analysed"]
        + stats["duplicates"]
        + stats["dead_letters"]
    ), stats
    shown = Console(record=True, width=120)
    render_stats(stats, shown)  # ``chirpflow stats``
    (row,) = [x for x in shown.export_text().splitlines() if "stored (not analysed)" in x]
    assert row.split()[-2:] == [f"{kept:,}", f"({100 * kept / n:.1f}%)"], row
    # so does the run's summary, and its line says so
    assert (summary.arrivals, summary.analyzed, summary.duplicates) == (n, 0, dups)
    assert summary.stored_unanalysed == kept
    assert f"stored (not analysed) {kept:,}" in summary.line()
    # the results still list the tweets, with empty analysis fields
    rows = list_tweets(pg_url, TweetFilter(), limit=5)
    assert len(rows) == 5
    assert all(r["sentiment"] is None and r["risk"] is None for r in rows), rows
    assert all(r["flags"] == [] and r["topics"] == [] for r in rows), rows
