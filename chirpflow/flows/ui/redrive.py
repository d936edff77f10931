"""Re-driving dead letters from the dashboard: ``chirpflow dlq retry`` for admin keys.

One re-drive at a time per process; the settings are the ones the server was
started with (else $CHIRPFLOW_CONFIG or the defaults, read when asked).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, Field

from chirpflow.connectors.postgres.api_keys import Caller
from chirpflow.errors import ChirpflowError
from chirpflow.settings import Environment, Settings, load_settings

ADMIN_ONLY = (
    "re-driving dead letters needs an admin API key (chirpflow api-key create NAME --admin)"
)


class RedriveRequest(BaseModel):
    reason: str | None = Field(None, max_length=100)
    limit: int = Field(100, ge=1, le=10_000)


class Redriver:
    def __init__(self, url: str, settings: Settings | None) -> None:
        self._url = url
        self._settings = settings
        self._lock = threading.Lock()

    @staticmethod
    def allowed(caller: Caller | None) -> bool:
        return caller is not None and caller.admin

    def __call__(self, caller: Caller | None, req: RedriveRequest) -> dict[str, Any]:
        """The outcome of one ``dlq retry``; 403 unless ``caller`` is an admin."""
        from chirpflow.flows.dlq import retry_dead_letters

        if not self.allowed(caller):
            raise HTTPException(403, ADMIN_ONLY)
        try:
            with self._lock:
                settings = self._settings or load_settings()
                report = retry_dead_letters(
                    self._url, settings, Environment.from_env(), req.reason or None, req.limit
                )
        except ChirpflowError as exc:  # configuration or a service: one line
            raise HTTPException(503, str(exc).splitlines()[0]) from None
        return dataclasses.asdict(report)
