"""Telegram sender against a fake that parses MarkdownV2 as Telegram does."""

from __future__ import annotations

import time

import pytest

from chirpflow.connectors.notify.channel import ChannelGone, RateLimited
from chirpflow.connectors.notify.telegram import TelegramChannel, escape, split
from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    Notification,
    Sentiment,
    TweetAnalysis,
)
from chirpflow.operators.alerts.rules import AlertRule, evaluate
from tests.factories import T0, tweet
from tests.fakes.telegram_server import FakeTelegram, parse_markdown_v2, running

HOSTILE = "*_[]()~`>#+-=|{}.!\\ @everyone <b>bold</b> \u202eRTL\u202c zero\u200bwidth"


def _n(body: str, **kw: object) -> Notification:
    fields: dict[str, object] = {
        "id": "r:1:t",
        "rule": "r",
        "channel": "t",
        "kind": "tweet",
        "title": "risk (80) for @dan_1!",
        "body": body,
        "url": "https://x.com/dan_1/status/1?x=(1)",
        "fields": [("why", "keyword: scam.")],
    }
    fields.update(kw)
    return Notification(**fields)  # type: ignore[arg-type]


def test_escaping_survives_every_reserved_character() -> None:
    assert parse_markdown_v2(escape(HOSTILE)) == HOSTILE
    with running(FakeTelegram(per_chat_interval_s=0)) as (fake, base):
        TelegramChannel("t", "123:ABC", "42", base_url=base).send(_n(HOSTILE))
    assert fake.errors == []
    visible = fake.visible[0]
    assert HOSTILE in visible and "risk (80) for @dan_1!" in visible
    assert fake.messages[0]["link_preview_options"] == {"is_disabled": True}


def test_html_mode_escapes_tags() -> None:
    with running(FakeTelegram(per_chat_interval_s=0)) as (fake, base):
        TelegramChannel("t", "123:ABC", "42", base_url=base, parse_mode="HTML").send(_n(HOSTILE))
    assert "&lt;b&gt;bold&lt;/b&gt;" in fake.messages[0]["text"]


def test_long_text_is_split_under_4096_without_breaking_escapes() -> None:
    body = ("a.b " * 3000).strip()
    pieces = split(escape(body))
    assert all(len(p) <= 4096 and not p.endswith("\\") for p in pieces)
    with running(FakeTelegram(per_chat_interval_s=0)) as (fake, base):
        TelegramChannel("t", "123:ABC", "42", base_url=base).send(_n(body))
    assert fake.errors == [] and len(fake.messages) >= 3
    assert "".join(fake.visible).replace("\n", "").count("a.b") == 3000


def test_flood_wait_raises_instead_of_sleeping_and_is_remembered() -> None:
    with running(FakeTelegram(per_chat_interval_s=1.0)) as (fake, base):
        channel = TelegramChannel("t", "123:ABC", "42", base_url=base)
        channel.send(_n("one"))
        started = time.monotonic()
        with pytest.raises(RateLimited) as err:
            channel.send(_n("two"))
        assert time.monotonic() - started < 0.5  # raised, did not sleep
        assert err.value.retry_after == 1.0 and channel.ready_in() > 0.5
        with pytest.raises(RateLimited):  # no second request while the wait runs
            channel.send(_n("two"))
    assert fake.errors == [429] and len(fake.messages) == 1


def test_unparseable_markdown_is_resent_as_plain_text() -> None:
    with running(FakeTelegram(per_chat_interval_s=0)) as (fake, base):
        channel = TelegramChannel("t", "123:ABC", "42", base_url=base)
        channel._post("*unbalanced", "unbalanced")  # what a bad template would send
    assert fake.errors == [400]
    assert "parse_mode" not in fake.messages[0] and fake.visible == ["unbalanced"]


def test_group_migration_is_followed_and_remembered() -> None:
    moved: list[tuple[str, str]] = []
    fake = FakeTelegram(per_chat_interval_s=0, migrations={"-42": "-100777"})
    with running(fake) as (fake, base):
        channel = TelegramChannel(
            "t", "123:ABC", "-42", base_url=base, on_migrate=lambda c, i: moved.append((c, i))
        )
        channel.send(_n("hi"))
    assert moved == [("t", "-100777")] and channel.chat_id == "-100777"
    assert fake.messages[0]["chat_id"] == "-100777"


def test_blocked_bot_disables_the_channel() -> None:
    with running(FakeTelegram(blocked={"42"})) as (_, base), pytest.raises(ChannelGone):
        TelegramChannel("t", "123:ABC", "42", base_url=base).send(_n("hi"))


@pytest.mark.parametrize("mode", ["MarkdownV2", "HTML"])
def test_hostile_tweet_text_and_usernames_form_no_links_to_foreign_hosts(mode: str) -> None:
    masked = "Official notice [x.com/brand](https://evil.example/login) <a href='https://evil.example'>x</a>"
    bad = tweet(1, f"scam! {masked}", author_username="[x.com/brand](https://evil.example)")
    ok = tweet(2, "scam, also", author_username="dan_1")
    chunk = Chunk("brand", 1, [bad, ok], T0)
    summary = ChunkAnalysis(chunk.chunk_id, "brand", 1, 2, masked, "llm", "v")
    analyses = [
        TweetAnalysis(t.id, Sentiment.NEGATIVE, -0.9, [], "en", 90, [], "llm", "v", masked)
        for t in (bad, ok)
    ]
    rules = [AlertRule("each", ("t",)), AlertRule("digest", ("t",), digest=True)]
    fake = FakeTelegram(per_chat_interval_s=0)
    with running(fake) as (fake, base):
        channel = TelegramChannel("t", "123:ABC", "42", base_url=base, parse_mode=mode)
        for n in evaluate(rules, ChunkResult(chunk, summary, analyses)):
            channel.send(n)
    assert len(fake.visible) == 3 and any(masked in text for text in fake.visible)
    assert {url for _, url in fake.links} == {
        f"https://x.com/i/status/{bad.id}",
        f"https://x.com/dan_1/status/{ok.id}",
    }
