"""Alert sending for a running job: the configured channels' senders, started."""

from __future__ import annotations

import os

from chirpflow.connectors.notify.dispatcher import Dispatcher
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.flows.build import make_channels
from chirpflow.settings import AlertSettings, Settings


def dispatcher_for(cfg: AlertSettings, url: str) -> Dispatcher:
    outbox = Outbox(url, max_size=len(cfg.channels) + 1)
    try:
        channels = make_channels(cfg, os.environ, outbox)
    except Exception:
        outbox.close()
        raise
    return Dispatcher(
        outbox,
        channels,
        {name: ch.max_per_minute for name, ch in cfg.channels.items()},
        {name: ch.on_interrupted for name, ch in cfg.channels.items()},
    )


def start_alerts(settings: Settings, url: str) -> Dispatcher | None:
    """One sender thread per channel; None when no channel is configured."""
    if not settings.alerts.channels:
        return None
    dispatcher = dispatcher_for(settings.alerts, url)
    dispatcher.start()
    return dispatcher
