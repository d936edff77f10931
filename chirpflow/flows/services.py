"""Where the configured services are: the environment's, or embedded defaults.

With ``DATABASE_URL`` unset, an embedded PostgreSQL is started with its data
under ``$CHIRPFLOW_HOME/postgres`` (default ``.chirpflow/``); a later command
finds the same one. It is stopped again by whoever started it, unless
``chirpflow db start`` asked to keep it up (see ``db_server``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from chirpflow.connectors.embedded.postgres import EmbeddedPostgres
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.db_server import is_kept
from chirpflow.settings import Environment

log = logging.getLogger(__name__)


@contextlib.contextmanager
def database(env: Environment, *, apply_migrations: bool = True) -> Iterator[str]:
    """A database URL for the duration of the block, migrated to the newest schema."""
    if env.database_url:
        if apply_migrations:
            migrate(env.database_url)
        yield env.database_url
        return
    env.home.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(env.home / "postgres")
    already_running = server.is_running()
    url = server.start()
    try:
        if apply_migrations:
            migrate(url)
        yield url
    finally:
        if not already_running and not is_kept(env):
            server.stop()
