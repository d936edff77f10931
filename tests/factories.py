"""Small builders for domain objects used across tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chirpflow.model import Notification, RawRecord, Tweet, make_origin

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def tweet(n: int, text: str | None = None, **kw: Any) -> Tweet:
    fields: dict[str, Any] = {
        "id": str(1_800_000_000_000_000_000 + n),
        "text": text if text is not None else f"tweet number {n}",
        "author_id": str(1000 + n % 7),
        "created_at": T0,
        "origin": make_origin("test:0", n),
        "source": "test",
        "fetched_at": T0,
    }
    fields.update(kw)
    return Tweet(**fields)


def payload(n: int, **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(1_800_000_000_000_000_000 + n),
        "text": f"hello #{n}",
        "author_id": "12345",
        "conversation_id": str(1_800_000_000_000_000_000 + n),
        "created_at": "2026-01-01T00:00:00Z",
        "processed_at": "2026-01-01T00:00:05Z",
        "referenced_tweet_id": None,
    }
    doc.update(kw)
    return doc


def record(seq: int, data: bytes | str | dict[str, Any], source: str = "test") -> RawRecord:
    return RawRecord(
        origin=make_origin(f"{source}:0", seq), source=source, payload=data, fetched_at=T0
    )


def notification(i: int, channel: str = "ops", **kw: Any) -> Notification:
    """Alert ``i`` of the rule ``risky`` for ``channel`` (``kw``: url, fields, severity, ...)."""
    return Notification(
        id=f"risky:{i}:{channel}",
        rule="risky",
        channel=channel,
        kind="tweet",
        title=f"alert {i}",
        body=f"tweet {i}",
        **kw,
    )
