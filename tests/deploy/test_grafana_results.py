"""monitoring/grafana-results.json: every panel's SQL, with Grafana's macros expanded as
Grafana expands them, runs against the real schema filled by a real ``chirpflow run``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "monitoring" / "grafana-results.json"
PG = "grafana-postgresql-datasource"
CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(interval: str) -> int:
    m = re.fullmatch(r"'?(\d+)([smhd])'?", interval.strip())
    assert m, f"interval {interval!r}"
    return int(m.group(1)) * _UNITS[m.group(2)]


def expand(sql: str, start: datetime, end: datetime, variables: dict[str, list[str]]) -> str:
    """Grafana's PostgreSQL macros and template variables, expanded to plain SQL."""
    lo, hi = (f"'{t.strftime('%Y-%m-%dT%H:%M:%SZ')}'" for t in (start, end))
    sql = re.sub(
        r"\$__timeFilter\(([^()]*(?:\([^()]*\))?[^()]*)\)", rf"\1 BETWEEN {lo} AND {hi}", sql
    )

    def group(m: re.Match[str], alias: bool) -> str:
        col, interval = m.group(1).rsplit(",", 1)
        n = _seconds(interval)
        return f"floor(extract(epoch from {col.strip()})/{n})*{n}" + (' AS "time"' if alias else "")

    sql = re.sub(r"\$__timeGroupAlias\((.*?'\w+')\)", lambda m: group(m, True), sql)
    sql = re.sub(r"\$__timeGroup\((.*?'\w+')\)", lambda m: group(m, False), sql)
    sql = sql.replace("$__timeFrom()", lo).replace("$__timeTo()", hi)
    for name, values in variables.items():
        quoted = ",".join("'" + v.replace("'", "''") + "'" for v in values)
        sql = sql.replace("${" + name + "}", quoted).replace("$" + name, quoted)
    assert not re.search(r"\$\w", sql), f"unexpanded macro or variable in:\n{sql}"
    return sql


def _dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def _targets() -> list[tuple[str, str, str]]:
    return [
        (p["title"], t["format"], t["rawSql"]) for p in _dashboard()["panels"] for t in p["targets"]
    ]


def test_every_panel_reads_postgresql() -> None:
    doc = _dashboard()
    assert {"Sentiment over time per source", "Top topics", "Flagged tweets", "Spend per day"} <= {
        p["title"] for p in doc["panels"]
    }
    for panel in doc["panels"]:
        assert panel["datasource"]["type"] == PG, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["type"] == PG and target["rawQuery"], panel["title"]
    (ds,) = [v for v in doc["templating"]["list"] if v["type"] == "datasource"]
    assert ds["query"] == PG


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[str]:
    from chirpflow.connectors.embedded.postgres import drop_database, ensure_database

    url = ensure_database(postgres_server, "grafana_results")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CHIRPFLOW_CONFIG")}
    env.update(
        DATABASE_URL=url, CHIRPFLOW_HOME=str(tmp_path_factory.mktemp("home")), OPENAI_API_KEY=""
    )
    out = subprocess.run(
        [*CLI, "run", "--limit", "400", "--quiet", "--analyzer", "offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    with psycopg.connect(url) as conn:  # what an LLM, a tweet API and a channel add
        conn.execute(
            "INSERT INTO llm_spend (id, run_id, chunk_id, model, requests, cost_usd, tweets)"
            " SELECT 'test:' || chunk_id, 'test', chunk_id, 'm', 1, 0.0125, size FROM chunks"
        )
        conn.execute(
            "INSERT INTO source_spend (flush_id, provider, source, run_id, day, requests,"
            " tweets, cost_usd) VALUES ('f1', 'x_api', 'x', 'test', current_date, 3, 300, 1.5)"
        )
        conn.execute(
            "INSERT INTO notifications (id, rule, channel, kind, payload, status)"
            " VALUES ('r:1:discord', 'r', 'discord', 'tweet', '{}', 'sent')"
        )
    yield url
    drop_database(postgres_server, "grafana_results")


@pytest.mark.parametrize(("title", "fmt", "sql"), _targets(), ids=lambda v: str(v)[:30])
def test_panel_sql_runs_on_the_real_schema(filled: str, title: str, fmt: str, sql: str) -> None:
    now = datetime.now(UTC)
    text = expand(
        sql, now - timedelta(hours=24), now + timedelta(minutes=1), {"source": ["synthetic"]}
    )
    with psycopg.connect(filled) as conn:
        cur = conn.execute(text.encode())
        rows = cur.fetchall()
        assert cur.description is not None
        names = [d.name for d in cur.description]
    assert rows, f"{title}: no rows"
    if fmt == "time_series":
        assert names[0] == "time", title
        assert all(isinstance(r[0], int | float | Decimal) for r in rows), title
    if title == "Flagged tweets":
        assert all(r[names.index("link")].startswith("https://x.com/") for r in rows)
        assert all(r[names.index("risk")] >= 50 or r[names.index("flags")] for r in rows)
    if title == "Spend per day":
        assert sum(r[-1] for r in rows) > 0, title
    if title == "Top topics":
        counts = [r[1] for r in rows]
        assert counts == sorted(counts, reverse=True)


def test_the_source_variable_query_lists_sources(filled: str) -> None:
    (var,) = [v for v in _dashboard()["templating"]["list"] if v["name"] == "source"]
    with psycopg.connect(filled) as conn:
        assert [r[0] for r in conn.execute(var["query"].encode())] == ["synthetic"]
