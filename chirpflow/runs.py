"""One run id per process start, stamped on every spend record the process makes.

``chirpflow stats`` groups spend by it, so a rerun's own (often zero) cost
shows beside the lifetime figures instead of replacing them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

RUN_ID = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def current_run_id() -> str:
    return RUN_ID


def new_record_id() -> str:
    """A fresh key for one spend record (one LLM call, one usage flush)."""
    return uuid.uuid4().hex
