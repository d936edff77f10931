"""The classic Twitter date format (``Sun Sep 21 11:37:36 +0000 2025``) used by scrapers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_FORMAT = "%a %b %d %H:%M:%S %z %Y"


def to_rfc3339(value: Any) -> Any:
    """An RFC 3339 string for a classic date; anything else is returned unchanged
    (normalization then says what is wrong with it)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.strptime(value, _FORMAT).isoformat()
    except ValueError:
        return value
