"""Tweet API spend: metrics as it happens, PostgreSQL every few seconds, alerts on stops.

Each flush becomes one usage record with its own id, kept until it is stored:
a retry stores that same record (counted once), and a failing alert outbox
never makes usage count twice.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from chirpflow import metrics
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.postgres.usage import UsageRow, add_usage
from chirpflow.connectors.sources.polling_reader import Usage
from chirpflow.model import Notification
from chirpflow.runs import current_run_id, new_record_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """The usage of one flush, stored under its own id."""

    flush_id: str
    rows: list[UsageRow]


class UsageMeter:
    """Collects :class:`Usage` from the polling threads; ``flush`` stores the increments."""

    def __init__(self, url: str | None, alert_channels: list[str] | None = None) -> None:
        self.url = url
        self.alert_channels = alert_channels or []
        self._pending: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        self._stopped: list[tuple[str, str]] = []
        self._unsaved: list[UsageRecord] = []  # flushed, not yet stored
        self._unsent: list[tuple[str, str, str]] = []  # stop alerts (stream, reason, day)
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])

    def on_usage(self, u: Usage) -> None:
        metrics.SOURCE_REQUESTS.labels(u.provider).inc(u.requests)
        metrics.SOURCE_TWEETS.labels(u.provider).inc(u.tweets)
        metrics.SOURCE_COST.labels(u.provider).inc(u.cost_usd)
        if u.remaining is not None:
            metrics.SOURCE_REMAINING.labels(u.provider).set(u.remaining)
        with self._lock:
            for acc in (self._pending[(u.provider, u.source)], self.totals[u.provider]):
                acc[0] += u.requests
                acc[1] += u.tweets
                acc[2] += u.cost_usd

    def on_fatal(self, stream: str, reason: str) -> None:
        metrics.SOURCES_STOPPED.inc()
        with self._lock:
            self._stopped.append((stream, reason))

    def flush(self) -> None:
        with self._flushing:
            day = datetime.now(UTC).date()
            with self._lock:
                pending, self._pending = self._pending, defaultdict(lambda: [0, 0, 0.0])
                stopped, self._stopped = self._stopped, []
            if self.url is None:
                return
            if pending:
                rows: list[UsageRow] = [
                    (day, p, s, int(r), int(t), c) for (p, s), (r, t, c) in pending.items()
                ]
                self._unsaved.append(UsageRecord(new_record_id(), rows))
            self._unsent += [(s, r, day.isoformat()) for s, r in stopped]
            self._store(self.url)
            self._alert_stops(self.url)

    def _store(self, url: str) -> None:
        while self._unsaved:
            record = self._unsaved[0]
            try:
                add_usage(url, record.rows, record.flush_id, current_run_id())
            except Exception:  # kept, with its id, for the next flush
                log.exception("storing tweet API usage failed; will retry")
                return
            self._unsaved.pop(0)

    def _alert_stops(self, url: str) -> None:
        if not self._unsent or not self.alert_channels:
            self._unsent = []
            return
        alerts = [
            self._alert(s, r, ch, day) for s, r, day in self._unsent for ch in self.alert_channels
        ]
        try:
            outbox = Outbox(url)
            try:
                outbox.add(alerts)
            finally:
                outbox.close()
        except Exception:  # notification ids are deterministic: a retry adds each once
            log.exception("queueing source-stopped alerts failed; will retry")
            return
        self._unsent = []

    @staticmethod
    def _alert(stream: str, reason: str, channel: str, day: str) -> Notification:
        return Notification(
            id=f"source-stopped:{stream}:{day}:{channel}",
            rule="source_stopped",
            channel=channel,
            kind="tweet",
            title=f"Source stopped: {stream}",
            body=reason,
            severity=90,
        )


class UsageFlusher:
    """Flushes a meter every ``interval_s`` on a daemon thread, and once at ``stop``."""

    def __init__(self, meter: UsageMeter, interval_s: float = 10.0) -> None:
        self.meter = meter
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), daemon=True, name="usage"
        )
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self.meter.flush()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.meter.flush()
