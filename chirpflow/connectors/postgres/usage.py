"""Tweet API usage: one append-only row per provider, source and flush, never overwritten.

A flush carries its own id; storing it again (a retry after an error that
came after the commit) adds nothing. Per-day totals are sums over the rows
(the ``source_usage`` view).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

UsageRow = tuple[date, str, str, int, int, float]  # day, provider, source, requests, tweets, usd


def add_usage(url: str, rows: Iterable[UsageRow], flush_id: str, run_id: str) -> None:
    """Record one flush's usage; idempotent by ``flush_id``."""
    data = [(flush_id, p, s, run_id, d, r, t, Decimal(repr(c))) for d, p, s, r, t, c in rows]
    if not data:
        return
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO source_spend"
            " (flush_id, provider, source, run_id, day, requests, tweets, cost_usd)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (flush_id, provider, source) DO NOTHING",
            data,
        )


def usage_by_provider(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "SELECT provider, sum(requests)::bigint, sum(tweets)::bigint, sum(cost_usd)::float8"
        " FROM source_spend GROUP BY provider ORDER BY provider"
    ).fetchall()
    return {p: {"requests": r, "tweets": t, "cost_usd": c} for p, r, t, c in rows}
