"""The jobs API keeps clients apart, refuses what it cannot do, and echoes little.

Real PostgreSQL (and Redis for the shared request budget); issue 13 item 4.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.errors import ConfigError
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings

Auth = dict[str, str]


@pytest.fixture
def store(pg_url: str) -> Iterator[JobStore]:
    migrate(pg_url)
    s = JobStore(pg_url)
    yield s
    s.close()


@pytest.fixture
def client(store: JobStore) -> TestClient:
    store.workers.beat("test-worker")  # a job worker is running
    cfg = JobSettings(requests_per_minute_per_key=1000)
    return TestClient(create_app(store, cfg, poll_s=0.02), raise_server_exceptions=False)


def _key(store: JobStore, name: str, admin: bool = False) -> Auth:
    return {"X-API-Key": store.keys.create(name, admin)}


def _submit(client: TestClient, auth: Auth, username: str = "jack") -> str:
    resp = client.post("/v1/jobs", json={"username": username, "max_tweets": 20}, headers=auth)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_another_clients_job_is_a_404_on_every_route(store: JobStore, client: TestClient) -> None:
    a, b = _key(store, "a"), {"Authorization": f"Bearer {store.keys.create('b')}"}
    job_a = _submit(client, a)
    job_b = _submit(client, b, "jill")
    for path in (f"/v1/jobs/{job_a}", f"/v1/jobs/{job_a}/results", f"/v1/jobs/{job_a}/events"):
        assert client.get(path, headers=b).status_code == 404, path
    assert client.delete(f"/v1/jobs/{job_a}", headers=b).status_code == 404
    assert [j["id"] for j in client.get("/v1/jobs", headers=b).json()] == [job_b]
    assert [j["id"] for j in client.get("/v1/jobs", headers=a).json()] == [job_a]
    row = store.get(job_a)
    assert row is not None and row["status"] == "queued"  # b's cancel did nothing
    # the owner still has every route
    assert client.get(f"/v1/jobs/{job_a}/results", headers=a).status_code == 200
    assert client.delete(f"/v1/jobs/{job_a}", headers=a).json()["status"] == "cancelled"


def test_an_admin_key_sees_and_cancels_every_clients_jobs(
    store: JobStore, client: TestClient
) -> None:
    a, b, admin = _key(store, "a"), _key(store, "b"), _key(store, "ops", admin=True)
    ids = {_submit(client, a), _submit(client, b, "jill")}
    assert {j["id"] for j in client.get("/v1/jobs", headers=admin).json()} == ids
    for job_id in ids:
        assert client.get(f"/v1/jobs/{job_id}", headers=admin).status_code == 200
        assert client.get(f"/v1/jobs/{job_id}/results", headers=admin).status_code == 200
        assert client.delete(f"/v1/jobs/{job_id}", headers=admin).json()["status"] == "cancelled"
        events = client.get(f"/v1/jobs/{job_id}/events", headers=admin)
        assert '"status":"cancelled"' in events.text


def test_keys_are_listed_and_a_revoked_key_gets_401(store: JobStore, client: TestClient) -> None:
    a = _key(store, "team-a")
    _key(store, "ops", admin=True)
    assert client.get("/v1/jobs", headers=a).status_code == 200
    listed = {k.name: k for k in store.keys.list_keys()}
    assert set(listed) == {"team-a", "ops"} and listed["ops"].admin and not listed["team-a"].admin
    revoked = store.keys.revoke("team-a")
    assert revoked.revoked_at is not None
    assert client.get("/v1/jobs", headers=a).status_code == 401
    assert [k.name for k in store.keys.list_keys()] == ["ops"]
    assert {k.name for k in store.keys.list_keys(include_revoked=True)} == {"team-a", "ops"}


@pytest.mark.parametrize("job_id", ["a%00b", "%00", "x" * 300, "%C3%A9t%C3%A9", "..%2F..", "a b"])
def test_malformed_job_ids_are_a_404_never_a_500(
    store: JobStore, client: TestClient, job_id: str
) -> None:
    auth = _key(store, "a")
    for method, suffix in (("GET", ""), ("GET", "/results"), ("GET", "/events"), ("DELETE", "")):
        resp = client.request(method, f"/v1/jobs/{job_id}{suffix}", headers=auth)
        assert resp.status_code in (404, 422), (method, suffix, resp.status_code, resp.text)
        assert len(resp.content) < 300


def test_a_big_body_is_a_413_and_errors_quote_only_an_excerpt(
    store: JobStore, client: TestClient
) -> None:
    auth = {**_key(store, "a"), "content-type": "application/json"}
    huge = '{"username": "' + "x" * 10_000_000 + '"}'
    resp = client.post("/v1/jobs", content=huge, headers=auth)
    assert resp.status_code == 413 and len(resp.content) < 200, resp.content[:200]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield b'{"username": "'
        for _ in range(100):
            yield b"y" * 100_000
        yield b'"}'

    assert client.post("/v1/jobs", content=chunks(), headers=auth).status_code == 413
    # under the limit but invalid: the 422 names the problem, quoting a short excerpt
    resp = client.post("/v1/jobs", json={"username": "z" * 50_000}, headers=auth)
    assert resp.status_code == 422 and len(resp.content) < 500, resp.content[:500]
    (err,) = resp.json()["detail"]
    assert err["loc"] == ["body", "username"] and "50000 chars" in err["input"]
    resp = client.post("/v1/jobs", content=b'{"username": "jack", ' + b"!" * 40_000, headers=auth)
    assert resp.status_code == 422 and len(resp.content) < 500, resp.content[:500]


def test_a_job_is_refused_with_503_while_no_worker_was_seen_recently(store: JobStore) -> None:
    client = TestClient(create_app(store, JobSettings()))
    auth = _key(store, "a")
    body = {"username": "jack", "max_tweets": 20}
    resp = client.post("/v1/jobs", json=body, headers=auth)
    assert resp.status_code == 503 and "chirpflow run" in resp.json()["detail"]
    assert "[jobs] enabled" in resp.json()["detail"]
    store.workers.beat("old-worker")
    with store._pool.connection() as conn:  # its last heartbeat is ten minutes old
        conn.execute("UPDATE job_workers SET seen_at = now() - interval '10 minutes'")
    assert client.post("/v1/jobs", json=body, headers=auth).status_code == 503
    assert store.list_jobs() == []  # nothing was queued to wait for ever
    store.workers.beat("old-worker")
    assert client.post("/v1/jobs", json=body, headers=auth).status_code == 201


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_running_job_reader_is_the_heartbeat_the_api_waits_for(store: JobStore) -> None:
    from chirpflow.connectors.sources.job_reader import JobReader
    from chirpflow.flows.build import job_provider

    client = TestClient(create_app(store, JobSettings()))
    auth = _key(store, "a")
    body = {"username": "jack", "max_tweets": 20}
    assert client.post("/v1/jobs", json=body, headers=auth).status_code == 503
    provider = job_provider(
        JobSettings(base_url="http://127.0.0.1:9"), {"TWITTERAPI_IO_KEY": "unused"}
    )
    reader = JobReader(JobStore(store.url), provider, max_active=1, idle_s=0.05)  # owns its store
    reader.read(0, 10)  # the flow starts reading: the reader's thread beats
    _until(store.workers.alive)
    reader.close()  # a stopping worker says so at once
    assert not store.workers.alive()
    assert client.post("/v1/jobs", json=body, headers=auth).status_code == 503


def test_the_request_budget_is_shared_by_replicas_through_redis(
    store: JobStore, redis_url: str
) -> None:
    store.workers.beat("w")
    cfg = JobSettings(requests_per_minute_per_key=6)
    one, two = (TestClient(create_app(store, cfg, redis_url=redis_url)) for _ in range(2))
    auth = _key(store, "a")
    codes = [(one if i % 2 else two).get("/v1/jobs", headers=auth).status_code for i in range(7)]
    assert codes == [200] * 6 + [429]
    late = two.get("/v1/jobs", headers=auth)
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
    other = _key(store, "b")  # another key has its own budget
    assert one.get("/v1/jobs", headers=other).status_code == 200


def test_docs_work_offline_and_declare_the_api_key(client: TestClient) -> None:
    html = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in assets:
        resp = client.get(asset)
        assert resp.status_code == 200 and len(resp.content) > 1000, asset
    assert client.get("/openapi.json").status_code == 200
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"}.items() <= next(
        s for s in schemes.values() if s["type"] == "apiKey"
    ).items()
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("security"), f"{method.upper()} {path} declares no auth"


def test_an_unreachable_redis_costs_the_shared_budget_not_the_api(store: JobStore) -> None:
    store.workers.beat("w")
    cfg = JobSettings(requests_per_minute_per_key=3)
    api = TestClient(create_app(store, cfg, redis_url="redis://127.0.0.1:1/0"))
    auth = _key(store, "a")
    codes = [api.get("/v1/jobs", headers=auth).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # counted in this process instead
    with pytest.raises(ConfigError, match=r"^REDIS_URL: .*redis://"):
        create_app(store, cfg, redis_url="localhost:6379")
