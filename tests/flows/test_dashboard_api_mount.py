"""``chirpflow api`` serves the dashboard under /ui/, behind the same API keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings


def test_the_api_serves_the_dashboard_behind_its_keys(pg_url: str) -> None:
    migrate(pg_url)
    store = JobStore(pg_url)
    try:
        key = store.create_key("dash")
        client = TestClient(create_app(store, JobSettings()))
        page = client.get("/ui/")
        assert page.status_code == 200 and "<title>chirpflow results</title>" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert client.get("/ui/static/app.js").status_code == 200
        assert client.get("/ui/static/../api.py").status_code == 404
        for path in ("/ui/api/overview", "/ui/api/tweets", "/ui/api/dead-letters", "/ui/api/jobs"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers={"X-API-Key": "cf_wrong"}).status_code == 401, path
            assert client.get(path, headers={"X-API-Key": key}).status_code == 200, path
        overview = client.get("/ui/api/overview", headers={"Authorization": f"Bearer {key}"})
        assert overview.json()["analyzed"] == 0
        assert "/ui/api/overview" not in client.get("/openapi.json").text
    finally:
        store.close()
