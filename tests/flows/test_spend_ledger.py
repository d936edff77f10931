"""LLM spend is a ledger: a cached rerun adds its own (zero) spend and erases nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.factories import payload
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import write_jsonl

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
CONFIG = """
[pipeline]
chunk_size = 50
max_wait = "1s"

[analyzer]
kind = "llm"
model = "gpt-test"

[sinks]
console = false
"""
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


def _cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_cached_rerun_keeps_the_first_runs_spend(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    lines = [payload(i, text=f"great launch number {i} #ai") for i in range(300)]
    source = f"jsonl:{write_jsonl(tmp_path / 'in.jsonl', lines)}"
    cfg = tmp_path / "llm.toml"
    cfg.write_text(CONFIG)
    with running(FakeLLM()) as (fake, url):
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            DATABASE_URL=pg_url,
            REDIS_URL=redis_url,
            CHIRPFLOW_HOME=str(tmp_path / "home"),
            CHIRPFLOW_CONFIG=str(cfg),
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=url,
        )
        _cli(env, "run", "--quiet", "--source", source)
        first: dict[str, Any] = orjson.loads(_cli(env, "stats", "--json"))
        calls = len(fake.requests)
        _cli(env, "run", "--quiet", "--source", source, "--reset-recovery")
        assert len(fake.requests) == calls  # the cache answered every tweet
        after: dict[str, Any] = orjson.loads(_cli(env, "stats", "--json"))
        table = _cli(env, "stats")
    assert first["llm_requests"] == calls == 6 and first["llm_cost_usd"] > 0
    # lifetime figures still hold the first run's spend
    assert after["llm_requests"] == first["llm_requests"]
    assert after["llm_cost_usd"] == first["llm_cost_usd"]
    assert after["llm_prompt_tokens"] == first["llm_prompt_tokens"]
    # per run: the rerun (newest first) spent nothing, the first run everything
    rerun, run1 = after["runs"][:2]
    assert rerun["run_id"] != run1["run_id"]
    assert (rerun["llm_requests"], rerun["llm_cost_usd"]) == (0, 0.0)
    assert rerun["cache_hits"] == 300
    assert (run1["llm_requests"], run1["llm_cost_usd"]) == (6, first["llm_cost_usd"])
    assert rerun["run_id"] in table and run1["run_id"] in table
