"""Approvals and exactly-once posting: real PostgreSQL, the fake X verifying signatures."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from chirpflow.action_model import Draft, reply_id
from chirpflow.action_settings import GateSettings, PostingSettings
from chirpflow.connectors.actions.post_outbox import PostOutbox, PublisherBusy
from chirpflow.connectors.actions.publisher import Publisher
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.actions.x_poster import XPoster
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.x_post_server import FakeXPosting, fake_x_posting

ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}
GATE = SafetyGate(GateSettings(allowed_domains=["example.com"]))


@pytest.fixture
def fake() -> Iterator[FakeXPosting]:
    with fake_x_posting() as f:
        yield f


@pytest.fixture
def outbox(db: str) -> Iterator[PostOutbox]:
    o = PostOutbox(db)
    yield o
    o.close()


def publisher(fake: FakeXPosting, outbox: PostOutbox, store: ActionStore) -> Publisher:
    poster = XPoster(PostingSettings(base_url=fake.base_url, timeout_s=5), env=ENV)
    return Publisher(outbox, poster, GATE, store.paused)


def draft(store: ActionStore, tweet_id: str = "111", text: str = "Thanks, we're on it!") -> str:
    d = Draft(id=reply_id(tweet_id), kind="reply", text=text, tweet_id=tweet_id, author_id="9")
    assert store.add_draft(d, GATE.check(text))
    return d.id


def test_approve_posts_exactly_one_reply(
    db: str, fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    assert store.decide(did, "tg:1", "approve") == "approved"
    pub = publisher(fake, outbox, store)
    assert pub.run_once().posted == [did]
    assert pub.run_once().posted == []
    assert [(p["text"], p["reply_to"]) for p in fake.posts] == [("Thanks, we're on it!", "111")]
    d = store.draft(did)
    assert d is not None and d.status == "posted"
    assert outbox.rows()[0][:5] == (did, "posted", 1, fake.posts[0]["id"], "response")
    actions = [r[2] for r in store.audit_log()]
    assert actions == ["posted", "approve", "drafted"]
    assert store_stats(db)["actions"] == {"drafted": 1, "posted": 1}


def _metric(outcome: str, check: str = "") -> float:
    value = REGISTRY.get_sample_value(
        "chirpflow_actions_total", {"outcome": outcome, "check": check}
    )
    return value or 0.0


def test_metrics_count_drafted_blocked_approved_posted(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    before = {
        k: _metric(*k)
        for k in [("drafted",), ("blocked", "pii"), ("approved",), ("posted",), ("rejected",)]
    }
    did = draft(store)
    store.add_draft(
        Draft(id="reply:9", kind="reply", text="mail a@b.org", tweet_id="9"),
        GATE.check("mail a@b.org"),
    )
    other = draft(store, "10", "Another reply")
    store.decide(did, "tg:1", "approve")
    store.decide(other, "tg:1", "reject")
    publisher(fake, outbox, store).run_once()
    after = {k: _metric(*k) - v for k, v in before.items()}
    assert after == {
        ("drafted",): 3,
        ("blocked", "pii"): 1,
        ("approved",): 1,
        ("posted",): 1,
        ("rejected",): 1,
    }


def test_reject_posts_nothing_and_a_second_decision_changes_nothing(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    assert store.decide(did, "tg:1", "reject") == "rejected"
    assert store.decide(did, "tg:2", "approve") == "not pending: rejected"
    assert publisher(fake, outbox, store).run_once().posted == []
    assert fake.posts == []


def test_two_admins_approving_at_once_post_once(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda a=a: results.append(store.decide(did, a, "approve")))
        for a in ("tg:1", "tg:2")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["approved", "not pending: approved"]
    publisher(fake, outbox, store).run_once()
    assert len(fake.posts) == 1


def test_edit_is_gated_again_then_approved(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    leaky = "Call me on +1 415 555 0134"
    assert store.decide(did, "tg:1", "edit", leaky, GATE.check(leaky)) == "blocked"
    blocked = store.draft(did)
    assert blocked is not None and blocked.blocked_by == "pii"
    assert store.decide(did, "tg:1", "approve") == "not pending: blocked"
    did2 = draft(store, "222")
    better = "Sorry about that, DM us and we'll fix it."
    assert store.decide(did2, "tg:1", "edit", better, GATE.check(better)) == "pending"
    assert store.decide(did2, "tg:1", "approve") == "approved"
    publisher(fake, outbox, store).run_once()
    assert [(p["text"], p["reply_to"]) for p in fake.posts] == [(better, "222")]


def test_a_blocked_draft_cannot_be_approved(store: ActionStore) -> None:
    d = Draft(id=reply_id("333"), kind="reply", text="hey @everyone", tweet_id="333")
    assert store.add_draft(d, GATE.check(d.text))
    got = store.draft(d.id)
    assert got is not None and (got.status, got.blocked_by) == ("blocked", "mass_mention")
    assert store.decide(d.id, "tg:1", "approve") == "not pending: blocked"
    assert store.counts()["blocked:mass_mention"] == 1


def test_pause_holds_posting(fake: FakeXPosting, outbox: PostOutbox, store: ActionStore) -> None:
    did = draft(store)
    store.decide(did, "tg:1", "approve")
    store.set_paused(True, "tg:1")
    pub = publisher(fake, outbox, store)
    assert pub.run_once().posted == [] and fake.posts == []
    store.set_paused(False, "tg:1")
    assert pub.run_once().posted == [did]


def test_the_gate_runs_again_right_before_posting(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store, text="Our new plan is great")
    store.decide(did, "tg:1", "approve")
    poster = XPoster(PostingSettings(base_url=fake.base_url, timeout_s=5), env=ENV)
    stricter = SafetyGate(GateSettings(risk_keywords=["new plan"]))
    report = Publisher(outbox, poster, stricter).run_once()
    assert report.failed == [did] and fake.posts == []
    d = store.draft(did)
    assert d is not None and d.status == "blocked"


def test_429_waits_for_the_reset(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    fake.user_limit = 1
    a, b = draft(store, "1", "first reply"), draft(store, "2", "second reply")
    store.decide(a, "tg:1", "approve")
    store.decide(b, "tg:1", "approve")
    report = publisher(fake, outbox, store).run_once()
    assert (report.posted, report.released) == ([a], [b])
    assert fake.attempts == [201, 429]
    assert publisher(fake, outbox, store).run_once().posted == []  # not before the reset
    assert fake.attempts == [201, 429]
    row = next(r for r in outbox.rows() if r[0] == b)
    assert row[1] == "pending" and "rate_limited" in row[5]


def test_a_claim_cut_off_before_the_call_is_released_by_read_back(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    store.decide(did, "tg:1", "approve")
    assert outbox.claim(did)  # then the process died before calling X
    report = publisher(fake, outbox, store).run_once()
    assert report.released == [did] and report.posted == [did]
    assert len(fake.posts) == 1


def test_duplicate_of_an_earlier_send_is_resolved_by_read_back(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    store.decide(did, "tg:1", "approve")
    poster = XPoster(PostingSettings(base_url=fake.base_url, timeout_s=5), env=ENV)
    first = poster.post("Thanks, we're on it!", "111")  # sent, but its row never learned
    report = publisher(fake, outbox, store).run_once()
    assert report.resolved == [did] and len(fake.posts) == 1
    assert outbox.rows()[0][3:5] == (first.x_id, "read-back")


def test_only_one_publisher_at_a_time(db: str, outbox: PostOutbox) -> None:
    outbox.acquire(db)
    other = PostOutbox(db)
    try:
        with pytest.raises(PublisherBusy):
            other.acquire(db)
    finally:
        other.close()


def _wait(cond: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_kill_9_during_the_post_call_posts_once(
    tmp_path: Path, db: str, fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    did = draft(store)
    store.decide(did, "tg:1", "approve")
    config = tmp_path / "c.toml"
    config.write_text(
        '[actions]\nenabled = true\nhandle = "acme"\n'
        f'[actions.posting]\nbase_url = "{fake.base_url}"\n'
        'timeout_s = 60\n[actions.gate]\nallowed_domains = ["example.com"]\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHIRPFLOW_CONFIG")}
    env.update(ENV, DATABASE_URL=db, CHIRPFLOW_HOME=str(tmp_path / "home"))
    cmd = [sys.executable, "-m", "chirpflow.flows.cli", "actions", "publish", "--once"]
    fake.hold.set()  # X creates the post, the answer never reaches us
    proc = subprocess.Popen([*cmd, "--config", str(config)], env=env)
    try:
        _wait(fake.held.is_set)
        proc.kill()  # kill -9 while the HTTP call is open
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(fake.posts) == 1
    assert outbox.rows()[0][1] == "sending"
    fake.hold.clear()
    fake.release.set()
    again = subprocess.run(
        [*cmd, "--config", str(config)], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert f"resolved: {did}" in again.stdout
    assert len(fake.posts) == 1
    assert outbox.rows()[0][1:5] == ("posted", 1, fake.posts[0]["id"], "read-back")


def test_our_own_daily_cap_holds_the_rest(
    fake: FakeXPosting, outbox: PostOutbox, store: ActionStore
) -> None:
    a, b = draft(store, "1", "first reply"), draft(store, "2", "second reply")
    store.decide(a, "tg:1", "approve")
    store.decide(b, "tg:1", "approve")
    poster = XPoster(PostingSettings(base_url=fake.base_url, timeout_s=5), env=ENV)
    report = Publisher(outbox, poster, GATE, max_per_day=1).run_once()
    assert report.posted == [a] and report.capped
    assert [p["text"] for p in fake.posts] == ["first reply"]
    assert next(r for r in outbox.rows() if r[0] == b)[1] == "pending"
