"""The X filtered stream reader against the fake: rules, keep-alives, disconnects, 429."""

from __future__ import annotations

import time
from typing import Any

from chirpflow.connectors.sources.x_stream import Backoff, XStreamReader
from chirpflow.model import DeadLetter, Tweet
from chirpflow.operators.normalize import normalize
from tests.connectors.reading import read_records
from tests.fakes import x_server
from tests.fakes.http_fake import Streamed
from tests.fakes.tweet_store import TweetStore

FAST = Backoff(network_step_s=0.05, http_start_s=0.05, rate_start_s=0.1, silence_s=0.5)


def drain(reader: XStreamReader, want: int, timeout: float = 10.0) -> list[Any]:
    return read_records(reader, reader.start_position(), want, timeout)[0]


def test_rules_are_synced_by_tag() -> None:
    fake = x_server.FakeX()
    fake.rules = {
        "1": {"id": "1", "value": "old query", "tag": "brand"},
        "2": {"id": "2", "value": "keep me", "tag": "keep"},
        "3": {"id": "3", "value": "gone", "tag": "stale"},
    }
    fake.connections.append(Streamed([b"\r\n"]))
    with x_server.running(fake) as (fake, url):
        reader = XStreamReader(
            "live", fake.token, {"brand": "new query", "keep": "keep me"}, url, FAST
        )
        drain(reader, 1, timeout=1.0)
        reader.close()
    assert sorted((r["tag"], r["value"]) for r in fake.rules.values()) == [
        ("brand", "new query"),
        ("keep", "keep me"),
    ]
    assert fake.rule_posts[0] == {"delete": {"ids": ["1", "3"]}}


def test_keepalives_a_disconnect_mid_line_and_a_silent_connection() -> None:
    store = TweetStore()
    t = store.post("ann", "streamed", 4)
    lines = [x_server.stream_line(x, ["brand"]) for x in t]
    fake = x_server.FakeX(store=store)
    fake.connections.extend(
        [
            Streamed(
                [lines[0], b"\r\n", 0.05, lines[1], lines[2][:30]], abrupt=True
            ),  # cut mid-line
            Streamed([b"\r\n", 0.8]),  # silent for longer than silence_s: a dead connection
            Streamed([lines[2], b"{not json\r\n", lines[3], 5.0]),
        ]
    )
    with x_server.running(fake) as (fake, url):
        reader = XStreamReader("live", fake.token, {"brand": "streamed"}, url, FAST)
        records = drain(reader, 5)
        reader.close()
    out = [normalize(r) for r in records]
    tweets = [o for o in out if isinstance(o, Tweet)]
    assert [x.id for x in tweets] == [str(x.id) for x in t]  # each once, none half
    assert tweets[0].watch == "rule:brand" and tweets[0].author_username == "ann"
    assert [o.reason.value for o in out if isinstance(o, DeadLetter)] == ["malformed_json"]
    # the silent connection stays open server-side a while: TooManyConnections until it ends
    assert reader.discarded_partial == 1 and fake.stream_connects >= 3


def test_too_many_connections_backs_off_then_connects() -> None:
    fake = x_server.FakeX()
    (tw,) = fake.store.post("bo", "hello", 1)
    fake._active = 1  # another client holds the only connection
    fake.connections.append(Streamed([x_server.stream_line(tw, ["t"]), 5.0]))
    with x_server.running(fake) as (fake, url):
        reader = XStreamReader("live", fake.token, {"t": "hello"}, url, FAST)
        reader.read(0, 1)  # starts the connection thread
        time.sleep(0.3)
        fake._active = 0  # the other client went away
        records = drain(reader, 1)
        reader.close()
    assert len(records) == 1 and 429 in fake.statuses


def test_a_bad_token_stops_the_source() -> None:
    stopped: list[str] = []
    with x_server.running() as (_, url):
        reader = XStreamReader(
            "live", "wrong", {"t": "x"}, url, FAST, on_fatal=lambda s, r: stopped.append(r)
        )
        assert drain(reader, 1) == []
        reader.close()
    assert reader.failed and "401" in reader.failed and stopped
