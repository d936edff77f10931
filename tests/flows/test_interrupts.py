"""Ctrl-C and kill -9 against a real `chirpflow run` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from chirpflow.connectors.sources.synthetic import SyntheticTweets

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]

CONFIG = """
[pipeline]
snapshot_interval = "500ms"
max_wait = "1s"

[[sources]]
name = "paced"
type = "synthetic"
seed = 7
rate = {rate}

[sinks]
console = false
"""


_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


@pytest.fixture
def cli_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home")})
    cfg = tmp_path / "paced.toml"
    cfg.write_text(CONFIG.format(rate=2000))
    env["CHIRPFLOW_CONFIG"] = str(cfg)
    return env


def _stats(env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run([*CLI, "stats", "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data: dict[str, int] = orjson.loads(out.stdout)
    return data


def _wait_for_rows(env: dict[str, str], proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if _stats(env)["tweets_ingested"] >= at_least:
            return
        time.sleep(0.5)
    raise AssertionError("no progress")


def test_ctrl_c_flushes_open_chunks_and_exits_cleanly(cli_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [*CLI, "run", "--quiet"], env=cli_env, stderr=subprocess.PIPE, text=True
    )
    _wait_for_rows(cli_env, proc, 1000)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # 128 + SIGINT, after a clean flush
    stats = _stats(cli_env)
    assert stats["tweets_ingested"] == stats["analyzed"] + stats["duplicates"]


def test_kill_9_then_resume_loses_and_duplicates_nothing(cli_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [*CLI, "run", "--quiet"], env=cli_env, stderr=subprocess.PIPE, text=True
    )
    _wait_for_rows(cli_env, proc, 3000)
    proc.kill()
    proc.communicate(timeout=30)
    time.sleep(1.0)  # a COMMIT sent just before the kill still completes in the server
    before = _stats(cli_env)

    out = subprocess.run(
        [*CLI, "run", "--quiet", "--limit", "2000"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    after = _stats(cli_env)
    total = after["tweets_ingested"]
    # resumed from the last snapshot, at or before the point of the kill; the
    # snapshot also holds the tweets of the open chunk (one key, up to 100 tweets)
    # that were read but not yet stored when the process died
    assert total >= 2000 and total <= before["tweets_ingested"] + 2000 + 100
    gen = SyntheticTweets(seed=7, duplicate_ratio=0.1)
    assert after["duplicates"] == sum(gen.is_duplicate(i) for i in range(total))
    assert after["analyzed"] == total - after["duplicates"]
    assert after["dead_letters"] == 0


LLM_CONFIG = """
[pipeline]
snapshot_interval = "500ms"
max_wait = "1s"
chunk_size = 50

[[sources]]
name = "paced"
type = "synthetic"
seed = 7
rate = 1500

[analyzer]
kind = "llm"
model = "gpt-test"
max_in_flight = 8

[sinks]
console = false
"""


def test_kill_9_with_chunks_in_flight_resubmits_them(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    cfg = tmp_path / "llm.toml"
    cfg.write_text(LLM_CONFIG)
    with running(FakeLLM(latency_s=1.0)) as (fake, url):
        env = dict(
            cli_env, CHIRPFLOW_CONFIG=str(cfg), OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=url
        )
        proc = subprocess.Popen(
            [*CLI, "run", "--quiet"], env=env, stderr=subprocess.PIPE, text=True
        )
        _wait_for_rows(env, proc, 1500)
        assert fake.in_flight > 0  # killed with requests out
        proc.kill()
        proc.communicate(timeout=30)
        out = subprocess.run(
            [*CLI, "run", "--quiet", "--limit", "500"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        after = _stats(env)
    assert after["tweets_ingested"] == (
        after["analyzed"] + after["duplicates"] + after["dead_letters"]
    )
    assert after["dead_letters"] == 0
