"""Mastodon hashtag streaming (SSE) against the fake instance: no gap, no repeat."""

from __future__ import annotations

from chirpflow.connectors.sources.mastodon_stream import MastodonStreamReader
from chirpflow.model import DeadLetter
from tests.connectors.reading import read_normalized, texts
from tests.fakes import mastodon_server
from tests.fakes.http_fake import Streamed
from tests.fakes.mastodon_server import sse_update

TOKEN = {"MASTODON_ACCESS_TOKEN": "tok"}


def status(fake: mastodon_server.FakeMastodon, uri: str) -> dict[str, object]:
    return next(s for s in fake.statuses if s["uri"] == uri)


def test_a_cut_stream_catches_up_through_rest_and_a_restart_resumes() -> None:
    fake = mastodon_server.FakeMastodon(token="tok")
    with mastodon_server.running(fake) as (fake, url):
        (a,) = fake.toot("alice", "<p>brand a</p>", tags=["brand"])
        (b,) = fake.toot("alice", "<p>brand b</p>", tags=["brand"])
        cut = sse_update(status(fake, b))
        fake.streams.append(
            Streamed(
                [
                    b":thump\n\n",
                    sse_update(status(fake, a)),
                    b"event: delete\ndata: 1\n\n",
                    cut[:40],
                ],
                abrupt=True,
            )
        )
        (c,) = fake.toot("bob", "<p>brand c</p>", tags=["brand"])  # posted while disconnected
        (d,) = fake.toot("bob", "<p>brand d</p>", tags=["brand"])
        fake.streams.append(
            Streamed(
                [
                    sse_update(status(fake, c)),
                    sse_update(status(fake, d)),
                    b"event: update\ndata: {oops\n\n",
                    1.0,
                ]
            )
        )
        reader = MastodonStreamReader("md", url, "#brand", TOKEN, backoff_s=0.05)
        got, pos = read_normalized(reader, reader.start_position(), 5)
        reader.close()
        assert texts(got) == ["brand a", "brand b", "brand c", "brand d"]  # once each, in order
        assert [d.reason.value for d in got if isinstance(d, DeadLetter)] == ["malformed_json"]
        assert reader.discarded_partial == 1
        fake.toot("carol", "<p>brand e</p>", tags=["brand"])
        again = MastodonStreamReader("md", url, "brand", TOKEN)
        got, _ = read_normalized(again, pos, 1)
        again.close()
    assert texts(got) == ["brand e"]


def test_streaming_without_a_token_stops_the_source_with_the_reason() -> None:
    fatal: list[str] = []
    with mastodon_server.running() as (_, url):
        reader = MastodonStreamReader("md", url, "brand", {}, on_fatal=lambda s, r: fatal.append(r))
        read_normalized(reader, reader.start_position(), 1, timeout=3)
        reader.close()
    assert len(fatal) == 1 and fatal[0].startswith("Mastodon streaming 401:")
    assert "MASTODON_ACCESS_TOKEN" in fatal[0]
