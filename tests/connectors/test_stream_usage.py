"""Streaming sources count their usage per platform like the polled ones."""

from __future__ import annotations

import time
from collections.abc import Callable

from chirpflow.connectors.sources.jetstream import JetstreamReader
from chirpflow.connectors.sources.mastodon_stream import MastodonStreamReader
from chirpflow.connectors.sources.polling_reader import Usage
from tests.fakes import jetstream_server, mastodon_server
from tests.fakes.http_fake import Streamed
from tests.fakes.mastodon_server import sse_update


def wait_for(done: Callable[[], bool], read: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        read()
        time.sleep(0.02)


def totals(usage: list[Usage]) -> dict[tuple[str, str], tuple[int, int]]:
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for u in usage:
        r, t = out.get((u.provider, u.source), (0, 0))
        out[(u.provider, u.source)] = (r + u.requests, t + u.tweets)
    return out


def test_jetstream_counts_its_connection_and_the_posts_it_emits() -> None:
    usage: list[Usage] = []
    with jetstream_server.running() as (fake, url):
        fake.post("did:plc:alice", "brand launch", 3)
        fake.post("did:plc:bob", "unrelated chatter", 2)  # filtered out: not counted
        reader = JetstreamReader("js", ["brand"], [], url, on_usage=usage.append)
        pos = reader.start_position()
        wait_for(
            lambda: totals(usage).get(("bluesky", "js"), (0, 0))[1] >= 3,
            lambda: reader.read(pos, 100),
        )
        reader.close()
    assert totals(usage)[("bluesky", "js")] == (1, 3)


def test_a_mastodon_stream_counts_connections_catch_up_requests_and_posts() -> None:
    usage: list[Usage] = []
    fake = mastodon_server.FakeMastodon(token="tok")
    with mastodon_server.running(fake) as (fake, url):
        a, b = fake.toot("alice", "<p>brand {i}</p>", 2, tags=["brand"])
        by_uri = {s["uri"]: s for s in fake.statuses}
        fake.streams.append(Streamed([sse_update(by_uri[a]), sse_update(by_uri[b])]))
        reader = MastodonStreamReader(
            "md", url, "brand", {"MASTODON_ACCESS_TOKEN": "tok"}, on_usage=usage.append
        )
        pos = reader.start_position()
        wait_for(
            lambda: reader.connects >= 2 and totals(usage).get(("mastodon", "md"), (0, 0))[0] >= 3,
            lambda: reader.read(pos, 100),
        )
        reader.close()
    requests, posts = totals(usage)[("mastodon", "md")]
    assert posts == 2  # the two streamed statuses; the catch-up found nothing newer
    assert requests >= 3  # two connections and the catch-up read between them
