"""One retry policy for every outbound call: tenacity's schedules, waits a stop can cut short.

- :func:`retrying` runs a call again on the given errors with a tenacity
  schedule until it succeeds, ``max_delay_s`` passes, or the process stops
  (:data:`chirpflow.shutdown.SHUTDOWN` reaches its deadline).
- :class:`Schedule` gives the successive delays of a tenacity schedule to
  loops that are not one call (a reconnect loop, a polling loop).
- :func:`full_jitter`, :func:`scaled_jitter`, :func:`doubling` and
  :func:`stepping` are the schedules in use; :func:`retry_after_s` reads the
  server's ``Retry-After`` so no wait is shorter than it asks.
- :func:`pause` / :func:`pause_async` wait, ending early when the process stops.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity
from tenacity.wait import wait_base

from chirpflow.shutdown import SHUTDOWN

T = TypeVar("T")
_SLICE_S = 0.25  # async waits look at the stop event this often


def full_jitter(base_s: float, cap_s: float) -> wait_base:
    """Attempt n waits uniform(0, min(cap, base * 2**(n-1))) (AWS "full jitter")."""
    return tenacity.wait_random_exponential(multiplier=base_s, max=cap_s)


class scaled_jitter(wait_base):
    """Attempt n waits min(cap, base * 2**n) times uniform(low, 1)."""

    def __init__(self, base_s: float, cap_s: float, low: float = 0.5) -> None:
        self.base_s, self.cap_s, self.low = base_s, cap_s, low

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        top = min(self.cap_s, self.base_s * 2 ** min(retry_state.attempt_number, 60))
        return float(top * random.uniform(self.low, 1.0))


def doubling(start_s: float, cap_s: float | None = None) -> wait_base:
    """Attempt n waits start * 2**(n-1), at most ``cap_s``."""
    if cap_s is None:
        return tenacity.wait_exponential(multiplier=start_s)
    return tenacity.wait_exponential(multiplier=start_s, max=cap_s)


def stepping(step_s: float, cap_s: float) -> wait_base:
    """Attempt n waits step * n, at most ``cap_s``."""
    return tenacity.wait_incrementing(start=step_s, increment=step_s, max=cap_s)


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


class Schedule:
    """The delays of ``wait`` one after another; ``reset()`` after a success."""

    def __init__(self, wait: wait_base) -> None:
        self._wait = wait
        self.attempt = 0

    def delay(self, attempt: int, floor: float | None = None) -> float:
        """The wait before retry number ``attempt`` (1 = the first retry)."""
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = max(1, attempt)
        return max(float(self._wait(state)), floor or 0.0)

    def next(self, floor: float | None = None) -> float:
        self.attempt += 1
        return self.delay(self.attempt, floor)

    def reset(self) -> None:
        self.attempt = 0


def pause(seconds: float, stop: threading.Event | None = None) -> bool:
    """Wait ``seconds``; False if ``stop`` was set or the process stops meanwhile."""
    if stop is None:
        return not SHUTDOWN.aborting.wait(max(0.0, seconds))
    return not stop.wait(max(0.0, seconds)) and not SHUTDOWN.aborting.is_set()


async def pause_async(seconds: float) -> bool:
    """Wait ``seconds`` on the event loop; False if the process stops meanwhile."""
    loop = asyncio.get_running_loop()
    until = loop.time() + max(0.0, seconds)
    while not SHUTDOWN.aborting.is_set():
        left = until - loop.time()
        if left <= 0:
            return True
        await asyncio.sleep(min(left, _SLICE_S))
    return False


def _sleep(seconds: float) -> None:
    pause(seconds)


def retrying(
    call: Callable[[], T],
    *,
    on: type[BaseException] | tuple[type[BaseException], ...],
    wait: wait_base,
    max_delay_s: float,
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
) -> T:
    """``call()``, again after each error of type ``on``; the last error is raised."""
    retryer = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(on),
        wait=wait,
        stop=tenacity.stop_after_delay(max_delay_s)
        | tenacity.stop_when_event_set(SHUTDOWN.aborting),
        sleep=_sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retryer(call)
