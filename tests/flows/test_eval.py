"""`chirpflow eval` on our own small labelled sets, offline and against the fake LLM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from chirpflow.flows.evaluate import TASKS, as_tweets
from chirpflow.operators.offline import OfflineAnalyzer
from chirpflow.settings import AnalyzerSettings
from tests.labelled_data import SENTIMENT, write_task

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REDIS_"))}
    env.update(extra)
    return env


def _eval(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "eval", *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_offline_eval_matches_the_analyzer(labelled_dir: Path) -> None:
    out = _eval(
        "--task",
        "sentiment",
        "--data",
        str(labelled_dir),
        "--analyzer",
        "offline",
        "--batch-sizes",
        "1,5",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    runs = orjson.loads(out.stdout)["runs"]
    assert [r["batch_size"] for r in runs] == [1, 5]
    # what the analyzer itself says, label by label, is what eval counted
    cfg = AnalyzerSettings()
    analyses = OfflineAnalyzer(cfg.risk_keywords).analyze(as_tweets([t for t, _ in SENTIMENT]))
    expected = [[0] * 3 for _ in range(3)]
    for (_, gold), a in zip(SENTIMENT, analyses.analyses, strict=True):
        expected[gold][TASKS["sentiment"].label_of(a)] += 1
    for r in runs:
        assert r["tweets"] == len(SENTIMENT) and r["metric"] == "macro_recall"
        assert r["labels"] == ["negative", "neutral", "positive"]
        assert r["confusion"] == expected
        assert r["score"] == 1.0  # the set is obvious: every one right


def test_llm_batching_saves_tokens_and_dollars(labelled_dir: Path) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    n = len(SENTIMENT)
    with running(FakeLLM()) as (fake, url):
        out = _eval(
            "--task",
            "sentiment",
            "--data",
            str(labelled_dir / "sentiment"),
            "--analyzer",
            "llm",
            "--batch-sizes",
            f"1,{n}",
            "--json",
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=url,
        )
    assert out.returncode == 0, out.stderr
    one, all_at_once = orjson.loads(out.stdout)["runs"]
    assert (one["requests"], all_at_once["requests"]) == (n, 1)
    assert one["prompt_tokens_per_1k"] > 3 * all_at_once["prompt_tokens_per_1k"]
    assert one["usd_per_1k"] > all_at_once["usd_per_1k"] > 0
    assert one["score"] == all_at_once["score"] == 1.0  # batching costs no accuracy here
    assert len(fake.requests) == n + 1


def test_labels_of_another_task_are_refused(labelled_dir: Path) -> None:
    out = _eval("--task", "sentiment", "--data", str(labelled_dir / "hate"))
    assert out.returncode == 2, out.stdout
    (line,) = out.stderr.strip().splitlines()
    assert "not-hate" in line and "negative, 1 neutral, 2 positive" in line
    assert out.stdout == ""


def test_a_folder_named_for_another_task_without_mapping_is_refused(tmp_path: Path) -> None:
    folder = write_task(tmp_path / "offensive", "offensive")
    (folder / "mapping.txt").unlink()
    out = _eval("--task", "hate", "--data", str(folder))
    assert out.returncode == 2 and "offensive data, not hate" in out.stderr


def test_label_ids_outside_the_task_are_refused(tmp_path: Path) -> None:
    folder = write_task(tmp_path / "mine", "hate", [("hello", 0), ("bye", 2)])
    (folder / "mapping.txt").unlink()
    out = _eval("--task", "hate", "--data", str(folder))
    assert out.returncode == 2
    assert "val_labels.txt:2: '2' is not a hate label id" in out.stderr
    assert "Traceback" not in out.stderr


def test_confusion_matrix_names_rows_and_columns(labelled_dir: Path) -> None:
    out = _eval("--task", "offensive", "--data", str(labelled_dir), "--analyzer", "offline")
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "gold" in line)
    assert "predicted" in header and "not-offensive" in header
    rows = {line.split("│")[1].strip(): line for line in out.stdout.splitlines() if "│" in line}
    assert [c.strip() for c in rows["not-offensive"].split("│")[2:4]] == ["3", "0"]
    assert [c.strip() for c in rows["offensive"].split("│")[2:4]] == ["0", "3"]


def test_bad_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    out = _eval("--task", "hate", "--data", str(tmp_path))
    assert out.returncode == 2 and "val_text.txt" in out.stderr


def test_evaluating_the_noop_analyzer_is_one_clear_line(labelled_dir: Path) -> None:
    out = _eval("--task", "sentiment", "--data", str(labelled_dir), "--analyzer", "noop")
    assert out.returncode == 2, out.stderr
    assert "noop analyzer produces no analyses" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
