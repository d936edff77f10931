"""How to react to a failed call: retry after a delay, wait behind an open circuit, or give up.

- 429 ``rate_limit_exceeded``, 5xx, timeouts, connection errors: exponential
  backoff with full jitter, never sooner than ``retry-after(-ms)`` says
  (the schedules of :mod:`chirpflow.retry`, shared by every connector).
- 429 ``insufficient_quota``, 401, 402: the circuit opens; work waits and is
  probed again every ``circuit_probe_s``, never dropped.
- other 4xx: give up on this request (the tweets become dead letters).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chirpflow.retry import Schedule, full_jitter, retry_after_s

__all__ = ["Action", "Decision", "RetryPolicy", "retry_after_s"]


class Action(StrEnum):
    RETRY = "retry"
    CIRCUIT = "circuit"
    GIVE_UP = "give_up"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 60.0
    circuit_probe_s: float = 30.0

    def backoff(self, attempt: int, floor: float | None = None) -> float:
        """The wait after failure number ``attempt + 1`` (0 = the first)."""
        return Schedule(full_jitter(self.base_s, self.cap_s)).delay(attempt + 1, floor)

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
