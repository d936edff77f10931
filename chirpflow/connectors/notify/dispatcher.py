"""Send pending notifications: one sender per channel, at most ``max_per_minute`` each.

When a channel's backlog is bigger than what its cap allows this minute, the
overflow is folded into one summary message instead of being dropped.
``start()`` runs each channel on its own thread (channels never wait for one
another); ``stop(timeout)`` lets each finish its HTTP call in flight and send
what is due until the timeout, leaving every other row ``pending``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from chirpflow.connectors.notify.channel import Channel
from chirpflow.connectors.notify.channel_sender import ChannelSender, StopSignal
from chirpflow.connectors.notify.outbox import Outbox

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        max_per_minute: Mapping[str, int],
        on_interrupted: Mapping[str, str] | None = None,
        idle_s: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        policies = on_interrupted or {}
        self.senders = {
            name: ChannelSender(
                outbox,
                name,
                channel,
                cap=max_per_minute.get(name, 20),
                on_interrupted=policies.get(name, "resend"),
                idle_s=idle_s,
            )
            for name, channel in self.channels.items()
        }
        self._stop = StopSignal()
        self._threads: list[threading.Thread] = []

    def run_once(self) -> int:
        """Send, on this thread, what each channel may send now; returns how many."""
        before = sum(s.sent for s in self.senders.values())
        for sender in self.senders.values():
            if sender.take():
                sender.send_due()
        return sum(s.sent for s in self.senders.values()) - before

    def start(self) -> None:
        for name, sender in self.senders.items():
            thread = threading.Thread(
                target=sender.run, args=(self._stop,), name=f"alerts-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the calls in flight, send what is due within ``timeout`` seconds,
        leave the rest ``pending``; False if a call was still in flight at the end."""
        self._stop.request(timeout)
        end = time.monotonic() + timeout + 1.0  # the last call may start just before
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            log.warning(
                "alerts: %s still in an HTTP call after %.0fs; that alert's fate follows"
                " the channel's on_interrupted policy at the next start",
                ", ".join(stuck),
                timeout,
            )
            return False
        self.close()
        return True

    def close(self) -> None:
        for sender in self.senders.values():
            sender.lock.release()
        for channel in self.channels.values():
            channel.close()
        self.outbox.close()
