"""On-demand jobs end to end: queue -> fake TwitterAPI.io -> analysis -> results and progress."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.job import run_job
from chirpflow.settings import Settings, settings_from_dict
from tests.fakes import twitterapi_io_server
from tests.flows.helpers import env_for


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def _jobs_config(
    api_url: str, *, analyzer: str = "offline", max_wait: str = "1s", max_active: int = 10
) -> Settings:
    """Only on-demand jobs, fetched from the fake TwitterAPI.io at ``api_url``."""
    return settings_from_dict(
        {
            "pipeline": {"max_wait": max_wait, "snapshot_interval": "1s"},
            "analyzer": {"kind": analyzer, "model": "m"},
            "sources": [],
            "sinks": {"console": False},
            "jobs": {
                "enabled": True,
                "provider": "twitterapi_io",
                "base_url": api_url,
                "max_active": max_active,
            },
        }
    )


def test_jobs_complete_first_in_first_out_at_most_n_at_once(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(delay_s=0.03)  # pages take time, as real ones
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
        cfg = _jobs_config(url, max_active=2)
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
    spans = [
        (rows[i]["started_at"].timestamp(), rows[i]["completed_at"].timestamp())
        for i in ids.values()
    ]
    assert _max_overlap(spans) <= 2
    # bob's small job started with alice's big one and was not held behind it
    assert rows[ids["bob"]]["completed_at"] < rows[ids["alice"]]["completed_at"]
    with psycopg.connect(pg_url) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM chunks ORDER BY analyzed_at")]
    assert set(keys) == {f"job:{i}" for n, i in ids.items() if min(asked[n], sizes[n])}
    store.close()


CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


def _run_jobs(tmp_path: Path, pg_url: str, api_url: str, key: str) -> subprocess.Popen[str]:
    cfg = tmp_path / "jobs.toml"
    cfg.write_text(
        "sources = []\n[pipeline]\nmax_wait = '1s'\nsnapshot_interval = '300ms'\n"
        "[analyzer]\nkind = 'offline'\n"
        f"[jobs]\nenabled = true\nprovider = 'twitterapi_io'\nbase_url = '{api_url}'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(
        DATABASE_URL=pg_url,
        CHIRPFLOW_HOME=str(tmp_path / "home"),
        CHIRPFLOW_CONFIG=str(cfg),
        TWITTERAPI_IO_KEY=key,
    )
    return subprocess.Popen([*CLI, "run", "--quiet"], env=env, stderr=subprocess.PIPE, text=True)


def _wait(store: JobStore, job_id: str, until: Any, seen: list[int], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = store.get(job_id)
        assert row is not None
        seen.append(row["processed_tweets"])
        if until(row):
            return row
        time.sleep(0.05)
    raise AssertionError(f"job never got there: {store.get(job_id)}")


def test_a_job_survives_a_killed_runner_and_progress_never_goes_back(
    tmp_path: Path, pg_url: str
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(delay_s=0.12)
    fake.store.post("big", "long history", 600)
    migrate(pg_url)
    store = JobStore(pg_url)
    job_id = store.create("big", 600, False, None)["id"]
    seen: list[int] = []
    with twitterapi_io_server.running(fake) as (fake, url):
        proc = _run_jobs(tmp_path, pg_url, url, fake.key)
        _wait(store, job_id, lambda r: 100 <= r["processed_tweets"] < 600, seen)
        proc.kill()
        proc.communicate()
        proc = _run_jobs(tmp_path, pg_url, url, fake.key)  # a new pod, same queue
        try:
            row = _wait(store, job_id, lambda r: r["status"] == "completed", seen, timeout=120)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
    assert row["processed_tweets"] == row["total_tweets"] == 600
    assert seen == sorted(seen)  # progress never went backwards
    res = store.results(job_id, 0, 1000)
    assert res["total"] == 600 and len({t["tweet_id"] for t in res["tweets"]}) == 600
    with psycopg.connect(pg_url) as conn:
        sizes = conn.execute(
            "SELECT sum(size) FROM analysis_results WHERE job_id = %s", (job_id,)
        ).fetchone()
    assert sizes is not None and sizes[0] == 600  # resumed: no tweet analysed twice
    store.close()


def test_a_running_job_is_cancelled_within_one_chunk(tmp_path: Path, pg_url: str) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(delay_s=0.12)
    fake.store.post("slow", "many tweets", 1000)
    migrate(pg_url)
    store = JobStore(pg_url)
    job_id = store.create("slow", 1000, False, None)["id"]
    seen: list[int] = []
    with twitterapi_io_server.running(fake) as (fake, url):
        proc = _run_jobs(tmp_path, pg_url, url, fake.key)
        try:
            at_cancel = _wait(store, job_id, lambda r: r["processed_tweets"] >= 100, seen)
            store.cancel(job_id)
            row = _wait(store, job_id, lambda r: r["status"] == "cancelled", seen, timeout=10)
            time.sleep(2.5)  # what was already read finishes; nothing more is fetched
            final = store.get(job_id)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
    assert row["status"] == "cancelled" and final is not None
    assert final["processed_tweets"] <= at_cancel["fetched_tweets"] + 100 < 1000
    store.close()


def test_jobs_from_the_terminal_submit_and_watch(tmp_path: Path, pg_url: str) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo()
    fake.store.post("term", "from the terminal", 45)
    migrate(pg_url)
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"))
    bad = subprocess.run(
        [*CLI, "jobs", "submit", "not a user"], env=env, capture_output=True, text=True
    )
    assert bad.returncode != 0 and "not an X username" in bad.stderr
    out = subprocess.run(
        [*CLI, "jobs", "submit", "@term", "--max-tweets", "45"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    job_id = out.stdout.strip()
    with twitterapi_io_server.running(fake) as (fake, url):
        proc = _run_jobs(tmp_path, pg_url, url, fake.key)
        try:
            watched = subprocess.run(
                [*CLI, "jobs", "watch", job_id], env=env, capture_output=True, text=True, timeout=60
            )
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
    assert watched.returncode == 0, watched.stderr
    assert "completed: 45 tweets" in watched.stdout


def test_a_hundred_concurrent_submissions_all_complete_fifo_ten_at_a_time(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from chirpflow.flows.api import create_app
    from chirpflow.settings import JobSettings

    fake = twitterapi_io_server.FakeTwitterApiIo(delay_s=0.01, per_s=10_000)
    for i in range(100):
        fake.store.post(f"user{i}", f"hello from user{i}", 30)
    migrate(pg_url)
    store = JobStore(pg_url)
    key = store.create_key("load")
    store.workers.beat("load-test")  # the worker below starts after the submissions
    client = TestClient(create_app(store, JobSettings(requests_per_minute_per_key=1000)))

    def submit(i: int) -> str:
        resp = client.post(
            "/v1/jobs", json={"username": f"user{i}", "max_tweets": 30}, headers={"X-API-Key": key}
        )
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(submit, range(100)))
    with twitterapi_io_server.running(fake) as (fake, url):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
        cfg = _jobs_config(url, max_active=10)
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False, jobs_until_idle=True)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT id, status, processed_tweets, seq, started_at, completed_at"
            " FROM analysis_jobs WHERE id = ANY(%s) ORDER BY seq",
            (ids,),
        ).fetchall()
    assert len(rows) == 100
    assert all(r[1] == "completed" and r[2] == 30 for r in rows)
    starts = [r[4] for r in rows]
    assert starts == sorted(starts)  # started in submission order
    assert _max_overlap([(r[4].timestamp(), r[5].timestamp()) for r in rows]) <= 10
    store.close()


def test_a_job_through_the_fake_llm(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from tests.fakes import llm_server

    fake = twitterapi_io_server.FakeTwitterApiIo()
    for i in range(150):  # distinct words: the result cache folds digits together
        fake.store.post("llmuser", "analyse " + "".join(chr(97 + int(d)) for d in str(i)), 1)
    migrate(pg_url)
    store = JobStore(pg_url)
    job_id = store.create("llmuser", 150, False, None)["id"]
    llm = llm_server.FakeLLM(latency_s=0.2)
    with twitterapi_io_server.running(fake) as (fake, url), llm_server.running(llm) as (llm, base):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
        cfg = _jobs_config(url, analyzer="llm", max_wait="10s")
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key=llm.api_key, openai_base_url=base
        )
        run_job(cfg, env, recovery=False, live=False, jobs_until_idle=True)
    row = store.get(job_id)
    assert row is not None and row["status"] == "completed" and row["processed_tweets"] == 150
    res = store.results(job_id, 0, 50)
    assert res["total"] == 150 and len(res["tweets"]) == 50  # paginated
    assert len(res["chunks"]) == 2 and sum(res["aggregates"]["sentiment"].values()) == 150
    assert llm.ok_requests == 2  # one call per chunk of up to 100
    store.close()


def test_a_job_that_cannot_be_fetched_fails_with_the_reason(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(credits=0)  # 402 on every request
    migrate(pg_url)
    store = JobStore(pg_url)
    job_id = store.create("anyone", 100, False, None)["id"]
    with twitterapi_io_server.running(fake) as (fake, url):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
        cfg = _jobs_config(url)
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False, jobs_until_idle=True)
    row = store.get(job_id)
    assert row is not None and row["status"] == "failed"
    assert "402" in (row["error"] or "") and fake.statuses == [402]  # not retried
    store.close()


def test_api_key_create_prints_a_key_that_only_exists_hashed(tmp_path: Path, pg_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"))
    out = subprocess.run(
        [*CLI, "api-key", "create", "team-a"], env=env, capture_output=True, text=True, check=True
    )
    key = out.stdout.strip()
    assert key.startswith("cf_")
    store = JobStore(pg_url)
    assert store.key_id(key) is not None
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT key_hash FROM api_keys WHERE name = 'team-a'").fetchone()
    assert stored is not None and key not in stored[0]
    store.close()
