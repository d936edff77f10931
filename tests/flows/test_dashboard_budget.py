"""Dashboard routes spend the same per-key request budget as the jobs API, and the
page polls well inside the default budget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings


@pytest.fixture
def store(pg_url: str) -> Iterator[JobStore]:
    migrate(pg_url)
    s = JobStore(pg_url)
    yield s
    s.close()


def test_dashboard_requests_count_against_the_jobs_api_budget(store: JobStore) -> None:
    store.workers.beat("w")
    api = TestClient(create_app(store, JobSettings(requests_per_minute_per_key=4)))
    auth = {"X-API-Key": store.keys.create("a")}
    codes = [
        api.get("/v1/jobs", headers=auth).status_code,
        api.get("/ui/api/overview", headers=auth).status_code,
        api.get("/ui/api/tweets", headers=auth).status_code,
        api.get("/ui/api/dead-letters", headers=auth).status_code,
    ]
    assert codes == [200] * 4
    late = api.get("/ui/api/jobs", headers=auth)
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
    assert api.get("/v1/jobs", headers=auth).status_code == 429  # one budget for both
    other = {"X-API-Key": store.keys.create("b")}  # another key has its own
    assert api.get("/ui/api/overview", headers=other).status_code == 200
    assert api.get("/ui/static/app.js").status_code == 200  # the page itself costs nothing


def test_the_dashboard_budget_is_shared_by_replicas_through_redis(
    store: JobStore, redis_url: str
) -> None:
    cfg = JobSettings(requests_per_minute_per_key=3)
    one, two = (TestClient(create_app(store, cfg, redis_url=redis_url)) for _ in range(2))
    auth = {"X-API-Key": store.keys.create("a")}
    codes = [
        (one if i % 2 else two).get("/ui/api/jobs", headers=auth).status_code for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_the_page_polls_well_inside_the_default_budget() -> None:
    js = resources.files("chirpflow.flows.ui").joinpath("static", "app.js").read_text()
    poll_ms = int(re.search(r"const POLL_MS = (\d+);", js).group(1))  # type: ignore[union-attr]
    per_minute = 60_000 / poll_ms  # one request per refresh on every polled tab
    assert per_minute * 10 <= JobSettings().requests_per_minute_per_key, poll_ms
