"""Logging setup: text for people, JSON lines for machines, secrets never printed.

Every record passes a redaction filter that replaces the values of the known
secret variables (API keys, tokens, webhook URLs, passwords inside URLs)
with ``****``, in the message, its arguments and any exception text.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from chirpflow.live_line import LIVE

SECRET_VARS = (
    "OPENAI_API_KEY",
    "X_BEARER_TOKEN",
    "TWITTERAPI_IO_KEY",
    "RAPIDAPI_KEY",
    "DISCORD_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
)
_URL_PASSWORD = re.compile(r"(//[^:/@\s]*:)[^@\s]+@")
_EXTRA_KEYS = ("source", "stream", "channel")  # passed as logging `extra`
# The chunk (or job) being worked on in this thread or task; JSON logs carry it.
CHUNK_ID: ContextVar[str | None] = ContextVar("chunk_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values to hide: the secret variables, plus any *_TOKEN / *_KEY / *_SECRET ones."""
    env = os.environ if env is None else env
    names = set(SECRET_VARS) | {
        k for k in env if k.endswith(("_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "WEBHOOK_URL"))
    }
    return sorted({env[n] for n in names if len(env.get(n) or "") >= 6}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "****")
    return _URL_PASSWORD.sub(r"\1****@", text)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(
                "".join(traceback.format_exception(*record.exc_info)), self.secrets
            )
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, known context keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for var, key in ((CHUNK_ID, "chunk_id"), (JOB_ID, "job_id")):
            value = var.get()
            if value is not None:
                doc[key] = value
        for key in _EXTRA_KEYS:
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_text:
            doc["exception"] = record.exc_text
        return orjson.dumps(doc, default=str).decode()


class LiveAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes records above the live summary line (see chirpflow.live_line), never into it.

    Without a stream it writes to whatever ``sys.stderr`` is at the time, so rich
    progress bars (which swap ``sys.stderr`` while drawn) print records above the bars.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            out = sys.stderr if self._follow_stderr else self.stream
            LIVE.write_above(out, self.format(record))
        except Exception:
            self.handleError(record)


def setup_logging(level: int, fmt: str = "text") -> None:
    """Configure the root logger once; ``fmt`` is ``text`` or ``json``."""
    handler = LiveAwareHandler()
    handler.addFilter(RedactingFilter(secret_values()))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
