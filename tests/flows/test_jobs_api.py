"""The jobs REST API against a real PostgreSQL: auth, validation, lifecycle, rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings


@pytest.fixture
def api(pg_url: str) -> Iterator[tuple[TestClient, dict[str, str], JobStore]]:
    migrate(pg_url)
    store = JobStore(pg_url)
    key = store.create_key("tests")
    store.workers.beat("test-worker")  # a job worker runs (else submissions are a 503)
    cfg = JobSettings(requests_per_minute_per_key=30, max_tweets_limit=3200)
    client = TestClient(create_app(store, cfg, poll_s=0.05))
    yield client, {"Authorization": f"Bearer {key}"}, store
    store.close()


def test_requests_without_a_valid_key_are_refused(
    api: tuple[TestClient, dict[str, str], JobStore],
) -> None:
    client, _, store = api
    assert client.get("/v1/jobs").status_code == 401
    assert client.get("/v1/jobs", headers={"X-API-Key": "cf_wrong"}).status_code == 401
    assert store.key_id("cf_wrong") is None


def test_submit_get_list_cancel(api: tuple[TestClient, dict[str, str], JobStore]) -> None:
    client, auth, _ = api
    made = client.post("/v1/jobs", json={"username": "@jack", "max_tweets": 500}, headers=auth)
    assert made.status_code == 201, made.text
    job = made.json()
    assert (job["status"], job["username"], job["max_tweets"]) == ("queued", "jack", 500)
    assert client.get(f"/v1/jobs/{job['id']}", headers=auth).json()["id"] == job["id"]
    listed = client.get("/v1/jobs", params={"status": "queued"}, headers=auth).json()
    assert job["id"] in [j["id"] for j in listed]
    cancelled = client.delete(f"/v1/jobs/{job['id']}", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/v1/jobs/{job['id']}", headers=auth).status_code == 409
    events = client.get(f"/v1/jobs/{job['id']}/events", headers=auth)
    assert "event: end" in events.text and '"status":"cancelled"' in events.text
    assert client.get("/v1/jobs/nope", headers=auth).status_code == 404
    results = client.get(f"/v1/jobs/{job['id']}/results", headers=auth).json()
    assert results["total"] == 0 and results["tweets"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"username": "not a handle!", "max_tweets": 10},
        {"username": "jack", "max_tweets": 0},
        {"username": "jack", "max_tweets": 5000},  # over the configured limit
        {"username": "jack", "max_tweets": "many"},
        {"username": "jack", "unknown": 1},
        {},
    ],
)
def test_bad_input_is_a_clear_422(
    api: tuple[TestClient, dict[str, str], JobStore], body: dict[str, object]
) -> None:
    client, auth, _ = api
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 422
    assert resp.json()["detail"]


def test_each_key_has_a_request_budget(api: tuple[TestClient, dict[str, str], JobStore]) -> None:
    client, auth, _ = api
    codes = [client.get("/v1/jobs", headers=auth).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    assert int(client.get("/v1/jobs", headers=auth).headers["retry-after"]) >= 1


def test_the_openapi_document_describes_every_route(
    api: tuple[TestClient, dict[str, str], JobStore],
) -> None:
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/results",
        "/v1/jobs/{job_id}/events",
    } <= set(paths)
    assert client.get("/docs").status_code == 200


def test_events_stream_progress_live_until_the_job_ends(
    api: tuple[TestClient, dict[str, str], JobStore],
) -> None:
    import threading
    import time

    client, auth, store = api
    job = client.post("/v1/jobs", json={"username": "live", "max_tweets": 300}, headers=auth)
    job_id = job.json()["id"]

    def work() -> None:  # what a runner does, step by step
        time.sleep(0.3)
        store.claim(10)
        for n in (100, 200):
            time.sleep(0.3)
            store.fetched(job_id, n, False)
        time.sleep(0.3)
        store.finish(job_id, "failed", "provider said no")

    worker = threading.Thread(target=work)
    worker.start()
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=auth) as resp:
        text = "".join(resp.iter_text())
    worker.join()
    events = [block for block in text.split("\n\n") if block.strip()]
    kinds = [e.splitlines()[0].removeprefix("event: ") for e in events]
    assert kinds[-1] == "end" and kinds.count("progress") >= 4  # queued, fetching, 100, 200...
    assert '"fetched_tweets":200' in text and '"error":"provider said no"' in text
