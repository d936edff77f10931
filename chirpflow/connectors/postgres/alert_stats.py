"""Alerts in the outbox by channel and status, for ``chirpflow stats``."""

from __future__ import annotations

from typing import Any

import psycopg


def alerts_by_channel(conn: psycopg.Connection[Any]) -> dict[str, dict[str, int]]:
    """``{channel: {status: n, ..., "interrupted": n}}``; ``interrupted`` counts rows a
    crash cut off during their HTTP call (handled by the channel's on_interrupted)."""
    out: dict[str, dict[str, int]] = {}
    for channel, status, n in conn.execute(
        "SELECT channel, status, count(*) FROM notifications GROUP BY channel, status"
        " ORDER BY channel, status"
    ):
        out.setdefault(channel, {})[status] = n
    for channel, n in conn.execute(
        "SELECT channel, sum(interrupted)::bigint FROM notifications GROUP BY channel"
    ):
        out.setdefault(channel, {})["interrupted"] = n
    return out
