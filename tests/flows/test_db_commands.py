"""``chirpflow db start|stop|url|shell`` with the embedded PostgreSQL, as a user runs them."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.flows.test_cli import _FOREIGN, _run


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env["CHIRPFLOW_HOME"] = str(tmp_path / "home")
    return env


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def test_db_url_starts_nothing_and_says_so(embedded_env: dict[str, str]) -> None:
    # Before: `db url` started the server, printed its URL and stopped it again,
    # so `psql "$(chirpflow db url)"` got "Connection refused".
    out = _run(["db", "url"], embedded_env)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.strip() == (
        "embedded PostgreSQL is not running (`chirpflow db start` starts it and keeps it up)"
    )
    assert not (Path(embedded_env["CHIRPFLOW_HOME"]) / "postgres" / "postmaster.pid").exists()


def test_db_start_keeps_the_server_for_outside_tools(embedded_env: dict[str, str]) -> None:
    started = _run(["db", "start"], embedded_env)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    try:
        assert _answers(url)
        shown = _run(["db", "url"], embedded_env)
        assert shown.returncode == 0 and shown.stdout.strip() == url
        assert "kept up by `chirpflow db start`" in shown.stderr

        run = _run(["run", "--limit", "120", "--quiet", "--analyzer", "offline"], embedded_env)
        assert run.returncode == 0, run.stderr
        assert _answers(url), "a command that ended stopped the kept server"

        shell = _run(["db", "shell", "--", "-Atc", "SELECT count(*) > 0 FROM tweets"], embedded_env)
        assert shell.returncode == 0, shell.stderr
        assert shell.stdout.strip() == "t"
    finally:
        stopped = _run(["db", "stop"], embedded_env)
    assert stopped.stdout.strip() == "embedded PostgreSQL stopped"
    assert not _answers(url)
    assert _run(["db", "url"], embedded_env).returncode == 1
    again = _run(["db", "stop"], embedded_env)
    assert again.stdout.strip() == "embedded PostgreSQL was not running"


def test_db_shell_alone_leaves_no_server_running(embedded_env: dict[str, str]) -> None:
    shell = _run(["db", "shell", "--", "-Atc", "SELECT 40 + 2"], embedded_env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "42"
    assert _run(["db", "url"], embedded_env).returncode == 1


def test_db_start_with_database_url_is_one_clear_error(
    embedded_env: dict[str, str], pg_url: str
) -> None:
    out = _run(["db", "start"], dict(embedded_env, DATABASE_URL=pg_url))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: DATABASE_URL is set: chirpflow uses that server and starts no embedded one"
    )
