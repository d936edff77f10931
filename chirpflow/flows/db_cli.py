"""``chirpflow db start|stop|url|shell``: the store, reachable from outside tools."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click

from chirpflow.flows.cli_support import fail_cleanly
from chirpflow.settings import Environment, redact_url

_NOT_RUNNING = "embedded PostgreSQL is not running (`chirpflow db start` starts it and keeps it up)"


@click.command("url")
@fail_cleanly
def db_url() -> None:
    """Print the database URL and whether the server is running (starts nothing)."""
    from chirpflow.flows.db_server import is_kept, running_url

    env = Environment.from_env()
    if env.database_url:
        click.echo(redact_url(env.database_url))
        click.echo("from DATABASE_URL", err=True)
        return
    url = running_url(env)
    if url is None:
        click.echo(_NOT_RUNNING, err=True)
        sys.exit(1)
    click.echo(url)
    kept = "kept up by `chirpflow db start`" if is_kept(env) else "until the command using it ends"
    click.echo(f"embedded PostgreSQL running, {kept}", err=True)


@click.command("start")
@fail_cleanly
def db_start() -> None:
    """Start the embedded PostgreSQL and keep it up (for psql, Grafana, ...); prints its URL."""
    from chirpflow.flows.db_server import start_kept

    url = start_kept(Environment.from_env())
    click.echo(url)
    click.echo("embedded PostgreSQL running until `chirpflow db stop`", err=True)


@click.command("stop")
@fail_cleanly
def db_stop() -> None:
    """Stop the embedded PostgreSQL (whoever started it)."""
    from chirpflow.flows.db_server import stop_kept

    stopped = stop_kept(Environment.from_env())
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@click.command("shell", context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@fail_cleanly
def db_shell(psql_args: tuple[str, ...]) -> None:
    """psql on the store (extra arguments go to psql, e.g. `db shell -- -c 'SELECT 1'`)."""
    from chirpflow.flows.db_server import psql_path
    from chirpflow.flows.services import database

    with database(Environment.from_env()) as url:
        proc: subprocess.CompletedProcess[Any] = subprocess.run(
            [str(psql_path()), url, *psql_args], check=False
        )
    sys.exit(proc.returncode)
