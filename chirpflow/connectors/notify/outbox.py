"""The notifications outbox in PostgreSQL: exactly-once sends across crashes and replays.

A notification row (deterministic id) is inserted in the same transaction as
the analysis that raised it; a replay inserts nothing new. The dispatcher
waits for the channel's rate limits first, then claims a row by marking it
``sending`` (committed) right before the HTTP call and marks it ``sent`` (with
the remote message id) after the channel confirms: a row is ``sending`` only
while its HTTP call is under way. A row a crash left ``sending`` was
interrupted inside that call: the channel may or may not have delivered it,
and these APIs offer no way to ask. The channel's ``on_interrupted`` policy
decides: ``resend`` (back to ``pending``: may duplicate) or ``skip``
(``uncertain``: may lose); either way ``interrupted`` counts it. Everything
``pending`` is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from chirpflow.connectors.postgres.pool import open_pool
from chirpflow.logs import scrub
from chirpflow.model import Notification


def payload_of(n: Notification) -> dict[str, Any]:
    d = asdict(n)
    for key in ("id", "rule", "channel", "kind"):
        d.pop(key)
    return d


def from_row(row: tuple[Any, ...]) -> Notification:
    nid, rule, channel, kind, payload = row
    data = payload if isinstance(payload, dict) else orjson.loads(payload)
    data["fields"] = [tuple(f) for f in data.get("fields", [])]
    data["links"] = [tuple(link) for link in data.get("links", [])]
    return Notification(id=nid, rule=rule, channel=channel, kind=kind, **data)


def insert_rows(notifications: list[Notification]) -> list[tuple[Any, ...]]:
    return [(n.id, n.rule, n.channel, n.kind, Jsonb(payload_of(n))) for n in notifications]


class Outbox:
    def __init__(self, url: str, max_size: int = 4) -> None:
        self.url = url
        self._pool = open_pool(url, name="outbox", max_size=max_size)

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with self._pool.connection() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else cur.rowcount

    def add(self, notifications: list[Notification]) -> int:
        """Insert (idempotent); returns how many were new."""
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO notifications (id, rule, channel, kind, payload)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                insert_rows(notifications),
            )
            return cur.rowcount

    def recover(self, channel: str, policy: str = "resend") -> int:
        """Rows of ``channel`` a crash left ``sending``: ``resend`` -> ``pending``,
        ``skip`` -> ``uncertain``; returns how many. Only the channel's one
        sender (it holds the channel's lock) may call this."""
        status, why = (
            ("pending", "interrupted during the HTTP call: resent (may duplicate)")
            if policy == "resend"
            else ("uncertain", "interrupted during the HTTP call: delivery unknown, not resent")
        )
        return int(
            self._execute(
                "UPDATE notifications SET status = %s, last_error = %s,"
                " interrupted = interrupted + 1 WHERE channel = %s AND status = 'sending'",
                (status, why, channel),
            )
        )

    def count(self, channel: str, status: str = "pending") -> int:
        rows = self._execute(
            "SELECT count(*) FROM notifications WHERE channel = %s AND status = %s",
            (channel, status),
        )
        return int(rows[0][0]) if rows else 0

    def resend(self, channel: str | None = None) -> int:
        """``uncertain`` and ``failed`` rows back to ``pending``; re-enables their channels."""
        rows = self._execute(
            "UPDATE notifications SET status = 'pending', last_error = NULL"
            " WHERE status IN ('uncertain', 'failed') AND (%s::text IS NULL OR channel = %s)"
            " RETURNING channel",
            (channel, channel),
        )
        for name in {r[0] for r in rows} | ({channel} if channel else set()):
            self.enable(name)
        return len(rows)

    def enable(self, channel: str) -> None:
        self._execute(
            "UPDATE channel_state SET disabled = false, reason = NULL, updated_at = now()"
            " WHERE channel = %s",
            (channel,),
        )

    def rows(
        self, status: str | None = None, channel: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The newest rows, optionally of one status and/or channel."""
        rows = self._execute(
            "SELECT id, channel, status, attempts, interrupted, remote_id, last_error,"
            " created_at, sent_at FROM notifications"
            " WHERE (%s::text IS NULL OR status = %s) AND (%s::text IS NULL OR channel = %s)"
            " ORDER BY seq DESC LIMIT %s",
            (status, status, channel, channel, limit),
        )
        keys = (
            "id",
            "channel",
            "status",
            "attempts",
            "interrupted",
            "remote_id",
            "last_error",
            "created_at",
            "sent_at",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def channels_with_pending(self) -> list[str]:
        rows = self._execute("SELECT DISTINCT channel FROM notifications WHERE status = 'pending'")
        return [r[0] for r in rows]

    def sent_last_minute(self, channel: str) -> int:
        rows = self._execute(
            "SELECT count(*) FROM notifications WHERE channel = %s AND status = 'sent'"
            " AND sent_at > now() - interval '60 seconds'",
            (channel,),
        )
        return int(rows[0][0]) if rows else 0

    def pending(self, channel: str, limit: int = 1000) -> list[Notification]:
        rows = self._execute(
            "SELECT id, rule, channel, kind, payload FROM notifications"
            " WHERE status = 'pending' AND channel = %s ORDER BY seq LIMIT %s",
            (channel, limit),
        )
        return [from_row(r) for r in rows]

    def claim(self, nid: str) -> bool:
        """``pending`` -> ``sending``, committed; False if someone else took it."""
        changed = self._execute(
            "UPDATE notifications SET status = 'sending', attempts = attempts + 1,"
            " claimed_at = now() WHERE id = %s AND status = 'pending'",
            (nid,),
        )
        return bool(changed == 1)

    def mark_sent(self, nid: str, remote_id: str) -> None:
        self._execute(
            "UPDATE notifications SET status = 'sent', sent_at = now(), remote_id = %s"
            " WHERE id = %s",
            (remote_id, nid),
        )

    def release(self, nid: str, error: str) -> None:
        """A send that certainly did not happen: back to ``pending``."""
        self._execute(
            "UPDATE notifications SET status = 'pending', last_error = %s WHERE id = %s",
            (scrub(error)[:500], nid),
        )

    def mark(self, nid: str, status: str, error: str) -> None:
        self._execute(
            "UPDATE notifications SET status = %s, last_error = %s WHERE id = %s",
            (status, scrub(error)[:500], nid),
        )

    def fold(self, channel: str, folded: list[Notification]) -> Notification:
        """Replace ``folded`` by one summary notification, atomically."""
        ids = sorted(n.id for n in folded)
        digest = hashlib.blake2b("|".join(ids).encode(), digest_size=8).hexdigest()
        summary = Notification(
            id=f"fold:{channel}:{digest}",
            rule="overflow",
            channel=channel,
            kind="fold",
            title=f"{len(folded)} more alerts (channel limit reached)",
            body="Folded to stay under this channel's message limit.",
            links=[(f"{n.title}: {n.body[:80]}", n.url or "") for n in folded[:20] if n.url],
            severity=max((n.severity for n in folded), default=0),
        )
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO notifications (id, rule, channel, kind, payload)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                insert_rows([summary])[0],
            )
            conn.execute(
                "UPDATE notifications SET status = 'folded', folded_into = %s"
                " WHERE id = ANY(%s) AND status = 'pending'",
                (summary.id, ids),
            )
        return summary

    def disabled_channels(self) -> dict[str, str]:
        rows = self._execute(
            "SELECT channel, coalesce(reason, '') FROM channel_state WHERE disabled"
        )
        return {r[0]: r[1] for r in rows}

    def disable(self, channel: str, reason: str) -> None:
        self._execute(
            "INSERT INTO channel_state (channel, disabled, reason) VALUES (%s, true, %s)"
            " ON CONFLICT (channel) DO UPDATE SET disabled = true, reason = EXCLUDED.reason,"
            " updated_at = now()",
            (channel, scrub(reason)[:500]),
        )

    def chat_id(self, channel: str) -> str | None:
        rows = self._execute("SELECT chat_id FROM channel_state WHERE channel = %s", (channel,))
        return rows[0][0] if rows and rows[0][0] else None

    def set_chat_id(self, channel: str, chat_id: str) -> None:
        self._execute(
            "INSERT INTO channel_state (channel, chat_id) VALUES (%s, %s)"
            " ON CONFLICT (channel) DO UPDATE SET chat_id = EXCLUDED.chat_id, updated_at = now()",
            (channel, chat_id),
        )

    def close(self) -> None:
        self._pool.close()
