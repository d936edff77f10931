"""A dead letter from a file names the line an editor shows, and the dlq commands find it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.flows.helpers import env_for, write_jsonl

CFG = {"analyzer": {"kind": "offline"}, "sinks": {"console": False}}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chirpflow.flows.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dead_letter_origin_is_the_editor_line(tmp_path: Path, pg_url: str) -> None:
    lines: list[object] = [payload(1), payload(2), b'{"id": "oops', payload(4), b"[5]"]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    run_job(
        settings_from_dict(CFG),
        env_for(tmp_path, pg_url),
        source_spec=f"jsonl:{path}",
        recovery=False,
        live=False,
    )
    stats = store_stats(pg_url)
    assert (stats["tweets_ingested"], stats["analyzed"], stats["dead_letters"]) == (5, 3, 2)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "REDIS"))}
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "h"))
    listed = _cli(env, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    origins = sorted(row["origin"] for row in orjson.loads(listed.stdout))
    assert origins == ["jsonl:in.jsonl:3", "jsonl:in.jsonl:5"]

    shown = _cli(env, "dlq", "show", "jsonl:in.jsonl:3")
    assert shown.returncode == 0, shown.stderr
    assert orjson.loads(shown.stdout)["payload"] == '{"id": "oops'

    retried = _cli(env, "dlq", "retry")
    assert retried.returncode == 0, retried.stderr
    assert "tried 2: 0 analysed now, 2 still failing" in retried.stdout
    again = orjson.loads(_cli(env, "dlq", "list", "--json").stdout)
    assert {(r["origin"], r["attempts"]) for r in again} == {
        ("jsonl:in.jsonl:3", 2),
        ("jsonl:in.jsonl:5", 2),
    }
