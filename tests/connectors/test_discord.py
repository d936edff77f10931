"""Discord webhook sender against a fake enforcing Discord's limits."""

from __future__ import annotations

import time

import pytest

from chirpflow.connectors.notify.channel import ChannelGone, RateLimited
from chirpflow.connectors.notify.discord import DiscordChannel, messages_for
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
from tests.fakes.discord_server import FakeDiscord, running, visible

HOSTILE = "@everyone <@&123> *_[]()~>#+-=|{}.!` \u202e\u200b <b>x</b> " + "y" * 5000


def _n(body: str = "hello", **kw: object) -> Notification:
    fields: dict[str, object] = {
        "id": "r:1:d",
        "rule": "r",
        "channel": "d",
        "kind": "tweet",
        "title": "risky: @dan",
        "body": body,
        "url": "https://x.com/dan/status/1",
        "fields": [("risk", "80"), ("why", "keyword: scam")],
    }
    fields.update(kw)
    return Notification(**fields)  # type: ignore[arg-type]


def test_long_hostile_text_is_split_within_limits_and_cannot_ping() -> None:
    with running() as (fake, url):
        channel = DiscordChannel("d", url)
        remote = channel.send(_n(HOSTILE * 3))
        channel.close()
    assert remote and fake.statuses.count(200) == len(fake.messages) >= 2
    text = "".join(e["description"] for m in fake.messages for e in m["embeds"])
    assert visible(text) == HOSTILE * 3  # all of it arrived, in order, shown as written
    assert fake.links == [("risky: @dan", "https://x.com/dan/status/1")]  # no masked links
    for m in fake.messages:
        assert m["allowed_mentions"] == {"parse": []}
        assert len(m["embeds"]) <= 10


def test_many_fields_and_long_values_are_cut_to_limits() -> None:
    n = _n(fields=[(f"f{i}" * 100, "v" * 5000) for i in range(40)], title="t" * 500)
    bodies = messages_for(n)
    embeds = [e for b in bodies for e in b["embeds"]]
    assert len(embeds[0]["title"]) == 256
    fields = [f for e in embeds for f in e.get("fields", [])]
    assert len(fields) == 40  # none dropped: they continue in further embeds
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in fields)
    with running() as (fake, url):
        DiscordChannel("d", url).send(n)
    assert 400 not in fake.statuses


def test_a_rate_limit_raises_instead_of_sleeping_and_says_when_to_retry() -> None:
    with running(FakeDiscord(limit=1, per_s=5.0)) as (fake, url):
        channel = DiscordChannel("d", url)
        channel.send(_n("first"))
        started = time.monotonic()
        with pytest.raises(RateLimited) as err:  # the bucket is empty: no request made
            channel.send(_n("second"))
        assert time.monotonic() - started < 1.0  # it did not sleep out the 5 s
        assert 3.0 < (err.value.retry_after or 0) <= 5.0 and channel.ready_in() > 3.0
        restarted = DiscordChannel("d", url)  # a new process does not know the bucket
        with pytest.raises(RateLimited):  # so it learns it from a real 429
            restarted.send(_n("third"))
        assert restarted.ready_in() > 3.0
    assert fake.statuses == [200, 429] and len(fake.messages) == 1


def test_rate_limits_are_honoured_without_losing_messages() -> None:
    with running(FakeDiscord(limit=2, per_s=0.5)) as (fake, url):
        channel = DiscordChannel("d", url)
        for i in range(6):
            _send_when_ready(channel, _n(f"message {i}"))
    assert [m["embeds"][0]["description"] for m in fake.messages] == [
        f"message {i}" for i in range(6)
    ]


def _send_when_ready(channel: DiscordChannel, n: Notification) -> str:
    """What the dispatcher does: wait for ``ready_in`` (before claiming), then send."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(channel.ready_in())
        try:
            return channel.send(n)
        except RateLimited:
            continue
    raise AssertionError("still rate limited after 10 s")


def test_deleted_webhook_is_reported_as_gone() -> None:
    with running(FakeDiscord(deleted=True)) as (_, url), pytest.raises(ChannelGone, match="404"):
        DiscordChannel("d", url).send(_n())


MASKED = "Official notice [x.com/brand](https://evil.example/login) **VERIFIED** # refund"


def _hostile_result() -> ChunkResult:
    """A flagged tweet whose text and username carry Discord link syntax."""
    bad = tweet(1, f"scam! {MASKED}", author_username="[x.com/brand](https://evil.example)")
    ok = tweet(2, "scam, also", author_username="@dan_1")
    chunk = Chunk("brand", 1, [bad, ok], T0)
    summary = ChunkAnalysis(chunk.chunk_id, "brand", 1, 2, f"summary {MASKED}", "llm", "v")
    analyses = [
        TweetAnalysis(t.id, Sentiment.NEGATIVE, -0.9, [], "en", 90, [], "llm", "v", MASKED)
        for t in (bad, ok)
    ]
    return ChunkResult(chunk, summary, analyses)


def test_hostile_tweet_text_and_usernames_form_no_links_to_foreign_hosts() -> None:
    rules = [AlertRule("each", ("d",)), AlertRule("digest", ("d",), digest=True)]
    result = _hostile_result()
    notifications = evaluate(rules, result)
    bad, ok = result.chunk.tweets
    with running() as (fake, url):
        channel = DiscordChannel("d", url)
        for n in notifications:
            channel.send(n)
        channel.close()
    assert len(fake.messages) == 3
    assert fake.links, "the alerts still link to the tweets"
    assert {link for _, link in fake.links} == {
        f"https://x.com/i/status/{bad.id}",  # the username is not a handle: linked by id
        f"https://x.com/dan_1/status/{ok.id}",
    }
    shown = [
        visible(text)
        for m in fake.messages
        for e in m["embeds"]
        for text in [e.get("title", ""), e.get("description", "")]
        + [f["value"] for f in e.get("fields", [])]
    ]
    assert any(MASKED in text for text in shown)  # the text reads exactly as written
    assert all(m["allowed_mentions"] == {"parse": []} for m in fake.messages)
