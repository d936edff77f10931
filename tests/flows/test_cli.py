"""The command line, run as a user runs it (a real process, real services)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]


def _run(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CLI + args, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


@pytest.fixture
def cli_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home")})
    return env


def test_help_explains_every_command(cli_env: dict[str, str]) -> None:
    out = _run(["--help"], cli_env)
    assert out.returncode == 0
    for word in ("run", "stats", "config", "db", "DATABASE_URL"):
        assert word in out.stdout
    run_help = _run(["run", "--help"], cli_env).stdout
    assert "--limit" in run_help and "--source" in run_help


def test_run_limit_then_stats_json(cli_env: dict[str, str]) -> None:
    out = _run(["run", "--limit", "3000", "--quiet"], cli_env)
    assert out.returncode == 0, out.stderr
    stats = _run(["stats", "--json"], cli_env)
    assert stats.returncode == 0, stats.stderr
    data = orjson.loads(stats.stdout)
    assert data["tweets_ingested"] == 3000
    assert data["analyzed"] + data["duplicates"] + data["dead_letters"] == 3000
    assert data["chunks"] >= 27
    human = _run(["stats"], cli_env)
    assert "tweets ingested" in human.stdout and "3,000" in human.stdout


def test_bad_config_is_one_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[pipeline]\nmax_wait = "soon"\n')
    out = _run(["config", "check", "--config", str(cfg)], cli_env)
    assert out.returncode == 2
    assert "pipeline.max_wait" in out.stderr
    assert "Traceback" not in out.stderr
    out = _run(["run", "--source", "jsonl:/nope.jsonl"], cli_env)
    assert out.returncode == 2 and "no such file" in out.stderr


def test_config_check_masks_secrets(cli_env: dict[str, str], repo_root: Path) -> None:
    env = dict(cli_env, OPENAI_API_KEY="sk-test-SECRET123", REDIS_URL="redis://:hunter2@x:1/0")
    out = _run(["config", "check", "--config", str(repo_root / "chirpflow.example.toml")], env)
    assert out.returncode == 0, out.stderr
    assert "SECRET123" not in out.stdout + out.stderr
    assert "hunter2" not in out.stdout + out.stderr
    assert "configuration OK" in out.stderr
