"""One channel's sender: waits, then claims, then makes the HTTP call; nothing else.

Every wait (the per-minute cap, the channel's rate-limit bucket, a
Retry-After, the back-off after a failure) happens BEFORE a row is claimed,
so a row is ``sending`` only during its HTTP call. A 429, 5xx or refused
connection proves nothing was delivered: the row goes back to ``pending`` and
the next attempt is scheduled here. Each channel has its own sender (and, in
a process, its own thread), so a slow or rate-limited channel never delays
another; a PostgreSQL advisory lock keeps it to one sender per channel
across processes.
"""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from dataclasses import dataclass, field

import psycopg

from chirpflow import metrics
from chirpflow.connectors.notify.channel import (
    Channel,
    ChannelGone,
    RateLimited,
    Rejected,
    Transient,
)
from chirpflow.connectors.notify.channel_lock import ChannelLock
from chirpflow.connectors.notify.outbox import Outbox

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
WARN_EVERY_S = 60.0
_NEVER = threading.Event()


@dataclass
class StopSignal:
    """Set once by the dispatcher; after it, senders send what is due until ``deadline``."""

    event: threading.Event = field(default_factory=threading.Event)
    deadline: float = math.inf

    def request(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.event.set()

    @property
    def stopping(self) -> bool:
        return self.event.is_set()

    def expired(self) -> bool:
        return self.event.is_set() and time.monotonic() >= self.deadline


class Pass(enum.Enum):
    IDLE = "idle"  # nothing may be sent now (empty backlog, cap used, channel disabled)
    MORE = "more"  # a batch went out or a retry is scheduled: look again at once
    BLOCKED = "blocked"  # stopping, and the next send would pass the deadline


class ChannelSender:
    def __init__(
        self,
        outbox: Outbox,
        name: str,
        channel: Channel,
        cap: int = 20,
        on_interrupted: str = "resend",
        idle_s: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.name = name
        self.channel = channel
        self.cap = cap
        self.on_interrupted = on_interrupted
        self.idle_s = idle_s
        self.lock = ChannelLock(outbox.url, name)
        self.sent = 0
        self._retry_at = 0.0
        self._failures = 0
        self._last_error = ""
        self._last_warned = -math.inf
        self._waiting_logged = False

    # -- taking the channel ------------------------------------------------------------

    def take(self) -> bool:
        """Hold the channel's lock (once held, rows left ``sending`` are recovered)."""
        if self.lock.held and self.lock.check():
            return True
        if not self.lock.acquire():
            if not self._waiting_logged:
                log.info("alerts channel %s: another process sends for it; waiting", self.name)
                self._waiting_logged = True
            return False
        interrupted = self.outbox.recover(self.name, self.on_interrupted)
        if interrupted:
            resend = self.on_interrupted == "resend"
            outcome = "interrupted_resent" if resend else "interrupted_skipped"
            metrics.NOTIFICATIONS.labels(self.name, outcome).inc(interrupted)
            log.warning(
                "alerts channel %s: %d alert(s) were interrupted during their HTTP call;"
                " on_interrupted = %r: %s",
                self.name,
                interrupted,
                self.on_interrupted,
                "sent again (a copy may already have arrived)"
                if self.on_interrupted == "resend"
                else "marked uncertain, not resent (`chirpflow alerts resend` sends them)",
            )
        reason = self.outbox.disabled_channels().get(self.name)
        if reason is not None:
            log.error(
                "alerts channel %s is disabled (%s): %d alert(s) wait in the outbox;"
                " fix the channel, then run `chirpflow alerts resend --channel %s`",
                self.name,
                reason,
                self.outbox.count(self.name),
                self.name,
            )
        return True

    # -- one pass ----------------------------------------------------------------------

    def send_due(self, stop: StopSignal | None = None) -> Pass:
        """Send the batch the cap allows now, one row at a time."""
        if self.name in self.outbox.disabled_channels():
            return Pass.IDLE
        allowance = self.cap - self.outbox.sent_last_minute(self.name)
        if allowance <= 0:
            return Pass.IDLE
        backlog = self.outbox.pending(self.name)
        if not backlog:
            return Pass.IDLE
        if len(backlog) > allowance:  # fold the overflow instead of dropping it
            keep = max(allowance - 1, 0)
            folded = backlog[keep:]
            summary = self.outbox.fold(self.name, folded)
            metrics.NOTIFICATIONS.labels(self.name, "folded").inc(len(folded))
            backlog = [*backlog[:keep], summary]
        for n in backlog[:allowance]:
            if not self._wait_ready(stop):
                return Pass.BLOCKED
            if not self.outbox.claim(n.id):
                continue
            # claimed: from here to mark_sent/release is the HTTP call alone
            try:
                remote = self.channel.send(n)
            except RateLimited as err:
                self.outbox.release(n.id, str(err))
                self._retry_at = time.monotonic() + (err.retry_after or 1.0)
                metrics.NOTIFICATIONS.labels(self.name, "rate_limited").inc()
                return Pass.MORE
            except Transient as err:
                self.outbox.release(n.id, str(err))
                self._failed(err)
                return Pass.MORE
            except ChannelGone as err:
                self.outbox.release(n.id, str(err))
                self.outbox.disable(self.name, str(err))
                metrics.NOTIFICATIONS.labels(self.name, "channel_disabled").inc()
                log.error(
                    "alerts channel %s disabled: %s (its alerts wait in the outbox;"
                    " `chirpflow alerts resend --channel %s` re-enables it)",
                    self.name,
                    err,
                    self.name,
                )
                return Pass.IDLE
            except Rejected as err:
                self.outbox.mark(n.id, "failed", str(err))
                metrics.NOTIFICATIONS.labels(self.name, "failed").inc()
                log.error("alert %s rejected by channel %s: %s", n.id, self.name, err)
                continue
            self.outbox.mark_sent(n.id, remote)
            metrics.NOTIFICATIONS.labels(self.name, "sent").inc()
            self.sent += 1
            self._succeeded()
        return Pass.MORE

    def _wait_ready(self, stop: StopSignal | None) -> bool:
        """Wait for the rate limits and any scheduled retry; False when stopping and
        the wait would pass the deadline (the row then stays ``pending``)."""
        while True:
            delay = max(self.channel.ready_in(), self._retry_at - time.monotonic())
            if stop is not None and stop.expired():
                return False
            if delay <= 0:
                return True
            if not self._pause(delay, stop):
                return False

    def _pause(self, seconds: float, stop: StopSignal | None) -> bool:
        """Wait ``seconds`` (a stop request wakes it early); False if that would pass
        the stop's deadline."""
        if stop is None:
            _NEVER.wait(seconds)
            return True
        if not stop.stopping:
            stop.event.wait(seconds)
            return True
        if time.monotonic() + seconds >= stop.deadline:
            return False
        _NEVER.wait(seconds)
        return True

    def _failed(self, err: Transient) -> None:
        self._failures += 1
        self._last_error = str(err)
        backoff = err.retry_after or min(MAX_BACKOFF_S, 2.0 ** min(self._failures - 1, 6))
        now = time.monotonic()
        self._retry_at = now + backoff
        metrics.NOTIFICATIONS.labels(self.name, "retry").inc()
        if self._failures == 1 or now - self._last_warned >= WARN_EVERY_S:
            self._last_warned = now
            log.warning(
                "alerts channel %s: delivery failing (%s): %d alert(s) pending,"
                " %d failed attempt(s), next try in %.0fs",
                self.name,
                err,
                self.outbox.count(self.name),
                self._failures,
                backoff,
            )

    def _succeeded(self) -> None:
        if self._failures:
            log.info(
                "alerts channel %s: delivering again after %d failed attempt(s)",
                self.name,
                self._failures,
            )
        self._failures = 0
        self._last_error = ""

    # -- the thread --------------------------------------------------------------------

    def run(self, stop: StopSignal) -> None:
        """Until stopped; then send what is due until the deadline and end, leaving
        every unsent row ``pending``."""
        try:
            while not stop.expired():
                try:
                    if not self.take():
                        if stop.stopping or not self._pause(self.idle_s, stop):
                            break
                        continue
                    result = self.send_due(stop)
                except psycopg.Error as err:  # the database is away: wait, the rows are safe
                    log.warning("alerts channel %s: database unavailable: %s", self.name, err)
                    self.lock.check()
                    result = Pass.IDLE
                except Exception:  # keep alerting alive; the rows stay in the outbox
                    log.exception("alerts channel %s: dispatch failed", self.name)
                    result = Pass.IDLE
                if stop.stopping and result is not Pass.MORE:
                    break
                if result is Pass.IDLE and not self._pause(self.idle_s, stop):
                    break
        finally:
            self._report_left()
            self.lock.release()

    def _report_left(self) -> None:
        if not self.lock.held:
            return
        try:
            left = self.outbox.count(self.name)
        except Exception:
            return
        if left:
            last = f"; last error: {self._last_error}" if self._last_error else ""
            log.warning(
                "alerts channel %s: %d alert(s) still pending at stop (the next run sends them)%s",
                self.name,
                left,
                last,
            )
