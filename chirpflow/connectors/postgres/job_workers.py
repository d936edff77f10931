"""Heartbeats of job workers (``chirpflow run`` with ``[jobs] enabled``) in PostgreSQL.

A worker refreshes its row every ``HEARTBEAT_S`` seconds and deletes it when
it stops; the jobs API refuses new jobs when no row is younger than
``WORKER_STALE_S`` (a job would otherwise wait in the queue for ever).
"""

from __future__ import annotations

import os
import socket
import uuid

from psycopg_pool import ConnectionPool

HEARTBEAT_S = 5.0
# a worker waits up to 60 s on a rate-limited provider between two beats
WORKER_STALE_S = 90.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobWorkers:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def beat(self, worker_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO job_workers (id) VALUES (%s) ON CONFLICT (id) DO UPDATE"
                " SET seen_at = now()",
                (worker_id,),
            )

    def leave(self, worker_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM job_workers WHERE id = %s", (worker_id,))

    def last_seen_s(self) -> float | None:
        """Seconds since the most recent heartbeat of any worker; None if none is known."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM now() - max(seen_at))::float8 FROM job_workers"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def alive(self, within_s: float = WORKER_STALE_S) -> bool:
        seen = self.last_seen_s()
        return seen is not None and seen <= within_s
