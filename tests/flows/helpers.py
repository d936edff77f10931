"""Shared helpers for dataflow tests: run the real job against a real database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import psycopg

from chirpflow.settings import Environment, Settings, settings_from_dict

# Variables of the machine that must not leak into a CLI subprocess under test.
FOREIGN_ENV = (
    "REDIS_URL",
    "CHIRPFLOW_CONFIG",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "CHIRPFLOW_METRICS_PORT",
    "CHIRPFLOW_LOG_FORMAT",
)


def clean_env() -> dict[str, str]:
    """This process's environment without the variables of ``FOREIGN_ENV``."""
    return {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}


def env_for(tmp_path: Path, pg_url: str, redis_url: str | None = None) -> Environment:
    return Environment(
        database_url=pg_url,
        redis_url=redis_url,
        kafka_bootstrap_servers=None,
        openai_api_key=None,
        openai_base_url=None,
        home=tmp_path / "home",
    )


def settings(**pipeline: Any) -> Settings:
    base: dict[str, Any] = {"snapshot_interval": "1s", "max_wait": "30s"}
    base.update(pipeline)
    return settings_from_dict(
        {
            "pipeline": base,
            "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            "sinks": {"console": False},
        }
    )


def write_jsonl(path: Path, items: list[Any]) -> Path:
    with path.open("wb") as f:
        for item in items:
            f.write(item if isinstance(item, bytes) else orjson.dumps(item))
            f.write(b"\n")
    return path


def scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.encode()).fetchone()
        assert row is not None
        return row[0]
