"""X rate-limits an approved reply: it is posted once after the reset, and the admin
message in Telegram is edited late to "posted" with the link."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from chirpflow.action_model import Draft, GateResult, reply_id
from chirpflow.action_settings import (
    ActionSettings,
    ApprovalSettings,
    GateSettings,
    PostingSettings,
)
from chirpflow.connectors.actions.approval_bot import ApprovalBot
from chirpflow.connectors.actions.post_outbox import PostOutbox
from chirpflow.connectors.actions.publisher import Publisher
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.actions.x_poster import XPoster
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.telegram_bot_server import fake_telegram_bot
from tests.fakes.x_post_server import FakeXPosting, fake_x_posting

GATE = SafetyGate(GateSettings(allowed_domains=["example.com"]))
ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}


@pytest.fixture
def store(pg_url: str) -> Iterator[ActionStore]:
    migrate(pg_url)
    s = ActionStore(pg_url)
    yield s
    s.close()


def _draft(store: ActionStore, tweet_id: str, text: str) -> str:
    d = Draft(
        id=reply_id(tweet_id),
        kind="reply",
        text=text,
        source="kafka",
        tweet_id=tweet_id,
        conversation_id=tweet_id,
        author_id="500",
        tweet_text="@acme hello",
    )
    assert store.add_draft(d, GateResult())
    return d.id


def test_a_rate_limited_post_goes_out_once_after_the_reset_and_telegram_learns_late(
    pg_url: str, store: ActionStore
) -> None:
    first = _draft(store, "1800000000000000101", "Thanks, we are on it.")
    second = _draft(store, "1800000000000000102", "Glad you asked: yes, worldwide.")
    with (
        fake_telegram_bot() as tg,
        fake_x_posting(FakeXPosting(user_limit=1, window_s=2.0)) as x,
    ):
        approval = ApprovalSettings(admins=[7], chat_id=str(tg.chat_id), base_url=tg.base_url)
        settings = ActionSettings(enabled=True, handle="acme", approval=approval)
        bot = ApprovalBot(settings, store, GATE, tg.token)
        outbox = PostOutbox(pg_url)
        publisher = Publisher(outbox, XPoster(PostingSettings(base_url=x.base_url), env=ENV), GATE)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(bot.start())
        try:
            loop.run_until_complete(bot.round(0))
            mids = {}
            for d in (first, second):
                shown = store.draft(d)
                assert shown is not None and shown.chat_message_id
                mids[d] = int(shown.chat_message_id)
                tg.press(7, mids[d], f"a:{d}")
            loop.run_until_complete(bot.round(0))
            report = publisher.run_once()
            assert report.posted == [first]  # the second met the 429
            assert x.attempts == [201, 429]
            loop.run_until_complete(bot.round(0))
            assert "https://x.com/i/web/status/" not in tg.chat[mids[second]]["text"]
            deadline = time.monotonic() + 10
            while second not in publisher.run_once().posted:
                assert time.monotonic() < deadline, f"never posted: {x.attempts}"
                time.sleep(0.05)  # polling the outbox until X's window resets
            assert publisher.run_once().posted == []
            loop.run_until_complete(bot.round(0))
        finally:
            loop.run_until_complete(bot.stop())
            loop.close()
            outbox.close()
        texts = [p["text"] for p in x.posts]
        assert texts == ["Thanks, we are on it.", "Glad you asked: yes, worldwide."]
        assert x.attempts.count(201) == 2
        link = f"https://x.com/i/web/status/{x.posts[1]['id']}"
        assert link in tg.chat[mids[second]]["text"]
        assert "posted" in tg.chat[mids[second]]["text"].lower()
