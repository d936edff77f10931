"""The polling reader against faithful fakes of X API v2, TwitterAPI.io and RapidAPI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chirpflow.connectors.providers.base import Provider, Watch, WatchKind
from chirpflow.connectors.providers.rapidapi import RapidApiProvider
from chirpflow.connectors.providers.twitterapi_io import TwitterApiIoProvider
from chirpflow.connectors.providers.x_api import XApiProvider
from chirpflow.connectors.sources.polling_reader import PollingReader, Position, Usage
from chirpflow.model import Tweet
from chirpflow.operators.normalize import normalize
from tests.connectors.reading import read_records
from tests.fakes import rapidapi_server, twitterapi_io_server, x_server
from tests.fakes.tweet_store import TweetStore

FAST = timedelta(milliseconds=100)


def drain(
    reader: PollingReader, position: Position, want: int, timeout: float = 10.0
) -> tuple[list[Any], Position]:
    """Read until ``want`` payloads arrived (or the reader stopped, or time ran out)."""
    records, position = read_records(reader, position, want, timeout)
    return [r.payload for r in records], position


@pytest.fixture(params=["x", "twitterapi_io", "rapidapi"])
def provider(request: pytest.FixtureRequest) -> Iterator[tuple[Provider, TweetStore, Any]]:
    store = TweetStore()
    if request.param == "x":
        with x_server.running(x_server.FakeX(store=store)) as (fake, url):
            yield XApiProvider(fake.token, base_url=url), store, fake
    elif request.param == "twitterapi_io":
        with twitterapi_io_server.running(twitterapi_io_server.FakeTwitterApiIo(store=store)) as (
            fake,
            url,
        ):
            yield TwitterApiIoProvider(fake.key, base_url=url), store, fake
    else:
        with rapidapi_server.running(rapidapi_server.FakeRapidApi(store=store)) as (fake, url):
            yield RapidApiProvider(fake.key, base_url=url), store, fake


@pytest.mark.parametrize("kind", list(WatchKind))
def test_pages_back_to_the_last_seen_tweet_oldest_first(
    provider: tuple[Provider, TweetStore, Any], kind: WatchKind
) -> None:
    prov, store, fake = provider
    store.user("brand")
    first = store.post("alice", "hello @brand launch", 3)
    target = {"timeline": "alice", "mentions": "brand", "search": "launch"}[kind.value]
    reader = PollingReader("w", prov, Watch(kind, target), FAST, max_pages=50, backfill_pages=1)
    got, pos = drain(reader, reader.start_position(), 3)
    assert [p["id"] for p in got] == [str(t.id) for t in first]  # oldest first
    assert pos == (str(first[-1].id), 3)
    later = store.post("alice", "more @brand launch news", 130)  # several pages at once
    got, pos = drain(reader, pos, 130)
    assert [p["id"] for p in got] == [str(t.id) for t in later]
    tweets = [normalize(r) for r in reader.read(pos, 10).records]
    assert tweets == []  # nothing repeated
    reader.close()
    # a restart from the saved position repeats nothing and skips nothing
    newest = store.post("alice", "after restart @brand launch", 2)
    again = PollingReader("w", type(prov)(*_args(prov, fake)), Watch(kind, target), FAST)
    got, _ = drain(again, pos, 2)
    assert [p["id"] for p in got] == [str(t.id) for t in newest]
    again.close()


def _args(prov: Provider, fake: Any) -> tuple[Any, ...]:
    url = prov._http.base_url  # type: ignore[attr-defined]
    secret = getattr(fake, "token", None) or fake.key
    return (secret, str(url))


def test_each_provider_payload_normalizes_to_the_same_tweet(
    provider: tuple[Provider, TweetStore, Any],
) -> None:
    prov, store, _ = provider
    (posted,) = store.post("carol", "normalize me", 1)
    reader = PollingReader("w", prov, Watch(WatchKind.TIMELINE, "carol"), FAST)
    (payload,), _ = drain(reader, reader.start_position(), 1)
    reader.close()
    from chirpflow.model import RawRecord, make_origin
    from tests.factories import T0

    tweet = normalize(RawRecord(make_origin("w:0", 0), "w", payload, T0, "timeline:carol"))
    assert isinstance(tweet, Tweet), tweet
    assert (tweet.id, tweet.text, tweet.author_id) == (
        str(posted.id),
        "normalize me",
        str(posted.author_id),
    )
    assert tweet.author_username == "carol" and tweet.created_at == posted.created_at
    assert tweet.author_followers == posted.followers and tweet.watch == "timeline:carol"


def test_x_rate_limit_waits_until_reset_then_continues() -> None:
    store = TweetStore()
    store.post("dave", "t", 250)  # three pages
    fake = x_server.FakeX(store=store, limit=2, window_s=2.0)
    with x_server.running(fake) as (fake, url):
        usage: list[Usage] = []
        reader = PollingReader(
            "w",
            XApiProvider(fake.token, base_url=url),
            Watch(WatchKind.SEARCH, "t"),
            FAST,
            backfill_pages=3,
            on_usage=usage.append,
        )
        got, _ = drain(reader, reader.start_position(), 250, timeout=15)
        reader.close()
    assert len(got) == 250
    assert 429 not in fake.statuses or fake.statuses.count(429) <= 1
    # remaining hit 0 after two requests: the reader paused instead of hammering
    assert sum(u.requests for u in usage) == 3
    assert sum(u.cost_usd for u in usage) == pytest.approx(250 * 0.005)


def test_x_empty_pages_in_both_forms_and_partial_errors() -> None:
    for as_list in (False, True):
        fake = x_server.FakeX(empty_as_list=as_list, partial_errors=True)
        with x_server.running(fake) as (fake, url):
            reader = PollingReader(
                "w",
                XApiProvider(fake.token, base_url=url),
                Watch(WatchKind.SEARCH, "nothing"),
                FAST,
            )
            got, _ = drain(reader, reader.start_position(), 1, timeout=0.5)
            fake.store.post("erin", "nothing here", 2)
            got, _ = drain(reader, reader.start_position(), 2)
            reader.close()
        assert len(got) == 2 and reader.failed is None


def test_transient_errors_back_off_and_recover() -> None:
    fake = x_server.FakeX()
    fake.store.post("finn", "hello", 2)
    fake.inject.extend(
        [
            (
                503,
                {
                    "title": "Service Unavailable",
                    "status": 503,
                    "type": "about:blank",
                    "detail": "Service Unavailable",
                },
                {},
            ),
            (200, b"<html>gateway</html>", {}),
        ]
    )
    with x_server.running(fake) as (fake, url):
        reader = PollingReader(
            "w",
            XApiProvider(fake.token, base_url=url),
            Watch(WatchKind.SEARCH, "hello"),
            FAST,
            backoff_s=0.05,
        )
        got, _ = drain(reader, reader.start_position(), 2)
        reader.close()
    assert len(got) == 2 and fake.statuses[:2] == [503, 200]


def test_out_of_credits_stops_the_source_and_alerts() -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(credits=30)
    fake.store.post("gina", "x", 40)
    stopped: list[tuple[str, str]] = []
    with twitterapi_io_server.running(fake) as (fake, url):
        reader = PollingReader(
            "io",
            TwitterApiIoProvider(fake.key, base_url=url),
            Watch(WatchKind.TIMELINE, "gina"),
            FAST,
            backfill_pages=5,
            on_fatal=lambda s, r: stopped.append((s, r)),
        )
        got, _ = drain(reader, reader.start_position(), 100)
        reader.close()
    assert got == []  # the poll never completed: nothing half-emitted
    assert fake.statuses.count(402) == 1  # not retried
    assert stopped and "402" in stopped[0][1] and stopped[0][0] == "io:timeline:gina"


@pytest.mark.parametrize(
    ("make", "bad"),
    [
        (lambda url: XApiProvider("wrong", base_url=url), "x"),
        (lambda url: TwitterApiIoProvider("wrong", base_url=url), "io"),
        (lambda url: RapidApiProvider("wrong", base_url=url), "rapid"),
    ],
)
def test_a_bad_key_stops_the_source_with_a_clear_reason(make: Any, bad: str) -> None:
    server = {"x": x_server, "io": twitterapi_io_server, "rapid": rapidapi_server}[bad]
    with server.running() as (_, url):
        reader = PollingReader("s", make(url), Watch(WatchKind.SEARCH, "q"), FAST)
        got, _ = drain(reader, reader.start_position(), 1)
        reader.close()
    assert got == [] and reader.failed is not None
    assert any(code in reader.failed for code in ("401", "403"))


def test_twitterapi_io_rate_limit_429_is_retried() -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo()
    fake.store.post("hal", "y", 3)
    fake.inject.append((429, {"error": "Too Many Requests"}, {"retry-after": "0.2"}))
    with twitterapi_io_server.running(fake) as (fake, url):
        reader = PollingReader(
            "io",
            TwitterApiIoProvider(fake.key, base_url=url),
            Watch(WatchKind.TIMELINE, "hal"),
            FAST,
        )
        got, _ = drain(reader, reader.start_position(), 3)
        reader.close()
    assert len(got) == 3 and fake.statuses[0] == 429
