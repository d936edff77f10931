"""Re-driving dead letters from the dashboard: an admin key gets the button and it works
(through the code of ``chirpflow dlq retry``); a normal key sees none and is refused."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright

from chirpflow.connectors.embedded.postgres import drop_database, ensure_database
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.api import create_app
from chirpflow.flows.job import run_job
from chirpflow.settings import JobSettings, settings_from_dict
from tests.factories import payload
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for, write_jsonl
from tests.flows.test_cli import _FOREIGN
from tests.flows.test_dashboard import ARGS, CHROMIUM, _open, _serve, _until

LLM = {
    "pipeline": {"chunk_size": 10},
    "analyzer": {"kind": "llm", "model": "m", "max_in_flight": 1},
    "sinks": {"console": False},
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def failed_store(tmp_path: Path, postgres_server: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Two tweets whose analysis failed (dead letters ``analyzer_failed``)."""
    url = ensure_database(postgres_server, "redrive")
    path = write_jsonl(tmp_path / "in.jsonl", [payload(i, text=f"tweet {i}") for i in (1, 2)])
    with running(FakeLLM().then(*["refusal"] * 3)) as (_, llm):  # 2 -> 1 + 1
        env = dataclasses.replace(
            env_for(tmp_path, url), openai_api_key="sk-test", openai_base_url=llm
        )
        run_job(
            settings_from_dict(LLM), env, source_spec=f"jsonl:{path}", recovery=False, live=False
        )
    stats = store_stats(url)
    assert (stats["dead_letters"], stats["analyzed"]) == (2, 0)
    cli_env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    cli_env.update(DATABASE_URL=url, CHIRPFLOW_HOME=str(tmp_path / "home"))
    yield url, cli_env  # the dashboard re-drives with the offline analyzer (no OpenAI key)
    drop_database(postgres_server, "redrive")


def test_only_admins_redrive_dead_letters_from_the_dashboard(
    browser: Browser, failed_store: tuple[str, dict[str, str]]
) -> None:
    url, env = failed_store
    store = JobStore(url, pool_size=1)
    try:
        admin, normal = store.keys.create("ops", admin=True), store.keys.create("viewer")
    finally:
        store.close()
    proc, base = _serve(env)
    try:
        page, _ = _open(browser, f"{base}/ui/#dead")
        page.fill("#key", normal)
        page.click("#login button")
        page.wait_for_selector("#dead tbody tr")
        assert "analyzer_failed" in (page.text_content("#dead tbody") or "")
        assert page.get_attribute("#redrive", "hidden") is not None  # no button for a viewer
        forged = httpx.post(
            f"{base}/ui/api/dead-letters/retry", json={}, headers={"X-API-Key": normal}
        )
        assert forged.status_code == 403, forged.text
        assert "admin" in forged.json()["detail"]
        assert httpx.post(f"{base}/ui/api/dead-letters/retry", json={}).status_code == 401
        assert store_stats(url)["dead_letters"] == 2  # nothing was re-driven

        page, _ = _open(browser, f"{base}/ui/#dead")
        page.fill("#key", admin)
        page.click("#login button")
        page.wait_for_selector("#redrive:not([hidden])")
        page.click("#redrive")
        _until(
            lambda: (
                "2 tried, 2 analysed, 0 still failing"
                in (page.text_content("#redrive-result") or "")
            ),
            "the re-drive's outcome",
        )
        _until(lambda: page.locator("#dead tbody tr").count() == 0, "an empty dead-letter list")
        stats = store_stats(url)
        assert (stats["dead_letters"], stats["analyzed"]) == (0, 2)
        assert stats["analyzed"] + stats["duplicates"] + stats["dead_letters"] == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_api_mount_redrives_for_admins_only(pg_url: str) -> None:
    migrate(pg_url)
    store = JobStore(pg_url, pool_size=1)
    try:
        api = TestClient(create_app(store, JobSettings(), settings=settings_from_dict({})))
        normal = {"X-API-Key": store.keys.create("viewer")}
        admin = {"X-API-Key": store.keys.create("ops", admin=True)}
        assert api.get("/ui/api/me", headers=normal).json() == {"admin": False}
        assert api.get("/ui/api/me", headers=admin).json() == {"admin": True}
        refused = api.post("/ui/api/dead-letters/retry", json={}, headers=normal)
        assert refused.status_code == 403
        done = api.post("/ui/api/dead-letters/retry", json={"limit": 5}, headers=admin)
        assert done.json() == {"tried": 0, "resolved": 0, "still_failing": 0}
        bad = api.post("/ui/api/dead-letters/retry", json={"limit": 0}, headers=admin)
        assert bad.status_code == 422
    finally:
        store.close()
