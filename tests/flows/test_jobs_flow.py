"""On-demand jobs end to end: queue -> fake TwitterAPI.io -> analysis -> results and progress."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from chirpflow.settings import settings_from_dict
from connectors.postgres.jobs import JobStore
from connectors.postgres.migrate import migrate
from flows.job import run_job
from tests.fakes import twitterapi_io_server
from tests.flows.helpers import env_for


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def test_jobs_complete_first_in_first_out_at_most_n_at_once(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo()
    sizes = {"alice": 250, "bob": 40, "carol": 130, "dave": 0, "erin": 90}
    for name, n in sizes.items():
        fake.store.user(name)
        if n:
            fake.store.post(name, f"tweet by {name}", n)
    migrate(pg_url)
    store = JobStore(pg_url)
    asked = {"alice": 200, "bob": 100, "carol": 130, "dave": 50, "erin": 1000}
    ids = {name: store.create(name, n, False, None)["id"] for name, n in asked.items()}
    with twitterapi_io_server.running(fake) as (fake, url):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
        cfg = settings_from_dict({
            "pipeline": {"max_wait": "1s", "snapshot_interval": "1s"},
            "analyzer": {"kind": "offline"},
            "sources": [],
            "sinks": {"console": False},
            "jobs": {"enabled": True, "provider": "twitterapi_io", "base_url": url,
                     "max_active": 2},
        })  # fmt: skip
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False, jobs_until_idle=True)
    rows = {r["id"]: r for r in store.list_jobs(limit=100)}
    for name, job_id in ids.items():
        r = rows[job_id]
        expected = min(asked[name], sizes[name])
        assert r["status"] == "completed", (name, r)
        assert r["total_tweets"] == r["processed_tweets"] == expected, (name, r)
        res = store.results(job_id, 0, 10_000)
        assert res["total"] == expected and len({t["tweet_id"] for t in res["tweets"]}) == expected
        assert all(t["text"].startswith(f"tweet by {name}") for t in res["tweets"])
    starts = [rows[ids[n]]["started_at"] for n in asked]
    assert starts == sorted(starts)  # first in, first out
    spans = [(rows[i]["started_at"].timestamp(), rows[i]["completed_at"].timestamp())
             for i in ids.values()]  # fmt: skip
    assert _max_overlap(spans) <= 2
    # bob's small job started with alice's big one and was not held behind it
    assert rows[ids["bob"]]["completed_at"] <= rows[ids["alice"]]["completed_at"]
    with psycopg.connect(pg_url) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM chunks ORDER BY analyzed_at")]
    assert set(keys) == {f"job:{i}" for n, i in ids.items() if min(asked[n], sizes[n])}
    store.close()
