"""Bounded stop: SIGINT / SIGTERM end the process within ``timeout_s``, in every state.

The first signal asks running work to finish (every registered *drain* event
is set: sources end, open chunks flush, sinks write) and starts the clock.
When the deadline passes, or a second signal arrives, the process ends at
once: unfinished work is neither flushed nor acknowledged, so it stays in the
recovery snapshot or the outbox and is resumed next start. Registered
*cleanups* (embedded servers this process started) run first. With nothing
to drain, the signal raises :class:`Interrupted` in the main thread so that
``with`` blocks unwind. The exit status is 128 + the signal number: 130 after
SIGINT, 143 after SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop signal arrived while there was nothing to drain."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Shutdown:
    """The process's stop state; one instance, :data:`SHUTDOWN`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.timeout_s = DEFAULT_TIMEOUT_S
        self._timeout_fixed = False
        self.signum: int | None = None
        self.deadline: float | None = None
        self.aborting = threading.Event()
        """Set at the deadline: waits (retries, circuit probes) end now."""
        self._drains: list[threading.Event] = []
        self._cleanups: list[Callable[[], None]] = []
        self._installed = 0
        self._previous: dict[int, Any] = {}

    def configure(self, timeout_s: float | None, *, explicit: bool = False) -> None:
        """Set the bound; an ``explicit`` value (a command-line flag) wins over config."""
        if timeout_s is None or (self._timeout_fixed and not explicit):
            return
        self.timeout_s = max(0.0, timeout_s)
        self._timeout_fixed = self._timeout_fixed or explicit

    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum

    def remaining(self, default: float) -> float:
        """Seconds left before the deadline, or ``default`` when no stop was asked."""
        if self.deadline is None:
            return default
        return max(0.0, min(default, self.deadline - time.monotonic()))

    @contextmanager
    def draining(self, event: threading.Event) -> Iterator[None]:
        """``event`` is set by the first stop signal (at once if one already came)."""
        with self._lock:
            self._drains.append(event)
            if self.signum is not None:
                event.set()
        try:
            yield
        finally:
            with self._lock:
                self._drains.remove(event)

    @contextmanager
    def cleanup(self, fn: Callable[[], None]) -> Iterator[None]:
        """``fn`` runs before the process ends at the deadline (and not otherwise)."""
        with self._lock:
            self._cleanups.append(fn)
        try:
            yield
        finally:
            with self._lock:
                self._cleanups.remove(fn)

    @contextmanager
    def handling(self) -> Iterator[None]:
        """SIGINT and SIGTERM lead here for the duration of the block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        with self._lock:
            if self._installed == 0:
                for sig in SIGNALS:
                    self._previous[sig] = signal.signal(sig, self._handler)
            self._installed += 1
        try:
            yield
        finally:
            with self._lock:
                self._installed -= 1
                if self._installed == 0:
                    for number, previous in self._previous.items():
                        signal.signal(number, previous)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)

    def request(self, signum: int) -> None:
        """A stop signal: drain on the first, end at once on the second."""
        with self._lock:
            if self.signum is not None:
                second = True
            else:
                second = False
                self.signum = signum
                self.deadline = time.monotonic() + self.timeout_s
                drains = list(self._drains)
        name = signal.Signals(signum).name
        if second:
            self.abort(f"{name} again")
            return
        threading.Thread(target=self._watchdog, name="stop-deadline", daemon=True).start()
        if not drains:
            raise Interrupted(signum)
        log.warning(
            "%s: finishing open chunks and flushing sinks for at most %gs "
            "(again to stop at once; unfinished work resumes next start)",
            name,
            self.timeout_s,
        )
        for event in drains:
            event.set()

    def _watchdog(self) -> None:
        deadline = self.deadline
        assert deadline is not None
        if not self.aborting.wait(max(0.0, deadline - time.monotonic())):
            self.abort(f"stop deadline of {self.timeout_s:g}s reached")

    def abort(self, why: str) -> None:
        """End the process now; nothing unfinished is flushed or acknowledged."""
        self.aborting.set()
        log.warning("%s: stopping now; unfinished work stays in the recovery snapshot", why)
        with self._lock:
            cleanups = list(reversed(self._cleanups))
        for fn in cleanups:
            try:
                fn()
            except Exception as err:  # the exit must happen whatever a cleanup does
                log.warning("cleanup at stop failed: %s", err)
        for handler in logging.getLogger().handlers:
            with suppress(Exception):
                handler.flush()
        for stream in (sys.stdout, sys.stderr):
            with suppress(Exception):
                stream.flush()
        os._exit(self.exit_code() or 1)


SHUTDOWN = Shutdown()
