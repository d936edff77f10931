"""Exactly-once alert delivery through the outbox, with real PostgreSQL and fake channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chirpflow.connectors.embedded.postgres import EmbeddedPostgres
from chirpflow.connectors.notify.discord import DiscordChannel
from chirpflow.connectors.notify.dispatcher import Dispatcher
from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.logs import add_secret_vars
from chirpflow.model import Notification
from tests.factories import notification
from tests.fakes.discord_server import FakeDiscord, running
from tests.flows.helpers import scalar


def _n(i: int, channel: str = "ops") -> Notification:
    url = f"https://x.com/u/status/{i}"
    return notification(i, channel, url=url, fields=[("risk", "90")], severity=90)


class Outboxes:
    """Outboxes and dispatchers of a test, closed when it ends (as a process exit would)."""

    def __init__(self) -> None:
        self.made: list[Outbox | Dispatcher] = []

    def __call__(self, url: str) -> Outbox:
        outbox = Outbox(url)
        self.made.append(outbox)
        return outbox

    def track(self, dispatcher: Dispatcher) -> Dispatcher:
        self.made.append(dispatcher)
        return dispatcher


@pytest.fixture
def outboxes() -> Iterator[Outboxes]:
    made = Outboxes()
    yield made
    for item in made.made:
        item.close()


def _statuses(outbox: Outbox) -> dict[str, str]:
    rows = outbox._execute("SELECT id, status FROM notifications")
    return {r[0]: r[1] for r in rows}


def test_replays_insert_nothing_new_and_send_once(pg_url: str, outboxes: Outboxes) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    assert outbox.add([_n(1), _n(2)]) == 2
    assert outbox.add([_n(1), _n(2)]) == 0  # a replay of the same analyses
    with running() as (fake, url):
        d = outboxes.track(Dispatcher(outbox, {"ops": DiscordChannel("ops", url)}, {"ops": 30}))
        assert d.run_once() == 2
        assert d.run_once() == 0
        outbox.add([_n(1)])  # and again after sending
        assert d.run_once() == 0
    assert len(fake.messages) == 2
    assert set(_statuses(outbox).values()) == {"sent"}


def test_kill_between_insert_and_send_sends_at_restart(pg_url: str, outboxes: Outboxes) -> None:
    migrate(pg_url)
    outboxes(pg_url).add([_n(1), _n(2), _n(3)])  # the process dies here
    with running() as (fake, url):
        restarted = outboxes(pg_url)
        outboxes.track(
            Dispatcher(restarted, {"ops": DiscordChannel("ops", url)}, {"ops": 30})
        ).run_once()
    assert sorted(m["embeds"][0]["title"] for m in fake.messages) == [
        "alert 1",
        "alert 2",
        "alert 3",
    ]


def _die_mid_call(outbox: Outbox, url: str) -> None:
    """A sender claims alert 1, the channel delivers it, the process dies before mark_sent."""
    assert outbox.claim(_n(1).id)
    DiscordChannel("ops", url).send(_n(1))


def test_a_row_interrupted_mid_call_is_resent_by_default_and_counted(
    pg_url: str, outboxes: Outboxes
) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(1), _n(2)])
    with running() as (fake, url):
        _die_mid_call(outbox, url)
        restarted = outboxes(pg_url)
        d = outboxes.track(Dispatcher(restarted, {"ops": DiscordChannel("ops", url)}, {"ops": 30}))
        assert d.run_once() == 2
        d.close()
    titles = [m["embeds"][0]["title"] for m in fake.messages]
    # resend: nothing is lost; the one copy too many is the interrupted row, counted
    assert titles.count("alert 1") == 2 and titles.count("alert 2") == 1
    assert _statuses(outboxes(pg_url)) == {_n(1).id: "sent", _n(2).id: "sent"}
    assert scalar(pg_url, "SELECT sum(interrupted) FROM notifications") == 1


def test_skip_policy_never_resends_an_interrupted_row_until_asked(
    pg_url: str, outboxes: Outboxes
) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(1), _n(2)])
    with running() as (fake, url):
        _die_mid_call(outbox, url)
        channels = {"ops": DiscordChannel("ops", url)}
        d = outboxes.track(Dispatcher(outboxes(pg_url), channels, {"ops": 30}, {"ops": "skip"}))
        d.run_once()
        titles = [m["embeds"][0]["title"] for m in fake.messages]
        assert titles.count("alert 1") == 1 and titles.count("alert 2") == 1
        assert _statuses(outbox) == {_n(1).id: "uncertain", _n(2).id: "sent"}
        assert outbox.resend("ops") == 1  # `chirpflow alerts resend --channel ops`
        assert d.run_once() == 1
        d.close()
    assert _statuses(outbox) == {_n(1).id: "sent", _n(2).id: "sent"}


def test_sent_rows_keep_the_discord_message_id(pg_url: str, outboxes: Outboxes) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(1)])
    with running() as (fake, url):
        outboxes.track(
            Dispatcher(outbox, {"ops": DiscordChannel("ops", url)}, {"ops": 30})
        ).run_once()
    remote = scalar(pg_url, "SELECT remote_id FROM notifications")
    assert remote and remote.isdigit() and len(fake.messages) == 1


def test_overflow_folds_into_one_message_instead_of_dropping(
    pg_url: str, outboxes: Outboxes
) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(i) for i in range(12)])
    with running() as (fake, url):
        d = outboxes.track(Dispatcher(outbox, {"ops": DiscordChannel("ops", url)}, {"ops": 5}))
        assert d.run_once() == 5
        assert d.run_once() == 0  # the cap for this minute is used
    titles = [m["embeds"][0]["title"] for m in fake.messages]
    assert titles[:4] == [f"alert {i}" for i in range(4)]
    assert titles[4] == "8 more alerts (channel limit reached)"
    statuses = _statuses(outbox)
    assert sum(s == "folded" for s in statuses.values()) == 8
    assert sum(s == "sent" for s in statuses.values()) == 5


def test_a_deleted_webhook_disables_the_channel_and_keeps_its_alerts(
    pg_url: str, outboxes: Outboxes
) -> None:
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(1), _n(2, channel="other")])
    with running(FakeDiscord(deleted=True)) as (_, gone), running() as (fake, ok):
        d = outboxes.track(
            Dispatcher(
                outbox,
                {"ops": DiscordChannel("ops", gone), "other": DiscordChannel("other", ok)},
                {"ops": 30, "other": 30},
            )
        )
        d.run_once()
        d.run_once()
    assert "ops" in outbox.disabled_channels()
    assert _statuses(outbox) == {_n(1).id: "pending", _n(2, "other").id: "sent"}
    assert len(fake.messages) == 1


def test_the_outbox_survives_a_database_restart(tmp_path: Path, outboxes: Outboxes) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", durable=False)
    url = server.start()
    try:
        migrate(url)
        outbox = outboxes(url)
        outbox.add([_n(1)])
        server.stop()
        server.start()  # the pooled connection is now dead; the next call replaces it
        assert outbox.add([_n(2)]) == 1
        with running() as (fake, hook):
            assert (
                outboxes.track(
                    Dispatcher(outbox, {"ops": DiscordChannel("ops", hook)}, {"ops": 30})
                ).run_once()
                == 2
            )
        assert len(fake.messages) == 2
        outbox.close()
    finally:
        server.stop()


def test_send_errors_are_stored_with_secrets_masked(
    outboxes: Outboxes, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = "https://discord.example/api/webhooks/9/SECRET-outbox-hook-token"
    monkeypatch.setenv("OUTBOX_TEST_HOOK", hook)  # a name only the config calls secret
    add_secret_vars(["OUTBOX_TEST_HOOK"])
    migrate(pg_url)
    outbox = outboxes(pg_url)
    outbox.add([_n(1), _n(2)])
    outbox.release(_n(1).id, f"ConnectError for url '{hook}'")
    outbox.mark(_n(2).id, "failed", f"400 from {hook}: Invalid Form Body")
    outbox.disable("ops", f"404 Unknown Webhook {hook}")
    errors = [r[0] for r in outbox._execute("SELECT last_error FROM notifications ORDER BY id")]
    reasons = list(outbox.disabled_channels().values())
    assert errors == ["ConnectError for url '****'", "400 from ****: Invalid Form Body"]
    assert reasons == ["404 Unknown Webhook ****"]
