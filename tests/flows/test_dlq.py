"""Dead letters: list, show and re-drive, keeping the store's invariant."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import orjson

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.dlq import retry_dead_letters
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for, scalar, write_jsonl

CFG = {
    "pipeline": {"chunk_size": 10},
    "analyzer": {"kind": "llm", "model": "m", "max_in_flight": 1},
    "sinks": {"console": False},
}


def test_failed_analyses_are_redriven_and_bad_input_stays(tmp_path: Path, pg_url: str) -> None:
    lines: list[object] = [payload(i, text=f"tweet {i}") for i in range(10)]
    lines += [b'{"id": "oops', b"\xff"]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    cfg = settings_from_dict(CFG)
    with running(FakeLLM().then(*["refusal"] * 19)) as (_, url):  # 10 -> 5+5 -> ... singles
        env = dataclasses.replace(
            env_for(tmp_path, pg_url), openai_api_key="sk-test", openai_base_url=url
        )
        run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
        before = store_stats(pg_url)
        assert before["dead_letters"] == 12 and before["analyzed"] == 0
        assert before["dead_letters_by_reason"]["analyzer_failed"] == 10

        cli_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "REDIS"))}
        cli_env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "h"))
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "chirpflow.flows.cli",
                "dlq",
                "list",
                "--json",
                "--reason",
                "malformed_json",
            ],
            env=cli_env,
            capture_output=True,
            text=True,
            check=True,
        )
        (row,) = orjson.loads(listed.stdout)
        shown = subprocess.run(
            [sys.executable, "-m", "chirpflow.flows.cli", "dlq", "show", row["origin"]],
            env=cli_env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert orjson.loads(shown.stdout)["payload"] == '{"id": "oops'

        report = retry_dead_letters(pg_url, cfg, env, reason=None, limit=100)
    assert (report.tried, report.resolved, report.still_failing) == (12, 10, 2)
    after = store_stats(pg_url)
    assert (after["analyzed"], after["dead_letters"]) == (10, 2)
    assert after["tweets_ingested"] == before["tweets_ingested"] == 12
    assert after["analyzed"] + after["duplicates"] + after["dead_letters"] == 12
    assert scalar(pg_url, "SELECT min(attempts) FROM dead_letters") == 2
