"""The approval bot against a fake Telegram, with real PostgreSQL and the fake X."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chirpflow.action_model import Draft, reply_id
from chirpflow.action_settings import (
    ActionSettings,
    ApprovalSettings,
    GateSettings,
    PostingSettings,
)
from chirpflow.connectors.actions.approval_bot import NOT_ALLOWED, ApprovalBot
from chirpflow.connectors.actions.post_outbox import PostOutbox
from chirpflow.connectors.actions.publisher import Publisher
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.actions.x_poster import XPoster
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.errors import ConfigError
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.telegram_bot_server import FakeTelegramBot, fake_telegram_bot
from tests.fakes.x_post_server import FakeXPosting, fake_x_posting

ADMIN, STRANGER = 7, 99
X_ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}
GATE = SafetyGate(GateSettings())


class Harness:
    def __init__(self, tg: FakeTelegramBot, store: ActionStore, **approval: object) -> None:
        settings = ActionSettings(
            enabled=True,
            handle="acme",
            approval=ApprovalSettings(
                admins=[ADMIN], chat_id=str(tg.chat_id), base_url=tg.base_url, **approval
            ),
        )
        self.tg, self.store = tg, store
        self.bot = ApprovalBot(settings, store, GATE, tg.token)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.bot.start())

    def round(self) -> int:
        return self.loop.run_until_complete(self.bot.round(poll_timeout=0))

    def close(self) -> None:
        self.loop.run_until_complete(self.bot.stop())
        self.loop.close()

    def message_of(self, draft_id: str) -> int:
        d = self.store.draft(draft_id)
        assert d is not None and d.chat_message_id
        return int(d.chat_message_id)

    def text_of(self, draft_id: str) -> str:
        return str(self.tg.chat[self.message_of(draft_id)]["text"])


@pytest.fixture
def store(pg_url: str) -> Iterator[ActionStore]:
    migrate(pg_url)
    s = ActionStore(pg_url)
    yield s
    s.close()


@pytest.fixture
def tg() -> Iterator[FakeTelegramBot]:
    with fake_telegram_bot() as fake:
        yield fake


@pytest.fixture
def x() -> Iterator[FakeXPosting]:
    with fake_x_posting() as fake:
        yield fake


@pytest.fixture
def h(tg: FakeTelegramBot, store: ActionStore) -> Iterator[Harness]:
    harness = Harness(tg, store)
    yield harness
    harness.close()


def add(store: ActionStore, tweet_id: str, text: str, risk: int = 5) -> str:
    d = Draft(
        id=reply_id(tweet_id),
        kind="reply",
        text=text,
        tweet_id=tweet_id,
        author_id="55",
        tweet_text="@acme does it work offline?",
        risk=risk,
    )
    store.add_draft(d, GATE.check(text))
    return d.id


def publish(x: FakeXPosting, pg_url: str, store: ActionStore) -> None:
    outbox = PostOutbox(pg_url)
    try:
        poster = XPoster(PostingSettings(base_url=x.base_url, timeout_s=5), env=X_ENV)
        Publisher(outbox, poster, GATE, store.paused).run_once()
    finally:
        outbox.close()


def test_approve_in_telegram_posts_once_and_shows_the_link(
    h: Harness, x: FakeXPosting, store: ActionStore, pg_url: str
) -> None:
    did = add(store, "111", "Yes, it works offline!")
    h.round()
    mid = h.message_of(did)
    assert "@acme does it work offline?" in h.text_of(did)
    assert "Yes, it works offline!" in h.text_of(did)
    assert [b[0] for b in h.tg.buttons(mid)] == ["Approve", "Edit", "Reject"]
    h.tg.press(ADMIN, mid, f"a:{did}")
    h.round()
    assert h.tg.answers[-1]["text"] == "Approved"
    assert "Approved by tg:7 @user7: posting" in h.text_of(did)
    assert h.tg.buttons(mid) == []
    publish(x, pg_url, store)
    publish(x, pg_url, store)
    assert [(p["text"], p["reply_to"]) for p in x.posts] == [("Yes, it works offline!", "111")]
    h.round()
    assert f"https://x.com/i/web/status/{x.posts[0]['id']}" in h.text_of(did)


def test_a_stranger_pressing_approve_is_refused_and_audited(h: Harness, store: ActionStore) -> None:
    did = add(store, "111", "Sure!")
    h.round()
    h.tg.press(STRANGER, h.message_of(did), f"a:{did}")
    h.round()
    assert h.tg.answers[-1]["text"] == NOT_ALLOWED
    d = store.draft(did)
    assert d is not None and d.status == "pending"
    _at, actor, action, target, _detail, allowed = store.audit_log()[0]
    assert (actor, action, target, allowed) == ("tg:99 @user99", "approve", did, False)


def test_reject_shows_who(h: Harness, store: ActionStore) -> None:
    did = add(store, "111", "Sure!")
    h.round()
    h.tg.press(ADMIN, h.message_of(did), f"r:{did}")
    h.round()
    assert "Rejected by tg:7 @user7" in h.text_of(did)
    d = store.draft(did)
    assert d is not None and d.status == "rejected"


def test_edit_takes_the_next_message_and_gates_it(
    h: Harness, x: FakeXPosting, store: ActionStore, pg_url: str
) -> None:
    did = add(store, "111", "Sure!")
    h.round()
    mid = h.message_of(did)
    h.tg.press(ADMIN, mid, f"e:{did}")
    h.round()
    prompt = max(h.tg.chat)
    assert h.tg.chat[prompt]["text"].startswith(f"New text for {did}")
    h.tg.say(ADMIN, "Mail me: jane@corp.org", reply_to=prompt)
    h.round()
    assert "Blocked by pii" in max(h.tg.chat.values(), key=lambda m: m["message_id"])["text"]
    assert "BLOCKED by pii" in h.text_of(did) and h.tg.buttons(mid) == []

    other = add(store, "222", "Sure!")
    h.round()
    h.tg.press(ADMIN, h.message_of(other), f"e:{other}")
    h.round()
    h.tg.say(ADMIN, "It does, no network needed.")
    h.round()
    assert "It does, no network needed." in h.text_of(other)
    h.tg.press(ADMIN, h.message_of(other), f"a:{other}")
    h.round()
    publish(x, pg_url, store)
    assert [(p["text"], p["reply_to"]) for p in x.posts] == [("It does, no network needed.", "222")]


def test_commands_pause_queue_and_context(h: Harness, store: ActionStore) -> None:
    add(store, "111", "Sure!")
    h.tg.command(STRANGER, "/pause")
    h.round()
    assert not store.paused()
    assert NOT_ALLOWED in h.tg.bot_messages()[-1]["text"]
    h.tg.command(ADMIN, "/pause@ChirpBot")
    h.round()
    assert store.paused()
    h.tg.command(ADMIN, "/resume")
    h.tg.command(ADMIN, "/queue")
    h.round()
    assert not store.paused()
    assert "reply:111: Sure!" in h.tg.bot_messages()[-1]["text"]
    h.tg.command(ADMIN, "/context_add We ship worldwide.")
    h.tg.command(ADMIN, "/context_approve 1")
    h.tg.command(ADMIN, "/context_add We ship to the EU only.")
    h.tg.command(ADMIN, "/context_approve 2")
    h.round()
    assert store.active_context() == (2, "We ship to the EU only.")
    h.tg.command(ADMIN, "/context_rollback")
    h.tg.command(ADMIN, "/stats")
    h.round()
    assert store.active_context() == (1, "We ship worldwide.")
    assert "drafted 1" in h.tg.bot_messages()[-1]["text"]


def test_auto_approval_under_the_bound_still_needs_the_gate(
    tg: FakeTelegramBot, store: ActionStore
) -> None:
    h = Harness(tg, store, auto_approve_below=20)
    try:
        low = add(store, "1", "Thanks!", risk=5)
        high = add(store, "2", "Thanks again!", risk=40)
        blocked = add(store, "3", "hey @everyone", risk=0)
        h.round()
        statuses = {d: (store.draft(d) or Draft("", "", "")).status for d in (low, high, blocked)}
        assert statuses == {low: "approved", high: "pending", blocked: "blocked"}
    finally:
        h.close()


def test_missing_bot_settings_are_one_line(store: ActionStore) -> None:
    with pytest.raises(ConfigError, match="chat_id"):
        ApprovalBot(ActionSettings(approval=ApprovalSettings(admins=[1])), store, GATE, "t")


def test_flood_control_is_waited_out_and_a_second_poller_is_one_line(
    h: Harness, store: ActionStore
) -> None:
    did = add(store, "111", "Sure!")
    h.tg.flood = 1

    async def until_shown() -> None:
        stop = asyncio.Event()

        async def watch() -> None:
            while not (store.draft(did) or Draft("", "", "")).chat_message_id:
                await asyncio.sleep(0.05)
            stop.set()

        await asyncio.gather(h.bot.run(poll_timeout=0, stop=stop), watch())

    h.loop.run_until_complete(asyncio.wait_for(until_shown(), 30))
    assert h.tg.flood == 0 and len(h.tg.bot_messages()) == 1
    h.tg.conflict = True
    with pytest.raises(ConfigError, match="another chirpflow bot running"):
        h.loop.run_until_complete(asyncio.wait_for(h.bot.run(poll_timeout=0), 30))


def test_a_deleted_approval_message_does_not_stop_the_bot(h: Harness, store: ActionStore) -> None:
    did = add(store, "111", "Sure!")
    h.round()
    del h.tg.chat[h.message_of(did)]  # an admin deleted it
    store.decide(did, "tg:7", "reject")
    h.round()
    later = add(store, "222", "Sure thing!")
    h.round()
    assert "Sure thing!" in h.text_of(later)
    d = store.draft(did)
    assert d is not None and d.chat_shown == "rejected"
