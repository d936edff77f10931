"""A small psycopg connection pool for the long-lived, low-volume users
(the alert outbox, the jobs API): a broken connection is checked and
replaced on checkout, so a database restart costs one failed call, not the
component.
"""

from __future__ import annotations

import weakref

from psycopg_pool import ConnectionPool

# Every pool this process opened and has not garbage-collected; the test suite
# fails a test that leaves one of them open (see ``open_pools``).
_POOLS: weakref.WeakSet[ConnectionPool] = weakref.WeakSet()


def open_pools() -> list[ConnectionPool]:
    """The pools opened by :func:`open_pool` that are still open."""
    return [p for p in list(_POOLS) if not p.closed]


def open_pool(url: str, *, name: str, max_size: int = 4, timeout_s: float = 30.0) -> ConnectionPool:
    """Autocommit connections; ``check`` pings each one before handing it out."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        name=name,
        kwargs={"autocommit": True},
        check=ConnectionPool.check_connection,
        timeout=timeout_s,
        open=True,
    )
    _POOLS.add(pool)
    return pool
