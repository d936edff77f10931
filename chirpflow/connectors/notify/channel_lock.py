"""One sender per channel across processes: a PostgreSQL session advisory lock.

The lock lives on its own connection; when the process dies (even by
``kill -9``) the server drops the connection and with it the lock, so the
next sender may take over and recover the rows left ``sending``.
"""

from __future__ import annotations

import hashlib

import psycopg


def _key(channel: str) -> int:
    digest = hashlib.blake2b(f"chirpflow.alerts:{channel}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class ChannelLock:
    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._key = _key(channel)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def acquire(self) -> bool:
        """True when this process now holds (or already held) the channel."""
        if self.held:
            return True
        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        if row and row[0]:
            self._conn = conn
            return True
        conn.close()
        return False

    def check(self) -> bool:
        """Still held? (False when the lock's connection broke: the lock is gone.)"""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # closing the session releases the lock
