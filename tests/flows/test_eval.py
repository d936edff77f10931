"""`chirpflow eval` on the TweetEval validation data, offline and against the fake LLM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REDIS_"))}
    env.update(extra)
    return env


def test_offline_sentiment_score_matches_the_analyzer(tweeteval_dir: Path) -> None:
    out = subprocess.run(
        [
            *CLI,
            "eval",
            "--task",
            "sentiment",
            "--data",
            str(tweeteval_dir),
            "--analyzer",
            "offline",
            "--batch-sizes",
            "1,100",
            "--json",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    doc = orjson.loads(out.stdout)
    runs = doc["runs"]
    assert [r["batch_size"] for r in runs] == [1, 100]
    assert runs[0]["tweets"] == 2000 and runs[0]["metric"] == "macro_recall"
    assert runs[0]["score"] == runs[1]["score"] > 0.6  # local analysis ignores batching
    assert sum(map(sum, runs[0]["confusion"])) == 2000


def test_llm_batching_saves_tokens_and_dollars(tweeteval_dir: Path) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    with running(FakeLLM()) as (fake, url):
        out = subprocess.run(
            [
                *CLI,
                "eval",
                "--task",
                "offensive",
                "--data",
                str(tweeteval_dir / "offensive"),
                "--analyzer",
                "llm",
                "--batch-sizes",
                "1,20",
                "--limit",
                "60",
                "--json",
            ],
            env=_env(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=url),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert out.returncode == 0, out.stderr
    one, twenty = orjson.loads(out.stdout)["runs"]
    assert (one["requests"], twenty["requests"]) == (60, 3)
    assert one["prompt_tokens_per_1k"] > 3 * twenty["prompt_tokens_per_1k"]
    assert one["usd_per_1k"] > twenty["usd_per_1k"] > 0
    assert len(fake.requests) == 63


def test_bad_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [*CLI, "eval", "--task", "hate", "--data", str(tmp_path)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2 and "val_text.txt" in out.stderr
