"""How to react to a failed call: retry after a delay, wait behind an open circuit, or give up.

- 429 ``rate_limit_exceeded``, 5xx, timeouts, connection errors: exponential
  backoff with full jitter, never sooner than ``retry-after(-ms)`` says.
- 429 ``insufficient_quota``, 401, 402: the circuit opens; work waits and is
  probed again every ``circuit_probe_s``, never dropped.
- other 4xx: give up on this request (the tweets become dead letters).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    RETRY = "retry"
    CIRCUIT = "circuit"
    GIVE_UP = "give_up"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay_s: float
    reason: str


def retry_after_s(headers: Any) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds) from response headers."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 60.0
    circuit_probe_s: float = 30.0

    def backoff(self, attempt: int, floor: float | None = None) -> float:
        delay = random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))
        return max(delay, floor or 0.0)

    def decide(
        self, status: int | None, code: str | None, headers: Any, attempt: int, message: str
    ) -> Decision:
        if (status == 429 and code == "insufficient_quota") or status in (401, 402):
            return Decision(Action.CIRCUIT, self.circuit_probe_s, f"{status} {code or message}")
        if status is None or status in (408, 409, 429) or status >= 500:
            floor = retry_after_s(headers)
            what = f"{status} {code}" if status else message
            return Decision(Action.RETRY, self.backoff(attempt, floor), what)
        return Decision(Action.GIVE_UP, 0.0, f"{status} {code or ''} {message}".strip())
