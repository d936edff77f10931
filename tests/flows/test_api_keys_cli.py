"""`chirpflow api-key` and `jobs submit` as a user runs them (real processes, real PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import load_settings

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


@pytest.fixture
def env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    migrate(pg_url)
    out = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    out.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"))
    return out


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_api_keys_are_created_listed_and_revoked(env: dict[str, str], pg_url: str) -> None:
    team = _cli(env, "api-key", "create", "team-a").stdout.strip()
    admin = _cli(env, "api-key", "create", "ops", "--admin").stdout.strip()
    assert team.startswith("cf_") and admin.startswith("cf_")
    listed = _cli(env, "api-key", "list")
    assert listed.returncode == 0, listed.stderr
    assert "team-a" in listed.stdout and "ops  (admin)" in listed.stdout
    assert team not in listed.stdout  # keys are shown once, at creation
    store = JobStore(pg_url)
    try:
        assert store.keys.authenticate(admin) is not None
        done = _cli(env, "api-key", "revoke", "team-a")
        assert done.returncode == 0 and "revoked key" in done.stdout, done.stderr
        assert store.keys.authenticate(team) is None
        assert "team-a" not in _cli(env, "api-key", "list").stdout
        assert "revoked" in _cli(env, "api-key", "list", "--all").stdout
        again = _cli(env, "api-key", "revoke", "team-a")
        assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
        assert "no active API key 'team-a'" in again.stderr
    finally:
        store.close()


def test_the_cli_and_the_api_share_one_max_tweets_cap(
    env: dict[str, str], pg_url: str, tmp_path: Path
) -> None:
    cap = load_settings(None).jobs.max_tweets_limit
    over = _cli(env, "jobs", "submit", "jack", "--max-tweets", str(cap + 1))
    assert over.returncode == 2 and over.stderr.count("\n") == 1, over.stderr
    assert f"less than or equal to {cap}" in over.stderr and "max_tweets_limit" in over.stderr
    at = _cli(env, "jobs", "submit", "jack", "--max-tweets", str(cap))
    assert at.returncode == 0, at.stderr
    assert "no job worker is running" in at.stderr  # accepted, but told why it waits
    store = JobStore(pg_url)
    try:
        store.workers.beat("w")
        key = store.keys.create("a")
        api = TestClient(create_app(store, load_settings(None).jobs))

        def api_code(n: int) -> int:
            body = {"username": "jack", "max_tweets": n}
            return api.post("/v1/jobs", json=body, headers={"X-API-Key": key}).status_code

        assert (api_code(cap), api_code(cap + 1)) == (201, 422)
        # a configured cap holds for both
        cfg = tmp_path / "cap.toml"
        cfg.write_text("[jobs]\nmax_tweets_limit = 50\n")
        small = _cli(env, "jobs", "submit", "jack", "--max-tweets", "51", "-c", str(cfg))
        assert small.returncode == 2 and "less than or equal to 50" in small.stderr
        assert store.workers.alive()
        ok = _cli(env, "jobs", "submit", "jack", "--max-tweets", "50", "-c", str(cfg))
        assert ok.returncode == 0 and "no job worker" not in ok.stderr, ok.stderr
    finally:
        store.close()
