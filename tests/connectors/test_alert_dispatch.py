"""The running dispatcher: channels drain independently, stops are bounded and leave
rows pending, a failing channel is logged, one sender per channel across processes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from chirpflow.connectors.embedded.ports import free_ports
from chirpflow.connectors.notify.channel import Channel
from chirpflow.connectors.notify.discord import DiscordChannel
from chirpflow.connectors.notify.dispatcher import Dispatcher
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.notify.telegram import TelegramChannel
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.model import Notification
from tests.factories import notification
from tests.fakes import discord_server, telegram_server


def _n(i: int, channel: str) -> Notification:
    return notification(i, channel, url=f"https://x.com/u/status/{i}", severity=90)


def _statuses(url: str) -> dict[str, int]:
    outbox = Outbox(url, max_size=1)
    try:
        rows = outbox._execute("SELECT status, count(*) FROM notifications GROUP BY status")
    finally:
        outbox.close()
    return {r[0]: r[1] for r in rows}


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds}s: {what}"
        time.sleep(0.01)  # polling a condition, with a deadline


def test_a_rate_limited_channel_never_delays_another(pg_url: str) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url)
    outbox.add([_n(i, "ops") for i in range(12)])  # Discord: 1 per second -> 12 s
    outbox.add([_n(100, "oncall")])  # inserted last
    dc_fake = discord_server.FakeDiscord(limit=1, per_s=1.0)
    tg_fake = telegram_server.FakeTelegram(per_chat_interval_s=0)
    with (
        discord_server.running(dc_fake) as (dc, hook),
        telegram_server.running(tg_fake) as (tg, base),
    ):
        channels: dict[str, Channel] = {
            "ops": DiscordChannel("ops", hook),
            "oncall": TelegramChannel("oncall", tg.token, "42", base_url=base),
        }
        d = Dispatcher(outbox, channels, {"ops": 100, "oncall": 100})
        started = time.monotonic()
        d.start()
        _wait_for(lambda: len(tg.messages) == 1, 5, "the Telegram alert")
        waited = time.monotonic() - started
        assert d.stop(timeout=0.5)
    assert waited < 3 and len(dc.messages) < 12  # it did not queue behind Discord


def test_stop_during_a_rate_limit_wait_is_bounded_and_leaves_rows_pending(pg_url: str) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url)
    outbox.add([_n(i, "ops") for i in range(5)])
    with discord_server.running(discord_server.FakeDiscord(limit=1, per_s=30.0)) as (dc, hook):
        d = Dispatcher(outbox, {"ops": DiscordChannel("ops", hook)}, {"ops": 100})
        d.start()
        _wait_for(lambda: len(dc.messages) == 1, 5, "the first alert")
        _wait_for(lambda: d.senders["ops"].channel.ready_in() > 1, 5, "an empty bucket")
        started = time.monotonic()
        assert d.stop(timeout=1.0)
        assert time.monotonic() - started < 2.5
    # the first went out; the others wait for the next start, none is left "sending"
    assert _statuses(pg_url) == {"sent": 1, "pending": 4}


def test_stop_sends_what_is_due_before_ending(pg_url: str) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url)
    with discord_server.running() as (dc, hook):
        d = Dispatcher(outbox, {"ops": DiscordChannel("ops", hook)}, {"ops": 100}, idle_s=30)
        d.start()  # idle for 30 s between looks: only the stop finds the new rows
        outbox.add([_n(i, "ops") for i in range(3)])
        assert d.stop(timeout=5.0)
    assert len(dc.messages) == 3 and _statuses(pg_url) == {"sent": 3}


def test_an_unreachable_channel_is_logged_not_silent(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url)
    outbox.add([_n(i, "ops") for i in range(20)])
    (port,) = free_ports(1)
    gone = f"http://127.0.0.1:{port}/api/webhooks/1/x"  # nothing listens there
    caplog.set_level(logging.INFO, logger="chirpflow.connectors.notify")
    d = Dispatcher(outbox, {"ops": DiscordChannel("ops", gone)}, {"ops": 100})
    d.start()
    _wait_for(lambda: "delivery failing" in caplog.text, 5, "a log line")
    assert d.stop(timeout=0.5)
    failing = [r for r in caplog.records if "delivery failing" in r.getMessage()]
    assert failing[0].levelno == logging.WARNING
    assert "ops" in failing[0].getMessage() and "20 alert(s) pending" in failing[0].getMessage()
    assert "20 alert(s) still pending at stop" in caplog.text
    assert _statuses(pg_url) == {"pending": 20}


def test_one_sender_per_channel_across_processes(pg_url: str) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url)
    outbox.add([_n(i, "ops") for i in range(3)])
    with discord_server.running() as (dc, hook):
        first = Dispatcher(Outbox(pg_url), {"ops": DiscordChannel("ops", hook)}, {"ops": 100})
        second = Dispatcher(Outbox(pg_url), {"ops": DiscordChannel("ops", hook)}, {"ops": 100})
        assert first.senders["ops"].take()
        assert not second.senders["ops"].take()  # the channel is taken
        assert second.run_once() == 0
        first.close()  # the first process ends (or dies: its session, and lock, go)
        assert second.run_once() == 3
        second.close()
    assert len(dc.messages) == 3
