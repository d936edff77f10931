"""Send pending notifications, at most ``max_per_minute`` per channel, exactly once.

When a channel's backlog is bigger than what its cap allows this minute, the
overflow is folded into one summary message instead of being dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from chirpflow import metrics
from chirpflow.connectors.notify.channel import Channel, ChannelGone, Rejected, Transient
from chirpflow.connectors.notify.outbox import Outbox

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        max_per_minute: Mapping[str, int],
    ) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        self.caps = dict(max_per_minute)
        self.uncertain = outbox.recover()
        if self.uncertain:
            log.error("%d notifications were interrupted while sending: not resent", self.uncertain)

    def run_once(self) -> int:
        """Send what may be sent now; returns how many messages went out."""
        sent = 0
        disabled = self.outbox.disabled_channels()
        for name in self.outbox.channels_with_pending():
            channel = self.channels.get(name)
            if channel is None or name in disabled:
                continue
            sent += self._drain(name, channel)
        return sent

    def _drain(self, name: str, channel: Channel) -> int:
        cap = self.caps.get(name, 20)
        allowance = cap - self.outbox.sent_last_minute(name)
        if allowance <= 0:
            return 0
        backlog = self.outbox.pending(name)
        if len(backlog) > allowance:
            keep = max(allowance - 1, 0)
            folded = backlog[keep:]
            summary = self.outbox.fold(name, folded)
            metrics.NOTIFICATIONS.labels(name, "folded").inc(len(folded))
            backlog = [*backlog[:keep], summary]
        sent = 0
        for n in backlog[:allowance]:
            if not self.outbox.claim(n.id):
                continue
            try:
                remote = channel.send(n)
            except Transient as err:
                self.outbox.release(n.id, str(err))
                metrics.NOTIFICATIONS.labels(name, "retry").inc()
                break
            except ChannelGone as err:
                self.outbox.release(n.id, str(err))
                self.outbox.disable(name, str(err))
                metrics.NOTIFICATIONS.labels(name, "channel_disabled").inc()
                log.error("channel %s disabled: %s (its alerts wait in the outbox)", name, err)
                break
            except Rejected as err:
                self.outbox.mark(n.id, "failed", str(err))
                metrics.NOTIFICATIONS.labels(name, "failed").inc()
                log.error("notification %s rejected by %s: %s", n.id, name, err)
                continue
            self.outbox.mark_sent(n.id, remote)
            metrics.NOTIFICATIONS.labels(name, "sent").inc()
            sent += 1
        return sent

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep alerting alive; the rows stay in the outbox
                log.exception("notification dispatch failed")
            stop.wait(interval)
