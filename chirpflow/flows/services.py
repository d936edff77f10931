"""Where the configured services are: the environment's, or embedded defaults.

With ``DATABASE_URL`` unset, an embedded PostgreSQL is started with its data
under ``$CHIRPFLOW_HOME/postgres`` (default ``.chirpflow/``); a later command
finds the same one. It is stopped again by whoever started it (also when a stop
signal ends the process at its deadline), unless ``chirpflow db start`` asked to
keep it up (see ``db_server``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from chirpflow.connectors.embedded.postgres import EmbeddedPostgres
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.db_server import is_kept
from chirpflow.settings import Environment
from chirpflow.shutdown import SHUTDOWN

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

    def stop_unless_kept() -> None:
        if not is_kept(env):  # `chirpflow db start` keeps it up for outside tools
            server.stop()

    stop_once = _Once(stop_unless_kept if not already_running else _nothing)
    try:
        with SHUTDOWN.cleanup(stop_once):
            if apply_migrations:
                migrate(url)
            yield url
    finally:
        stop_once()


def _nothing() -> None:
    return None


class _Once:
    """``fn`` the first time it is called, from whichever thread (a stop deadline or the block)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._done = False

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            self._fn()
