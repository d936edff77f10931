"""Drafts, decisions, context layers, the pause switch and the audit log in PostgreSQL.

A decision is one transaction: the draft row is locked, its status must still
be ``pending`` (so two admins pressing Approve at once post once), the
decision and an audit row are written, and an approval enqueues the post in
``action_posts`` (the outbox) in the same transaction.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from chirpflow import metrics
from chirpflow.action_model import CapCounts, Draft, GateResult
from chirpflow.connectors.postgres.action_stats import action_counts
from chirpflow.connectors.postgres.pool import open_pool
from chirpflow.logs import scrub

_COLUMNS = [f.name for f in fields(Draft)]


def _draft(row: tuple[Any, ...]) -> Draft:
    return Draft(**dict(zip(_COLUMNS, row, strict=True)))


class ActionStore:
    def __init__(self, url: str) -> None:
        self._pool = open_pool(url, name="actions", max_size=3)

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        with self._pool.connection() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else cur.rowcount

    # drafts
    def add_draft(self, draft: Draft, gate: GateResult) -> bool:
        """Insert (idempotent: a replay adds nothing); a blocked draft records its check."""
        status = "pending" if gate.passed else "blocked"
        with self._pool.connection() as conn, conn.transaction():
            cur = conn.execute(
                "INSERT INTO action_drafts (id, kind, source, tweet_id, conversation_id,"
                " author_id, tweet_text, text, context_version, prompt_version, risk, status,"
                " blocked_by, block_detail) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (
                    draft.id,
                    draft.kind,
                    draft.source,
                    draft.tweet_id,
                    draft.conversation_id,
                    draft.author_id,
                    draft.tweet_text,
                    draft.text,
                    draft.context_version,
                    draft.prompt_version,
                    draft.risk,
                    status,
                    gate.blocked_by,
                    gate.detail or None,
                ),
            )
            new = cur.rowcount == 1
            if new:
                conn.execute(
                    "INSERT INTO action_audit (actor, action, target, detail)"
                    " VALUES ('chirpflow', %s, %s, %s)",
                    (
                        "drafted" if gate.passed else "blocked",
                        draft.id,
                        None if gate.passed else f"{gate.blocked_by}: {gate.detail}",
                    ),
                )
        if new:
            metrics.ACTIONS.labels("drafted", "").inc()
            if not gate.passed:
                metrics.ACTIONS.labels("blocked", gate.blocked_by or "").inc()
        return new

    def draft(self, draft_id: str) -> Draft | None:
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM action_drafts WHERE id = %s", (draft_id,)
        )
        return _draft(rows[0]) if rows else None

    def drafts(self, status: str | None = None, limit: int = 50) -> list[Draft]:
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM action_drafts"
            " WHERE %s::text IS NULL OR status = %s ORDER BY created_at DESC, id LIMIT %s",
            (status, status, limit),
        )
        return [_draft(r) for r in rows]

    def set_chat_message(self, draft_id: str, message_id: str, shown: str) -> None:
        self._execute(
            "UPDATE action_drafts SET chat_message_id = %s, chat_shown = %s WHERE id = %s",
            (message_id, shown, draft_id),
        )

    def set_chat_shown(self, draft_id: str, shown: str) -> None:
        self._execute("UPDATE action_drafts SET chat_shown = %s WHERE id = %s", (shown, draft_id))

    def unsent_to_chat(self, limit: int = 20) -> list[Draft]:
        """Drafts not yet shown to the admins (pending or blocked), oldest first."""
        rows = self._execute(
            f"SELECT {', '.join(_COLUMNS)} FROM action_drafts WHERE chat_message_id IS NULL"
            " AND status IN ('pending', 'blocked') ORDER BY created_at, id LIMIT %s",
            (limit,),
        )
        return [_draft(r) for r in rows]

    def changed_in_chat(self, limit: int = 50) -> list[tuple[Draft, str | None, str | None]]:
        """Drafts whose chat message shows an older status: (draft, x id, last decider)."""
        rows = self._execute(
            f"SELECT {', '.join('d.' + c for c in _COLUMNS)}, p.x_id,"
            " (SELECT actor FROM action_decisions WHERE draft_id = d.id ORDER BY id DESC LIMIT 1)"
            " FROM action_drafts d LEFT JOIN action_posts p ON p.draft_id = d.id"
            " WHERE d.chat_message_id IS NOT NULL AND d.chat_shown IS DISTINCT FROM d.status"
            " ORDER BY d.updated_at LIMIT %s",
            (limit,),
        )
        n = len(_COLUMNS)
        return [(_draft(r[:n]), r[n], r[n + 1]) for r in rows]

    def set_state(self, key: str, value: str | None) -> None:
        if value is None:
            self._execute("DELETE FROM action_state WHERE key = %s", (key,))
            return
        self._execute(
            "INSERT INTO action_state (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            (key, value),
        )

    def state(self, key: str) -> str | None:
        rows = self._execute("SELECT value FROM action_state WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def cap_counts(
        self, author_id: str, tweet_id: str, conversation_id: str | None, author_hours: int
    ) -> CapCounts:
        rows = self._execute(
            "SELECT"
            " count(*) FILTER (WHERE created_at > now() - interval '1 day'),"
            " count(*) FILTER (WHERE author_id = %s"
            "   AND created_at > now() - make_interval(hours => %s)),"
            " (SELECT count(*) FROM action_drafts WHERE kind = 'reply' AND (tweet_id = %s"
            "   OR (%s::text IS NOT NULL AND conversation_id = %s)))"
            " FROM action_drafts WHERE kind = 'reply' AND status <> 'blocked'",
            (author_id, author_hours, tweet_id, conversation_id, conversation_id),
        )
        day, author, seen = rows[0]
        return CapCounts(int(day), int(author), bool(seen), paused=self.paused())

    # decisions
    def decide(
        self,
        draft_id: str,
        actor: str,
        decision: str,
        text: str | None = None,
        gate: GateResult | None = None,
    ) -> str:
        """Apply ``approve`` / ``auto`` / ``reject`` / ``edit``; returns the draft's new status,
        or why nothing changed (``not pending: <status>``, ``unknown draft``)."""
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT status, text, kind, tweet_id FROM action_drafts WHERE id = %s FOR UPDATE",
                (draft_id,),
            ).fetchone()
            if row is None:
                return "unknown draft"
            status, current, kind, tweet_id = row
            if status != "pending":
                return f"not pending: {status}"
            new_text = current if text is None else text
            if decision in ("approve", "auto"):
                new_status = "approved"
            elif decision == "reject":
                new_status = "rejected"
            else:  # edit: the new text was gated again by the caller
                new_status = "pending" if gate is None or gate.passed else "blocked"
            conn.execute(
                "UPDATE action_drafts SET status = %s, text = %s, updated_at = now(),"
                " blocked_by = %s, block_detail = %s WHERE id = %s",
                (
                    new_status,
                    new_text,
                    gate.blocked_by if gate else None,
                    (gate.detail or None) if gate else None,
                    draft_id,
                ),
            )
            conn.execute(
                "INSERT INTO action_decisions (draft_id, decision, actor, text)"
                " VALUES (%s, %s, %s, %s)",
                (draft_id, decision, actor, text),
            )
            conn.execute(
                "INSERT INTO action_audit (actor, action, target, detail) VALUES (%s, %s, %s, %s)",
                (actor, decision, draft_id, new_status),
            )
            outcome = {"approved": "approved", "rejected": "rejected", "blocked": "blocked"}
            if new_status in outcome:
                check = (gate.blocked_by or "") if gate and new_status == "blocked" else ""
                metrics.ACTIONS.labels(outcome[new_status], check).inc()
            if new_status == "approved":
                conn.execute(
                    "INSERT INTO action_posts (draft_id, text, reply_to) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (draft_id, new_text, tweet_id if kind == "reply" else None),
                )
            return str(new_status)

    # audit and switches
    def audit(
        self, actor: str, action: str, target: str | None, detail: str = "", allowed: bool = True
    ) -> None:
        self._execute(
            "INSERT INTO action_audit (actor, action, target, detail, allowed)"
            " VALUES (%s, %s, %s, %s, %s)",
            (actor, action, target, scrub(detail)[:500] or None, allowed),
        )

    def audit_log(self, limit: int = 50) -> list[tuple[Any, ...]]:
        return list(
            self._execute(
                "SELECT at, actor, action, target, detail, allowed FROM action_audit"
                " ORDER BY id DESC LIMIT %s",
                (limit,),
            )
        )

    def paused(self) -> bool:
        rows = self._execute("SELECT value FROM action_state WHERE key = 'paused'")
        return bool(rows) and rows[0][0] == "true"

    def set_paused(self, paused: bool, actor: str) -> None:
        self._execute(
            "INSERT INTO action_state (key, value) VALUES ('paused', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            ("true" if paused else "false",),
        )
        self.audit(actor, "pause" if paused else "resume", None)

    # context layers
    def add_context(self, text: str, actor: str) -> int:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("LOCK TABLE context_layers IN EXCLUSIVE MODE")
            row = conn.execute(
                "INSERT INTO context_layers (version, text, created_by)"
                " SELECT coalesce(max(version), 0) + 1, %s, %s FROM context_layers"
                " RETURNING version",
                (text, actor),
            ).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO action_audit (actor, action, target) VALUES (%s, 'context_add', %s)",
                (actor, str(row[0])),
            )
            return int(row[0])

    def approve_context(self, version: int, actor: str) -> bool:
        with self._pool.connection() as conn, conn.transaction():
            exists = conn.execute(
                "SELECT 1 FROM context_layers WHERE version = %s FOR UPDATE", (version,)
            ).fetchone()
            if not exists:
                return False
            conn.execute("UPDATE context_layers SET status = 'retired' WHERE status = 'active'")
            conn.execute(
                "UPDATE context_layers SET status = 'active', approved_by = %s,"
                " approved_at = now() WHERE version = %s",
                (actor, version),
            )
            conn.execute(
                "INSERT INTO action_audit (actor, action, target)"
                " VALUES (%s, 'context_approve', %s)",
                (actor, str(version)),
            )
            return True

    def rollback_context(self, actor: str) -> int | None:
        """Activate the newest approved version before the active one; None if there is none."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("LOCK TABLE context_layers IN EXCLUSIVE MODE")
            active = conn.execute(
                "SELECT version FROM context_layers WHERE status = 'active'"
            ).fetchone()
            if active is None:
                return None
            prev = conn.execute(
                "SELECT version FROM context_layers WHERE version < %s"
                " AND approved_at IS NOT NULL ORDER BY version DESC LIMIT 1",
                (active[0],),
            ).fetchone()
            if prev is None:
                return None
            conn.execute(
                "UPDATE context_layers SET status = 'retired' WHERE version = %s", (active[0],)
            )
            conn.execute(
                "UPDATE context_layers SET status = 'active' WHERE version = %s", (prev[0],)
            )
            conn.execute(
                "INSERT INTO action_audit (actor, action, target, detail)"
                " VALUES (%s, 'context_rollback', %s, %s)",
                (actor, str(prev[0]), f"from {active[0]}"),
            )
            return int(prev[0])

    def active_context(self) -> tuple[int, str] | None:
        rows = self._execute("SELECT version, text FROM context_layers WHERE status = 'active'")
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    # stats
    def counts(self) -> dict[str, int]:
        """drafted, blocked:<check>, approved, rejected, posted, failed."""
        with self._pool.connection() as conn:
            return action_counts(conn)

    def close(self) -> None:
        self._pool.close()
