"""Dead letters in the store: list, show, and re-drive them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from chirpflow.model import DeadLetterReason, RawRecord


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    origin: str
    source: str
    reason: str
    detail: str
    payload: str
    tweet_id: str | None
    first_seen: datetime
    last_seen: datetime
    attempts: int

    def record(self) -> RawRecord:
        """The original input again, as a source would have read it."""
        return RawRecord(self.origin, self.source, self.payload.encode(), self.last_seen)


_COLS = "origin, source, reason, detail, payload, tweet_id, first_seen, last_seen, attempts"


def list_dead_letters(
    url: str, reason: str | None = None, source: str | None = None, limit: int = 50
) -> list[StoredDeadLetter]:
    where, args = [], []
    if reason:
        where.append("reason = %s")
        args.append(reason)
    if source:
        where.append("source = %s")
        args.append(source)
    sql = f"SELECT {_COLS} FROM dead_letters"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY last_seen DESC, origin LIMIT %s"
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql.encode(), [*args, limit]).fetchall()
    return [StoredDeadLetter(*r) for r in rows]


def get_dead_letter(url: str, origin: str) -> StoredDeadLetter | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"SELECT {_COLS} FROM dead_letters WHERE origin = %s".encode(), (origin,)
        ).fetchone()
    return StoredDeadLetter(*row) if row else None


def failed_again(url: str, failures: dict[str, tuple[DeadLetterReason, str]]) -> None:
    """Count another attempt for dead letters that failed again."""
    with psycopg.connect(url) as conn:
        for origin, (reason, detail) in failures.items():
            conn.execute(
                "UPDATE dead_letters SET attempts = attempts + 1, last_seen = now(),"
                " reason = %s, detail = %s WHERE origin = %s",
                (reason.value, detail[:500], origin),
            )
