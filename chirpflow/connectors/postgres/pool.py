"""A small psycopg connection pool for the long-lived, low-volume users
(the alert outbox, the jobs API): a broken connection is checked and
replaced on checkout, so a database restart costs one failed call, not the
component.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool


def open_pool(url: str, *, name: str, max_size: int = 4, timeout_s: float = 30.0) -> ConnectionPool:
    """Autocommit connections; ``check`` pings each one before handing it out."""
    return ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        name=name,
        kwargs={"autocommit": True},
        check=ConnectionPool.check_connection,
        timeout=timeout_s,
        open=True,
    )
