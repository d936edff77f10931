"""Tweet API usage per day, provider and source: increments added, never overwritten."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

UsageRow = tuple[date, str, str, int, int, float]  # day, provider, source, requests, tweets, usd


def add_usage(url: str, rows: Iterable[UsageRow]) -> None:
    data = [(d, p, s, r, t, Decimal(repr(c))) for d, p, s, r, t, c in rows]
    if not data:
        return
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO source_usage AS u (day, provider, source, requests, tweets, cost_usd)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (day, provider, source) DO UPDATE SET"
            " requests = u.requests + EXCLUDED.requests, tweets = u.tweets + EXCLUDED.tweets,"
            " cost_usd = u.cost_usd + EXCLUDED.cost_usd",
            data,
        )


def usage_by_provider(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "SELECT provider, sum(requests)::bigint, sum(tweets)::bigint, sum(cost_usd)::float8"
        " FROM source_usage GROUP BY provider ORDER BY provider"
    ).fetchall()
    return {p: {"requests": r, "tweets": t, "cost_usd": c} for p, r, t, c in rows}
