"""The Bluesky Jetstream source against a fake Jetstream websocket."""

from __future__ import annotations

import time

from chirpflow.connectors.sources.jetstream import REWIND_US, JetstreamReader
from chirpflow.model import DeadLetter, Tweet
from tests.connectors.reading import read_normalized, texts
from tests.fakes import bluesky_server, jetstream_server


def test_keyword_posts_only_and_a_restart_resumes_from_the_time_us_cursor() -> None:
    with jetstream_server.running() as (fake, url):
        fake.post("did:plc:alice", "brand launch", 3)
        fake.post("did:plc:bob", "unrelated chatter", 2)
        fake.like("did:plc:alice")
        reader = JetstreamReader("js", ["Brand"], [], url)
        got, pos = read_normalized(reader, reader.start_position(), 3)
        assert texts(got) == ["brand launch 0", "brand launch 1", "brand launch 2"]
        assert all(isinstance(t, Tweet) and t.platform == "bluesky" for t in got)
        reader.close()
        later = fake.post("did:plc:carol", "brand news", 2)
        again = JetstreamReader("js", ["brand"], [], url)
        got, pos2 = read_normalized(again, pos, 2)
        assert texts(got) == ["brand news 0", "brand news 1"]  # nothing repeated, nothing skipped
        assert again.read(pos2, 10).records == [] and pos2[0] == later[-1]
        again.close()
    assert fake.connects[0].get("cursor") is None
    assert pos[0] is not None
    assert fake.connects[1]["cursor"] == [str(pos[0] - REWIND_US)]  # rewound, then deduped
    assert fake.connects[1]["wantedCollections"] == ["app.bsky.feed.post"]


def test_a_connection_cut_mid_frame_reconnects_and_a_bad_frame_is_a_dead_letter() -> None:
    fake = jetstream_server.FakeJetstream()
    fake.drops.append(2)  # the first connection dies in the middle of its third event
    with jetstream_server.running(fake) as (fake, url):
        fake.post("did:plc:alice", "brand", 5)
        fake.garbage.add(4)
        reader = JetstreamReader("js", [], [], url, backoff_s=0.05)
        got, _ = read_normalized(reader, reader.start_position(), 6)
        reader.close()
    assert texts(got) == [f"brand {i}" for i in range(5)]  # each once
    dead = [d for d in got if isinstance(d, DeadLetter)]
    assert [d.reason.value for d in dead] == ["malformed_json"]
    assert len(fake.connects) == 2


def test_watched_handles_become_wanted_dids_and_an_unknown_handle_stops_the_source() -> None:
    fatal: list[str] = []
    with bluesky_server.running() as (bs, bs_url), jetstream_server.running() as (fake, url):
        bs.post("alice.bsky.social", "profile")
        fake.post("did:plc:alice", "from alice")
        fake.post("did:plc:bob", "from bob")
        reader = JetstreamReader("js", [], ["alice.bsky.social"], url, bs_url)
        got, _ = read_normalized(reader, reader.start_position(), 1)
        reader.close()
        bad = JetstreamReader(
            "js", [], ["nobody.bsky.social"], url, bs_url, on_fatal=lambda s, r: fatal.append(r)
        )
        result = bad.read(bad.start_position(), 10)
        deadline = time.monotonic() + 5
        while not result.exhausted and time.monotonic() < deadline:
            time.sleep(0.02)
            result = bad.read(bad.start_position(), 10)
        bad.close()
    assert texts(got) == ["from alice"]
    assert fake.connects[0]["wantedDids"] == ["did:plc:alice"]
    assert fatal == ["Bluesky: cannot resolve handle 'nobody.bsky.social'"]
