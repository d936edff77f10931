"""The post outbox (``action_posts``): one row per approved draft, posted exactly once.

A row is ``pending`` until the publisher claims it: ``sending`` is committed
right before the HTTP call and left right after it, so ``sending`` means
"a call to X may be under way or was cut off". Such a row is never sent
again blindly: the publisher reads the account's own posts back and marks it
``posted`` if the reply is there, or ``pending`` if it certainly is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection

from chirpflow import metrics
from chirpflow.connectors.postgres.pool import open_pool
from chirpflow.logs import scrub

_PUBLISHER_LOCK = 0x63686970  # one publisher per database


@dataclass(frozen=True, slots=True)
class PostRow:
    draft_id: str
    text: str
    reply_to: str | None
    attempts: int
    claimed_at: datetime | None = None


class PublisherBusy(Exception):
    """Another publisher holds the outbox."""


class PostOutbox:
    def __init__(self, url: str) -> None:
        self._pool = open_pool(url, name="post-outbox", max_size=2)
        self._lock_conn: Connection[Any] | None = None

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with self._pool.connection() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else cur.rowcount

    def acquire(self, url: str) -> None:
        """Hold the publisher lock for this process's life (raises ``PublisherBusy``)."""
        conn = Connection.connect(url, autocommit=True)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_PUBLISHER_LOCK,)).fetchone()
        if not row or not row[0]:
            conn.close()
            raise PublisherBusy("another chirpflow publisher is posting from this database")
        self._lock_conn = conn

    def pending(self, limit: int = 50) -> list[PostRow]:
        rows = self._execute(
            "SELECT draft_id, text, reply_to, attempts FROM action_posts"
            " WHERE status = 'pending' AND not_before <= now() ORDER BY seq LIMIT %s",
            (limit,),
        )
        return [PostRow(*r) for r in rows]

    def in_flight(self) -> list[PostRow]:
        rows = self._execute(
            "SELECT draft_id, text, reply_to, attempts, claimed_at FROM action_posts"
            " WHERE status = 'sending' ORDER BY seq"
        )
        return [PostRow(*r) for r in rows]

    def posted_last_day(self) -> int:
        rows = self._execute(
            "SELECT count(*) FROM action_posts WHERE status IN ('posted', 'sending')"
            " AND coalesce(posted_at, claimed_at) > now() - interval '24 hours'"
        )
        return int(rows[0][0])

    def claim(self, draft_id: str) -> bool:
        changed = self._execute(
            "UPDATE action_posts SET status = 'sending', attempts = attempts + 1,"
            " claimed_at = now() WHERE draft_id = %s AND status = 'pending'",
            (draft_id,),
        )
        return bool(changed == 1)

    def mark_posted(self, draft_id: str, x_id: str, resolved_by: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE action_posts SET status = 'posted', x_id = %s, resolved_by = %s,"
                " posted_at = now() WHERE draft_id = %s",
                (x_id, resolved_by, draft_id),
            )
            conn.execute(
                "UPDATE action_drafts SET status = 'posted', updated_at = now() WHERE id = %s",
                (draft_id,),
            )
            conn.execute(
                "INSERT INTO action_audit (actor, action, target, detail)"
                " VALUES ('chirpflow', 'posted', %s, %s)",
                (draft_id, f"x id {x_id} ({resolved_by})"),
            )
        metrics.ACTIONS.labels("posted", "").inc()

    def release(self, draft_id: str, error: str, retry_at: float | None = None) -> None:
        """The post certainly did not happen: back to ``pending`` (not before ``retry_at``)."""
        self._execute(
            "UPDATE action_posts SET status = 'pending', last_error = %s,"
            " not_before = greatest(now(), coalesce(to_timestamp(%s), now()))"
            " WHERE draft_id = %s",
            (scrub(error)[:500], retry_at, draft_id),
        )

    def fail(self, draft_id: str, error: str, draft_status: str = "failed") -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE action_posts SET status = 'failed', last_error = %s WHERE draft_id = %s",
                (scrub(error)[:500], draft_id),
            )
            conn.execute(
                "UPDATE action_drafts SET status = %s, updated_at = now() WHERE id = %s",
                (draft_status, draft_id),
            )
            conn.execute(
                "INSERT INTO action_audit (actor, action, target, detail)"
                " VALUES ('chirpflow', 'post_failed', %s, %s)",
                (draft_id, scrub(error)[:500]),
            )
        metrics.ACTIONS.labels("failed" if draft_status == "failed" else "blocked", "").inc()

    def note(self, draft_id: str, error: str) -> None:
        self._execute(
            "UPDATE action_posts SET last_error = %s WHERE draft_id = %s",
            (scrub(error)[:500], draft_id),
        )

    def rows(self) -> list[tuple[Any, ...]]:
        return list(
            self._execute(
                "SELECT draft_id, status, attempts, x_id, resolved_by, last_error"
                " FROM action_posts ORDER BY seq"
            )
        )

    def close(self) -> None:
        if self._lock_conn is not None:
            self._lock_conn.close()
        self._pool.close()
