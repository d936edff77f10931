"""``chirpflow ingest`` of Reddit, Bluesky and Mastodon posts next to X tweets, then a run
from Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.fakes import bluesky_server, mastodon_server, reddit_server
from tests.flows.helpers import scalar, write_jsonl
from tests.flows.test_ingest_replay import CFG, _env, _topic_values


def test_platform_posts_go_through_kafka_and_x_messages_keep_their_format(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    x_file = write_jsonl(tmp_path / "x.jsonl", [payload(i) for i in range(3)])
    with (
        reddit_server.running() as (frd, rd),
        mastodon_server.running() as (fmd, md),
        bluesky_server.running() as (fbs, bs),
    ):
        fbs.post("dave.bsky.social", "skeet about the brand", 2)
        frd.post("brand", "alice", "reddit about the brand", 2)
        (gone,) = frd.post("brand", "bob", "removed one")
        frd.remove(gone)
        fmd.toot("carol", "<p>toot &amp; brand {i}</p>", 2, tags=["brand"])
        monkeypatch.setenv("REDDIT_CLIENT_ID", frd.client_id)
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", frd.secret)
        cfg = settings_from_dict(
            {
                **CFG,
                "ingest": {"topic": "mixed", "dlq_topic": "mixed.dlq", "partitions": 2},
                "sources": [
                    {"name": "x", "type": "jsonl", "path": str(x_file)},
                    {
                        "name": "rd",
                        "type": "reddit",
                        "base_url": rd,
                        "auth_url": rd,
                        "subreddits": ["brand"],
                    },
                    {"name": "md", "type": "mastodon", "base_url": md, "hashtags": ["brand"]},
                    {"name": "bs", "type": "bluesky", "base_url": bs, "searches": ["brand"]},
                ],
            }
        )
        env = _env(tmp_path, pg_url, kafka_broker)
        run_ingest(cfg, env, limit=10, recovery=False)
    dead = _topic_values(kafka_broker.bootstrap, "mixed.dlq")
    assert [d["reason"] for d in dead] == ["deleted"]
    msgs = _topic_values(kafka_broker.bootstrap, "mixed")
    x_msgs = [m for m in msgs if "platform" not in m]
    assert len(x_msgs) == 3 and all(m["id"].isdigit() for m in x_msgs)
    assert (
        sorted(m["platform"] for m in msgs if "platform" in m)
        == ["bluesky"] * 2 + ["mastodon"] * 2 + ["reddit"] * 2
    )
    run_job(cfg, env, source_spec="kafka:mixed", limit=9, recovery=False, live=False)
    assert scalar(pg_url, "SELECT count(*) FROM tweets WHERE platform = 'x'") == 3
    assert (
        scalar(
            pg_url,
            "SELECT count(*) FROM tweets WHERE platform = 'reddit' AND link LIKE 'https://www.reddit.com/%'",
        )
        == 2
    )
    assert (
        scalar(
            pg_url,
            "SELECT count(*) FROM tweets WHERE platform = 'mastodon'"
            " AND text LIKE 'toot & brand %' AND link LIKE 'https://mastodon.example/@carol/%'",
        )
        == 2
    )
    assert (
        scalar(
            pg_url,
            "SELECT count(*) FROM tweets WHERE platform = 'bluesky' AND post_id LIKE 'bluesky:at://%'"
            " AND link LIKE 'https://bsky.app/profile/dave.bsky.social/post/%'",
        )
        == 2
    )
