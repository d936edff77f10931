"""The embedded PostgreSQL kept up for outside tools (``chirpflow db start``/``stop``).

``db start`` leaves a marker next to the data folder; while it is there, no
command stops the server when it ends (not even one that started it itself).
``db stop`` removes the marker and stops the server.
"""

from __future__ import annotations

from pathlib import Path

from chirpflow.connectors.embedded.postgres import EmbeddedPostgres, psql_path
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.errors import ChirpflowError
from chirpflow.settings import Environment

__all__ = ["is_kept", "psql_path", "running_url", "start_kept", "stop_kept"]


def _server(env: Environment) -> EmbeddedPostgres:
    return EmbeddedPostgres(env.home / "postgres")


def keep_marker(env: Environment) -> Path:
    return env.home / "postgres.keep"


def is_kept(env: Environment) -> bool:
    return keep_marker(env).exists()


def running_url(env: Environment) -> str | None:
    """The embedded server's URL if it is up, else ``None`` (nothing is started)."""
    server = _server(env)
    port = server.running_port()
    if port is None:
        return None
    server.port = port
    return server.url


def start_kept(env: Environment) -> str:
    """Start (or find) the embedded server, migrate it, and keep it up."""
    if env.database_url:
        raise ChirpflowError(
            "DATABASE_URL is set: chirpflow uses that server and starts no embedded one"
        )
    env.home.mkdir(parents=True, exist_ok=True)
    keep_marker(env).touch()
    url = _server(env).start()
    migrate(url)
    return url


def stop_kept(env: Environment) -> bool:
    """Stop the embedded server; ``False`` when it was not running."""
    keep_marker(env).unlink(missing_ok=True)
    server = _server(env)
    if not server.is_running():
        return False
    server.stop()
    return True
