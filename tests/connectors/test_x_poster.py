from collections.abc import Iterator

import pytest

from chirpflow.action_settings import PostingSettings
from chirpflow.connectors.actions.x_poster import XPoster
from chirpflow.errors import ConfigError
from tests.fakes.x_post_server import FakeXPosting, fake_x_posting, oauth1_signature

ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}


@pytest.fixture
def fake() -> Iterator[FakeXPosting]:
    with fake_x_posting() as f:
        yield f


def poster(fake: FakeXPosting, env: dict[str, str] = ENV, **kw: str) -> XPoster:
    return XPoster(PostingSettings(base_url=fake.base_url, timeout_s=5, **kw), env=env)


def test_the_fake_signs_the_documented_test_vector() -> None:
    params = [
        ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
        ("include_entities", "true"),
        ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
        ("oauth_version", "1.0"),
    ]
    sig = oauth1_signature(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json",
        params,
        "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    )
    assert sig == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def test_a_signed_reply_is_posted_and_read_back(fake: FakeXPosting) -> None:
    p = poster(fake)
    out = p.post("Thanks for asking!", reply_to="123")
    assert out.kind == "posted" and out.x_id
    assert fake.posts == [
        {"id": out.x_id, "text": "Thanks for asking!", "author_id": "4242", "reply_to": "123"}
    ]
    back = p.recent_posts()
    assert [(b.id, b.text, b.reply_to) for b in back] == [(out.x_id, "Thanks for asking!", "123")]


def test_a_wrong_secret_is_unauthorized(fake: FakeXPosting) -> None:
    out = poster(fake, {**ENV, "X_ACCESS_TOKEN_SECRET": "wrong"}).post("hi")
    assert out.kind == "unauthorized" and "401" in out.detail
    assert fake.posts == []


def test_duplicate_content_is_not_retried(fake: FakeXPosting) -> None:
    p = poster(fake)
    assert p.post("same words").kind == "posted"
    dup = p.post("same words")
    assert dup.kind == "duplicate"
    assert len(fake.posts) == 1


def test_429_carries_the_reset_time(fake: FakeXPosting) -> None:
    fake.user_limit = 2
    p = poster(fake)
    assert [p.post(f"n{i}").kind for i in range(2)] == ["posted", "posted"]
    limited = p.post("n3")
    assert limited.kind == "rate_limited"
    assert limited.retry_at is not None and limited.retry_at > 0
    assert len(fake.posts) == 2


def test_oauth2_user_token_and_app_only_bearer(fake: FakeXPosting) -> None:
    ok = poster(fake, {"X_USER_TOKEN": "ut-4242"}, auth="oauth2").post("via oauth2")
    assert ok.kind == "posted"
    app = poster(fake, {"X_USER_TOKEN": "app-only"}, auth="oauth2").post("as the app")
    assert app.kind == "unauthorized" and "403" in app.detail


def test_missing_keys_are_one_clear_line() -> None:
    with pytest.raises(ConfigError, match="X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET"):
        XPoster(PostingSettings(), env={"X_CONSUMER_KEY": "a", "X_CONSUMER_SECRET": "b"})
