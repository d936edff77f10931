"""An on-demand job under the no-op analyzer finishes, and its results say "not analysed"."""

from __future__ import annotations

from pathlib import Path

import pytest

from chirpflow.connectors.postgres.dashboard import job_report
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.fakes import twitterapi_io_server
from tests.flows.helpers import env_for, scalar


def test_a_noop_job_completes_with_its_tweets_not_analysed(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo()
    fake.store.user("alice")
    fake.store.post("alice", "tweet by alice", 130)
    migrate(pg_url)
    store = JobStore(pg_url)
    try:
        job_id = store.create("alice", 200, False, None)["id"]
        with twitterapi_io_server.running(fake) as (fake, url):
            monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
            cfg = settings_from_dict(
                {
                    "pipeline": {"max_wait": "1s", "snapshot_interval": "1s"},
                    "analyzer": {"kind": "noop"},
                    "sources": [],
                    "sinks": {"console": False},
                    "jobs": {"enabled": True, "provider": "twitterapi_io", "base_url": url},
                }
            )
            run_job(
                cfg, env_for(tmp_path, pg_url), recovery=False, live=False, jobs_until_idle=True
            )
        job = store.get(job_id)
        assert job is not None
        assert (job["status"], job["total_tweets"], job["processed_tweets"]) == (
            "completed",
            130,
            130,
        ), job
        res = store.results(job_id, 0, 1000)
        assert res["total"] == 130 and res["aggregates"]["not_analysed"] == 130
        assert res["aggregates"]["sentiment"] == {}
        assert all(t["analysed"] is False and t["sentiment"] is None for t in res["tweets"])
        assert all(t["text"].startswith("tweet by alice") for t in res["tweets"])
        assert scalar(pg_url, "SELECT count(*) FROM analyses") == 0
        assert scalar(pg_url, "SELECT count(*) FROM tweets") == 130
        report = job_report(pg_url, job_id)  # the dashboard's jobs tab
        assert (report["not_analysed"], report["sentiment"]) == (130, {})
    finally:
        store.close()
