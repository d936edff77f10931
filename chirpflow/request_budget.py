"""Requests per API key per minute: the interface, and the in-process budget.

``chirpflow.connectors.redis.request_budget.RedisBudget`` shares one budget
between every API replica.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Protocol

WINDOW_S = 60.0


class RequestBudget(Protocol):
    per_minute: int

    def check(self, client: int) -> float:
        """0 when the request is allowed (and counted), else seconds until one is."""
        ...


class LocalBudget:
    """A sliding minute per client, in this process only."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: defaultdict[int, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: int) -> float:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and now - hits[0] >= WINDOW_S:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return WINDOW_S - (now - hits[0])
            hits.append(now)
            return 0.0
