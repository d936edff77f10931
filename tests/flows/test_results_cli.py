"""``chirpflow tweets`` and ``chirpflow export`` on a store filled by a real ``chirpflow run``."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from chirpflow.connectors.embedded.postgres import drop_database, ensure_database
from tests.factories import payload
from tests.flows.helpers import write_jsonl
from tests.flows.test_cli import _FOREIGN, _run

N = 600


@pytest.fixture
def cli_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    """An empty store."""
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home")})
    return env


@pytest.fixture(scope="module")
def filled(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str
) -> Iterator[dict[str, str]]:
    """One store filled by one real run, shared by the read-only tests of this module."""
    url = ensure_database(postgres_server, "results_cli")
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": url, "CHIRPFLOW_HOME": str(tmp_path_factory.mktemp("home"))})
    out = _run(["run", "--limit", str(N), "--quiet", "--analyzer", "offline"], env)
    assert out.returncode == 0, out.stderr
    yield env
    drop_database(postgres_server, "results_cli")


def _stats(env: dict[str, str]) -> dict[str, int]:
    out = _run(["stats", "--json"], env)
    assert out.returncode == 0, out.stderr
    data: dict[str, int] = orjson.loads(out.stdout)
    return data


def test_tweets_lists_filters_and_formats(filled: dict[str, str]) -> None:
    stats = _stats(filled)
    rows = orjson.loads(_run(["tweets", "--json", "--limit", "10000"], filled).stdout)
    assert len(rows) == stats["analyzed"] > 0
    times = [r["created_at"] for r in rows]
    assert times == sorted(times, reverse=True)

    flagged = orjson.loads(
        _run(["tweets", "--json", "--flagged", "--limit", "10000"], filled).stdout
    )
    assert len(flagged) == stats["flagged"]
    assert all(r["risk"] >= 50 or r["flags"] for r in flagged)

    neg = orjson.loads(
        _run(["tweets", "--json", "--sentiment", "negative", "--limit", "10000"], filled).stdout
    )
    assert len(neg) == stats["sentiment"]["negative"]  # type: ignore[index]

    page2 = orjson.loads(_run(["tweets", "--json", "--limit", "5", "--page", "2"], filled).stdout)
    assert [r["id"] for r in page2] == [r["id"] for r in rows[5:10]]

    table = _run(["tweets", "--limit", "3"], filled)
    assert table.returncode == 0, table.stderr
    assert "x.com/" in table.stdout and "sentiment" in table.stdout

    as_csv = _run(["tweets", "--csv", "--limit", "4"], filled)
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in parsed] == [r["id"] for r in rows[:4]]


def test_bad_filter_is_one_clear_line(filled: dict[str, str]) -> None:
    out = _run(["tweets", "--since", "yesterday"], filled)
    assert out.returncode == 2
    assert "--since" in out.stderr and "Traceback" not in out.stderr
    out = _run(["export", "--format", "csv", "--out", "/no/such/dir/x.csv"], filled)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: cannot write /no/such/dir/x.csv: folder /no/such/dir does not exist"
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_writes_every_analysed_tweet(
    filled: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    stats = _stats(filled)
    path = tmp_path / f"tweets.{fmt}"
    out = _run(["export", "--format", fmt, "--out", str(path), "--quiet"], filled)
    assert out.returncode == 0, out.stderr
    if fmt == "csv":
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    elif fmt == "jsonl":
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    else:
        rows = pq.read_table(path).to_pylist()
    assert len(rows) == stats["analyzed"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert {"text", "sentiment", "risk", "flags", "topics", "url"} <= set(rows[0])
    assert f"wrote {stats['analyzed']:,} tweets" in out.stderr


def test_export_dead_letters_and_alerts(filled: dict[str, str], tmp_path: Path) -> None:
    stats = _stats(filled)
    dead = tmp_path / "dead.jsonl"
    out = _run(
        ["export", "--what", "dead-letters", "--format", "jsonl", "--out", str(dead)], filled
    )
    assert out.returncode == 0, out.stderr
    rows = [orjson.loads(line) for line in dead.read_bytes().splitlines()]
    assert len(rows) == stats["dead_letters"]
    assert all(r["reason"] for r in rows)
    alerts = tmp_path / "alerts.csv"
    out = _run(["export", "--what", "alerts", "--format", "csv", "--out", str(alerts)], filled)
    assert out.returncode == 0, out.stderr
    assert alerts.read_text().splitlines()[0].startswith("id,rule,channel")


def test_parquet_without_pyarrow_says_how_to_get_it(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "no_pyarrow" / "pyarrow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('pyarrow is not installed')\n")
    env = dict(cli_env, PYTHONPATH=f"{blocker.parent}:{cli_env.get('PYTHONPATH', '')}")
    out = _run(["export", "--format", "parquet", "--out", str(tmp_path / "t.parquet")], env)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: --format parquet needs pyarrow: pip install 'chirpflow[parquet]'"
    )


def test_hostile_text_prints_as_written(cli_env: dict[str, str], tmp_path: Path) -> None:
    text = "[x.com/brand](https://evil.example) [bold]free[/bold] <img src=x>"
    src = write_jsonl(tmp_path / "in.jsonl", [payload(1, text=text)])
    out = _run(["run", "--source", f"jsonl:{src}", "--quiet", "--analyzer", "offline"], cli_env)
    assert out.returncode == 0, out.stderr
    table = _run(["tweets", "--search", "evil.example"], dict(cli_env, COLUMNS="250"))
    assert table.returncode == 0, table.stderr
    assert text in table.stdout
