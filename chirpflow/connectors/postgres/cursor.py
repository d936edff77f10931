"""Keyset paging of analysed tweets: a cursor is the position of a page's last row.

Rows are ordered newest first by (created_at, id); the next page holds the rows
strictly before the cursor, so rows arriving meanwhile neither shift nor repeat
what the next page shows (as OFFSET would). On the wire a cursor is an opaque
URL-safe token.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chirpflow.errors import ChirpflowError


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    id: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> Cursor:
        return cls(row["created_at"], int(row["id"]))

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor of ``token``; a ChirpflowError naming it if it is not one."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            when, _, key = raw.partition("|")
            created_at = datetime.fromisoformat(when)
            if created_at.tzinfo is None:
                raise ValueError("no time zone")
            return cls(created_at, int(key))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            shown = token if len(token) <= 60 else token[:60] + "..."
            raise ChirpflowError(
                f"{shown!r} is not a paging cursor (the one printed for the next page)"
            ) from None


@dataclass(frozen=True, slots=True)
class TweetPage:
    rows: list[dict[str, Any]]
    next: str | None  # the cursor of the next page; None on the last
