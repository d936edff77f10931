"""Logging setup: text for people, JSON lines for machines, secrets never printed.

Every record passes a redaction filter that replaces the values of the known
secret variables (API keys, tokens, webhook URLs, passwords inside URLs)
with ``****``, in the message, its arguments and any exception text. The
variables a configuration names for its secrets (``webhook_url_env``,
``bot_token_env``) join them through :func:`add_secret_vars`, also after
logging was set up. :func:`scrub` applies the same masking to error texts
before they are stored or printed.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
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
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SSL_KEY_PASSWORD",
)
# variables the configuration names as secrets (add_secret_vars)
_CONFIGURED_VARS: set[str] = set()
_URL_PASSWORD = re.compile(r"(//[^:/@\s]*:)[^@\s]+@")
_EXTRA_KEYS = ("source", "stream", "channel")  # passed as logging `extra`
# The chunk (or job) being worked on in this thread or task; JSON logs carry it.
CHUNK_ID: ContextVar[str | None] = ContextVar("chunk_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values to hide: the secret variables, plus any *_TOKEN / *_KEY / *_SECRET ones."""
    env = os.environ if env is None else env
    names = (
        set(SECRET_VARS)
        | _CONFIGURED_VARS
        | {k for k in env if k.endswith(("_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "WEBHOOK_URL"))}
    )
    values = {env[n] for n in names if len(env.get(n) or "") >= 6}
    # a webhook URL's last segment is its token: masked also when shown alone
    values |= {v.rstrip("/").rsplit("/", 1)[-1] for v in values if "/webhooks/" in v}
    return sorted({v for v in values if len(v) >= 6}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "****")
    return _URL_PASSWORD.sub(r"\1****@", text)


def scrub(text: str) -> str:
    """``text`` with every secret value of this process masked (for stored errors)."""
    return redact(text, secret_values())


def add_secret_vars(names: Iterable[str]) -> None:
    """Mask these variables' values too, in logging already set up and from now on."""
    _CONFIGURED_VARS.update(n for n in names if n)
    values = secret_values()
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, RedactingFilter):
                f.secrets = values


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
