"""Reddit, Bluesky and Mastodon sources against faithful fakes of their APIs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from chirpflow.connectors.providers.base import Watch, WatchKind
from chirpflow.connectors.providers.bluesky import BlueskyProvider
from chirpflow.connectors.providers.bluesky import order_key as bluesky_key
from chirpflow.connectors.providers.mastodon import MastodonProvider
from chirpflow.connectors.providers.mastodon import order_key as mastodon_key
from chirpflow.connectors.providers.reddit import RedditProvider
from chirpflow.connectors.providers.reddit import order_key as reddit_key
from chirpflow.connectors.sources.polling_reader import PollingReader, Usage
from chirpflow.model import Tweet
from chirpflow.operators.normalize import normalize
from tests.connectors.test_polling_sources import drain
from tests.fakes import bluesky_server, mastodon_server, reddit_server

FAST = timedelta(milliseconds=100)
REDDIT_ENV = {"REDDIT_CLIENT_ID": "cid", "REDDIT_CLIENT_SECRET": "csecret"}


def reddit_reader(
    url: str, target: str, env: Mapping[str, str] = REDDIT_ENV, **kw: Any
) -> PollingReader:
    kind = WatchKind.SEARCH if not target.startswith(("r/", "u/")) else WatchKind.TIMELINE
    prov = RedditProvider(env, base_url=url, auth_url=url)
    kw.setdefault("backfill_pages", 10)
    return PollingReader(
        "rd", prov, Watch(kind, target), FAST, platform="reddit", order_key=reddit_key, **kw
    )


def names(payloads: list[Any]) -> list[str]:
    return [p["data"]["name"] for p in payloads]


def test_reddit_pages_back_to_the_last_seen_post_and_a_restart_resumes_there() -> None:
    with reddit_server.running() as (fake, url):
        first = fake.post("brand", "alice", "launch day", 130)  # two pages of 100
        reader = reddit_reader(url, "r/brand")
        got, pos = drain(reader, reader.start_position(), 130)
        assert names(got) == first  # oldest first, nothing skipped
        later = fake.post("brand", "bob", "after launch", 3)
        got, pos = drain(reader, pos, 3)
        assert names(got) == later
        reader.close()
        newest = fake.post("brand", "carol", "while we were down", 2)
        again = reddit_reader(url, "r/brand")
        got, pos2 = drain(again, pos, 2)
        assert names(got) == newest  # the restart repeats nothing and skips nothing
        assert again.read(pos2, 100).records == []
        again.close()
    # every call had a descriptive agent, as Reddit requires (a default one gets 429)
    assert fake.agents == {"python:chirpflow:0.1.0 (by /u/chirpflow)"}
    assert 429 not in fake.statuses


def test_reddit_polls_for_new_posts_with_before_so_none_is_skipped_past_max_pages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with reddit_server.running() as (fake, url):
        old = fake.post("brand", "alice", "old", 2)
        reader = reddit_reader(url, "r/brand", max_pages=1)
        got, pos = drain(reader, reader.start_position(), 2)
        burst = fake.post("brand", "bob", "burst", 150)  # more than one page of 100 new
        got, pos = drain(reader, pos, 150)
        assert names(got) == burst  # oldest first, the oldest 50 not skipped
        fake.empty_with_after = True  # an empty page that still names a cursor: nothing new
        idle = reader.polls + 2
        deadline = time.monotonic() + 5
        while reader.polls < idle and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reader.polls >= idle  # the empty pages ended their polls
        later = fake.post("brand", "carol", "later", 1)
        got, _ = drain(reader, pos, 1)
        reader.close()
    assert names(got) == later
    asked = [p for path, p in fake.requests if path == "/r/brand/new"][1:]  # after the backfill
    assert all("after" not in p for p in asked)  # new posts are asked for with `before`
    befores = [p["before"] for p in asked if "before" in p]  # (an empty one is re-checked)
    # the 100 just newer than the last seen, then the 50 newer than those, then idle polls
    assert befores[:3] == [old[-1], burst[99], burst[-1]]
    assert set(befores[3:]) == {burst[-1]}
    assert "skipped" not in caplog.text  # paging forward skips nothing: no false alarm


def test_reddit_last_seen_post_taken_down_does_not_stall_the_source() -> None:
    with reddit_server.running() as (fake, url):
        old = fake.post("brand", "alice", "old", 2)
        reader = reddit_reader(url, "r/brand")
        got, pos = drain(reader, reader.start_position(), 2)
        fake.take_down(old[-1])  # `before` naming it now answers an empty page
        later = fake.post("brand", "bob", "later", 3)
        got, _ = drain(reader, pos, 3)
        reader.close()
    assert names(got) == later


def test_reddit_comments_search_and_user_posts_are_watched() -> None:
    with reddit_server.running() as (fake, url):
        (post,) = fake.post("brand", "alice", "the brand broke my phone")
        comment = fake.comment("brand", "bob", "same here", post)
        fake.post("other", "alice", "nothing to see")
        seen = {}
        for target, n in (("r/brand/comments", 1), ("broke", 1), ("u/alice", 2)):
            reader = reddit_reader(url, target)
            got, _ = drain(reader, reader.start_position(), n)
            seen[target] = names(got)
            reader.close()
    assert seen["r/brand/comments"] == [comment]
    assert seen["broke"] == [post]
    assert len(seen["u/alice"]) == 2


def test_a_private_subreddit_stops_only_its_source_with_the_reason() -> None:
    fatal: list[tuple[str, str]] = []
    with reddit_server.running(reddit_server.FakeReddit(private={"secret"})) as (fake, url):
        fake.post("brand", "alice", "still here")
        fake.post("secret", "eve", "hidden")
        bad = reddit_reader(url, "r/secret", on_fatal=lambda s, r: fatal.append((s, r)))
        good = reddit_reader(url, "r/brand")
        got_bad, _ = drain(bad, bad.start_position(), 1, timeout=3)
        got_good, _ = drain(good, good.start_position(), 1)
        bad.close()
        good.close()
    assert got_bad == [] and len(got_good) == 1
    assert fatal == [("rd:timeline:r/secret", "Reddit 403: r/secret is private")]


@pytest.mark.parametrize(
    ("sub", "reason"),
    [
        ("banned", "Reddit 404: r/banned is banned"),
        ("nowhere", "Reddit: no such subreddit (r/nowhere)"),
    ],
)
def test_a_banned_or_unknown_subreddit_stops_its_source(sub: str, reason: str) -> None:
    fatal: list[str] = []
    with reddit_server.running(reddit_server.FakeReddit(banned={"banned"})) as (fake, url):
        fake.post("banned", "eve", "gone")
        reader = reddit_reader(url, f"r/{sub}", on_fatal=lambda s, r: fatal.append(r))
        got, _ = drain(reader, reader.start_position(), 1, timeout=3)
        reader.close()
    assert got == [] and fatal == [reason]


def test_reddit_429_malformed_json_and_an_expired_token_are_ridden_out() -> None:
    with reddit_server.running() as (fake, url):
        posts = fake.post("brand", "alice", "hello", 3)
        fake.inject.extend(
            [
                (429, {"message": "Too Many Requests", "error": 429}, {"retry-after": "0.2"}),
                (200, b'{"kind": "Listing", "data": {"chil', {}),
            ]
        )
        usage: list[Usage] = []
        reader = reddit_reader(url, "r/brand", backoff_s=0.1, on_usage=usage.append)
        got, pos = drain(reader, reader.start_position(), 3)
        assert names(got) == posts
        fake.expire_tokens()  # 401 invalid_token: a new token, the same call again
        more = fake.post("brand", "bob", "again", 1)
        got, _ = drain(reader, pos, 1)
        reader.close()
    assert names(got) == more
    assert 429 in fake.statuses and 401 in fake.statuses
    assert len(fake.tokens) == 1 and usage and all(u.provider == "reddit" for u in usage)


def test_reddit_remaining_zero_pauses_until_the_window_resets() -> None:
    fake = reddit_server.FakeReddit(limit=2, window_s=1.0)
    with reddit_server.running(fake) as (fake, url):
        posts = fake.post("brand", "alice", "busy", 250)  # three pages, two calls a second
        reader = reddit_reader(url, "r/brand")
        got, _ = drain(reader, reader.start_position(), 250, timeout=8)
        reader.close()
    assert names(got) == posts
    assert 429 not in fake.statuses  # paused on "0.0" remaining: never refused


def test_reddit_credentials_refused_stop_the_source() -> None:
    fatal: list[str] = []
    with reddit_server.running() as (fake, url):
        fake.post("brand", "alice", "x")
        env = {"REDDIT_CLIENT_ID": "cid", "REDDIT_CLIENT_SECRET": "wrong"}
        reader = reddit_reader(url, "r/brand", env, on_fatal=lambda s, r: fatal.append(r))
        drain(reader, reader.start_position(), 1, timeout=2)
        script = {**REDDIT_ENV, "REDDIT_USERNAME": "me", "REDDIT_PASSWORD": "bad"}
        other = reddit_reader(url, "r/brand", script, on_fatal=lambda s, r: fatal.append(r))
        drain(other, other.start_position(), 1, timeout=2)
        reader.close()
        other.close()
    assert fatal == [
        "Reddit token: 401: check REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET",
        "Reddit token refused: invalid_grant",
    ]


def test_reddit_script_app_credentials_log_in_as_the_user() -> None:
    fake = reddit_server.FakeReddit(username="me", password="pw")
    with reddit_server.running(fake) as (fake, url):
        (post,) = fake.post("brand", "alice", "x")
        script = {**REDDIT_ENV, "REDDIT_USERNAME": "me", "REDDIT_PASSWORD": "pw"}
        reader = reddit_reader(url, "r/brand", script)
        got, _ = drain(reader, reader.start_position(), 1)
        reader.close()
    assert names(got) == [post]
    assert fake.agents == {"python:chirpflow:0.1.0 (by /u/me)"}


def test_reddit_payloads_normalize_and_a_removed_post_is_a_dead_letter() -> None:
    with reddit_server.running() as (fake, url):
        keep, gone = fake.post("brand", "alice", "title", 2, body="body &amp; more")
        fake.remove(gone)
        reader = reddit_reader(url, "r/brand")
        result = None
        got, _ = drain(reader, reader.start_position(), 2)
        result = reader.read(reader.start_position(), 0)
        reader.close()
    del result
    from chirpflow.model import RawRecord

    out = [
        normalize(RawRecord(f"rd:{i}", "rd", p, _now(), "r", platform="reddit"))
        for i, p in enumerate(got)
    ]
    tweet, dead = out
    assert isinstance(tweet, Tweet) and tweet.id == f"reddit:{keep}" and tweet.platform == "reddit"
    assert tweet.text == "title 0\n\nbody &amp; more"
    assert tweet.url.startswith("https://www.reddit.com/r/brand/comments/")
    assert not isinstance(dead, Tweet) and dead.reason.value == "deleted"


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


# -- Bluesky ------------------------------------------------------------------


def bsky_reader(
    url: str, kind: WatchKind, target: str, env: Mapping[str, str] | None = None, **kw: Any
) -> PollingReader:
    prov = BlueskyProvider(env or {}, base_url=url, auth_url=url)
    kw.setdefault("backfill_pages", 10)
    return PollingReader(
        "bs", prov, Watch(kind, target), FAST, platform="bluesky", order_key=bluesky_key, **kw
    )


@pytest.mark.parametrize("cursor_on_empty", [False, True])
def test_bluesky_search_pages_with_cursor_and_resumes(cursor_on_empty: bool) -> None:
    fake = bluesky_server.FakeBluesky(cursor_on_empty=cursor_on_empty)
    with bluesky_server.running(fake) as (fake, url):
        first = fake.post("alice.bsky.social", "brand news", 120)
        reader = bsky_reader(url, WatchKind.SEARCH, "brand")
        got, pos = drain(reader, reader.start_position(), 120)
        assert [p["uri"] for p in got] == first
        reader.close()
        later = fake.post("bob.bsky.social", "brand again", 2)
        again = bsky_reader(url, WatchKind.SEARCH, "brand")
        got, pos = drain(again, pos, 2)
        assert [p["uri"] for p in got] == later
        assert again.read(pos, 10).records == []
        again.close()


def test_bluesky_author_feed_leaves_out_reposts() -> None:
    with bluesky_server.running() as (fake, url):
        (other,) = fake.post("bob.bsky.social", "bob's post")
        mine = fake.post("alice.bsky.social", "alice's posts", 2)
        fake.repost("alice.bsky.social", other)
        reader = bsky_reader(url, WatchKind.TIMELINE, "alice.bsky.social")
        got, pos = drain(reader, reader.start_position(), 2)
        assert reader.read(pos, 10).records == []
        reader.close()
    assert [p["post"]["uri"] for p in got] == mine


def test_bluesky_search_refused_publicly_stops_with_advice_and_works_logged_in() -> None:
    fake = bluesky_server.FakeBluesky(
        public_search=False, handle="me.bsky.social", app_password="app-pw"
    )
    fatal: list[str] = []
    with bluesky_server.running(fake) as (fake, url):
        posts = fake.post("alice.bsky.social", "brand", 2)
        public = bsky_reader(url, WatchKind.SEARCH, "brand", on_fatal=lambda s, r: fatal.append(r))
        assert drain(public, public.start_position(), 1, timeout=2)[0] == []
        public.close()
        env = {"BLUESKY_HANDLE": "me.bsky.social", "BLUESKY_APP_PASSWORD": "app-pw"}
        authed = bsky_reader(url, WatchKind.SEARCH, "brand", env, backoff_s=0.1)
        got, pos = drain(authed, authed.start_position(), 2)
        fake.expire_tokens()  # 400 ExpiredToken: log in again
        more = fake.post("alice.bsky.social", "brand later", 1)
        got2, _ = drain(authed, pos, 1)
        authed.close()
        wrong = {"BLUESKY_HANDLE": "me.bsky.social", "BLUESKY_APP_PASSWORD": "nope"}
        bad = bsky_reader(
            url, WatchKind.SEARCH, "brand", wrong, on_fatal=lambda s, r: fatal.append(r)
        )
        drain(bad, bad.start_position(), 1, timeout=2)
        bad.close()
    assert [p["uri"] for p in got] == posts and [p["uri"] for p in got2] == more
    assert fatal[0].startswith("Bluesky 403: the public AppView refuses this read")
    assert fatal[1].startswith("Bluesky login refused: Invalid identifier or password")


def test_bluesky_429_and_remaining_zero_wait_for_the_reset() -> None:
    import time

    fake = bluesky_server.FakeBluesky(limit=1, window_s=1.0)
    with bluesky_server.running(fake) as (fake, url):
        fake.post("alice.bsky.social", "brand", 150)  # two pages, one request a second
        reset = str(int(time.time()) + 1)
        refused = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        fake.inject.append((429, refused, {"ratelimit-reset": reset, "retry-after": "1"}))
        reader = bsky_reader(url, WatchKind.SEARCH, "brand")
        got, _ = drain(reader, reader.start_position(), 150, timeout=8)
        reader.close()
    assert len(got) == 150
    # after the 429, remaining 0 paused the reader until the reset: no more refusals
    assert fake.statuses == [429, 200, 200]


# -- Mastodon -----------------------------------------------------------------


def masto_reader(
    url: str, target: str, env: Mapping[str, str] | None = None, **kw: Any
) -> PollingReader:
    kind = WatchKind.TIMELINE if target[0] in "#@" else WatchKind.SEARCH
    prov = MastodonProvider(url, env or {})
    kw.setdefault("backfill_pages", 10)
    return PollingReader(
        "md", prov, Watch(kind, target), FAST, platform="mastodon", order_key=mastodon_key, **kw
    )


def test_mastodon_hashtag_timeline_follows_link_headers_and_resumes() -> None:
    with mastodon_server.running() as (fake, url):
        first = fake.toot("alice", "<p>brand {i}</p>", 90, tags=["brand"])  # three pages of 40
        reader = masto_reader(url, "#brand")
        got, pos = drain(reader, reader.start_position(), 90)
        assert [p["uri"] for p in got] == first
        reader.close()
        later = fake.toot("bob", "<p>brand later</p>", 2, tags=["brand"])
        again = masto_reader(url, "#brand")
        got, _ = drain(again, pos, 2)
        again.close()
    assert [p["uri"] for p in got] == later
    polls = [p for path, p in fake.requests if path.startswith("/api/v1/timelines/tag/")]
    assert any("max_id" in p for p in polls)  # paged back through the Link header
    assert polls[-1].get("min_id") == pos[0] == first[-1].rsplit("/", 1)[1]


def test_mastodon_account_timeline_search_and_bad_token() -> None:
    fatal: list[str] = []
    with mastodon_server.running(mastodon_server.FakeMastodon(token="tok")) as (fake, url):
        posts = fake.toot("alice", "<p>my brand</p>", 2)
        acct = masto_reader(url, "@alice", {"MASTODON_ACCESS_TOKEN": "tok"})
        got, _ = drain(acct, acct.start_position(), 2)
        acct.close()
        search = masto_reader(url, "brand", {"MASTODON_ACCESS_TOKEN": "tok"})
        found, _ = drain(search, search.start_position(), 2)
        search.close()
        bad = masto_reader(
            url, "#brand", {"MASTODON_ACCESS_TOKEN": "bad"}, on_fatal=lambda s, r: fatal.append(r)
        )
        drain(bad, bad.start_position(), 1, timeout=2)
        bad.close()
    assert [p["uri"] for p in got] == posts and [p["uri"] for p in found] == posts
    assert fatal == ["Mastodon 401: The access token is invalid (check MASTODON_ACCESS_TOKEN)"]


def test_mastodon_catches_up_with_min_id_in_order_so_none_is_skipped_past_max_pages() -> None:
    with mastodon_server.running() as (fake, url):
        fake.toot("alice", "<p>brand old</p>", 2, tags=["brand"])
        reader = masto_reader(url, "#brand", max_pages=1)
        got, pos = drain(reader, reader.start_position(), 2)
        backfill = len(fake.requests)
        burst = fake.toot("bob", "<p>brand {i}</p>", 90, tags=["brand"])  # three pages of 40
        got, _ = drain(reader, pos, 90)
        reader.close()
    assert [p["uri"] for p in got] == burst  # oldest first, none of the older 50 skipped
    polls = [p for _, p in fake.requests[backfill:]]
    assert all("since_id" not in p and "max_id" not in p for p in polls)
    ids = [u.rsplit("/", 1)[1] for u in burst]
    mins = [p["min_id"] for p in polls]
    assert ids[39] in mins and ids[79] in mins  # forward, 40 at a time


def test_mastodon_search_pages_back_then_catches_up_with_min_id() -> None:
    env = {"MASTODON_ACCESS_TOKEN": "tok"}
    with mastodon_server.running(mastodon_server.FakeMastodon(token="tok")) as (fake, url):
        first = fake.toot("alice", "<p>brand {i}</p>", 90)  # more than one page of 40
        reader = masto_reader(url, "brand", env, max_pages=1)
        got, pos = drain(reader, reader.start_position(), 90)
        assert [p["uri"] for p in got] == first
        later = fake.toot("bob", "<p>brand later {i}</p>", 50)
        got, _ = drain(reader, pos, 50)
        reader.close()
    assert [p["uri"] for p in got] == later
    searches = [p for path, p in fake.requests if path == "/api/v2/search"]
    assert "max_id" in searches[1] and "min_id" in searches[3]
    assert all("offset" not in p for p in searches)


def test_mastodon_search_without_a_token_stops_with_one_clear_line() -> None:
    fatal: list[str] = []
    with mastodon_server.running() as (fake, url):
        fake.toot("alice", "<p>brand</p>")
        reader = masto_reader(url, "brand", on_fatal=lambda s, r: fatal.append(r))
        got, _ = drain(reader, reader.start_position(), 1, timeout=2)
        reader.close()
        prov = MastodonProvider(url, {})
        offset = prov._http.get("/api/v2/search", params={"q": "brand", "offset": 40})
        prov.close()
    assert got == []
    assert fatal == [
        "Mastodon search needs MASTODON_ACCESS_TOKEN: instances search statuses only for a"
        " signed-in account (without one the answer is empty, and paging is refused with 401)"
    ]
    # the fake answers as instances do: offset without a token is refused
    assert offset.status_code == 401


def test_mastodon_429_then_content_is_plain_text_and_boosts_count_the_original() -> None:
    with mastodon_server.running() as (fake, url):
        html = (
            '<p>Hi <span class="h-card"><a href="https://m.example/@bob" class="u-url mention">'
            '@<span>bob</span></a></span> &amp; see <a href="https://example.com/deal">'
            '<span class="invisible">https://</span>example.com/deal</a></p>'
            "<p>bye<script>alert(1)</script></p>"
        )
        (orig,) = fake.toot("alice", html, tags=["brand"])
        fake.boost("carol", orig)
        fake.inject.append(
            (429, {"error": "Too many requests"}, {"x-ratelimit-reset": "2026-01-01T00:00:00.000Z"})
        )
        reader = masto_reader(url, "#brand")
        got, _ = drain(reader, reader.start_position(), 2)
        reader.close()
    from chirpflow.model import RawRecord

    tweets = [
        normalize(RawRecord(f"md:{i}", "md", p, _now(), "#brand", platform="mastodon"))
        for i, p in enumerate(got)
    ]
    assert all(isinstance(t, Tweet) for t in tweets)
    assert {t.id for t in tweets if isinstance(t, Tweet)} == {f"mastodon:{orig}"}  # one post
    t = tweets[0]
    assert isinstance(t, Tweet)
    assert t.text == "Hi @bob & see https://example.com/deal\n\nbye"
    assert t.url.startswith("https://mastodon.example/@alice/")


def test_bluesky_expired_access_token_is_refreshed_and_login_only_when_refresh_fails() -> None:
    fake = bluesky_server.FakeBluesky(handle="me.bsky.social", app_password="app-pw")
    env = {"BLUESKY_HANDLE": "me.bsky.social", "BLUESKY_APP_PASSWORD": "app-pw"}
    watch = Watch(WatchKind.SEARCH, "brand")
    with bluesky_server.running(fake) as (fake, url):
        fake.post("alice.bsky.social", "brand", 2)
        prov = BlueskyProvider(env, base_url=url, auth_url=url)
        first = prov.fetch(watch, None, None)
        fake.expire_tokens()  # the access JWT expired: refreshSession with the refresh JWT
        second = prov.fetch(watch, None, None)
        fake.expire_tokens()  # again: the rotated refresh JWT still works
        third = prov.fetch(watch, None, None)
        fake.expire_tokens(refresh=True)  # the refresh JWT expired too: log in again
        fourth = prov.fetch(watch, None, None)
        prov.close()
    assert [len(p.tweets) for p in (first, second, third, fourth)] == [2, 2, 2, 2]
    calls = [path.removeprefix("/xrpc/com.atproto.server.") for path, _ in fake.requests]
    search = "/xrpc/app.bsky.feed.searchPosts"
    assert calls == [
        "createSession",
        search,
        search,
        "refreshSession",
        search,
        search,
        "refreshSession",
        search,
        search,
        "refreshSession",
        "createSession",
        search,
    ]
