"""Draft counts for ``chirpflow stats``: drafted, blocked by check, approved, rejected, posted,
failed (empty before the actions migration or when nothing was drafted)."""

from __future__ import annotations

from typing import Any

import psycopg


def action_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    exists = conn.execute("SELECT to_regclass('action_drafts') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    out: dict[str, int] = {}
    for status, check, n in conn.execute(
        "SELECT status, blocked_by, count(*) FROM action_drafts GROUP BY 1, 2"
    ):
        out["drafted"] = out.get("drafted", 0) + int(n)
        key = f"blocked:{check}" if status == "blocked" else status
        out[key] = out.get(key, 0) + int(n)
    return out
