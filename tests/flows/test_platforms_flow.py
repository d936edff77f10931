"""``chirpflow run`` over X, Reddit, Bluesky and Mastodon sources at once, into PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import Settings, settings_from_dict
from tests.fakes import bluesky_server, mastodon_server, reddit_server, x_server
from tests.flows.helpers import env_for, scalar

CROSS = "Brand is down again for everyone"


def _settings(x: str, rd: str, bs: str, md: str) -> Settings:
    return settings_from_dict(
        {
            "pipeline": {"snapshot_interval": "1s", "max_wait": "1s"},
            "analyzer": {"kind": "offline"},
            "sources": [
                {"name": "x", "type": "x", "base_url": x, "interval": "1s", "timelines": ["brand"]},
                {
                    "name": "rd",
                    "type": "reddit",
                    "base_url": rd,
                    "auth_url": rd,
                    "interval": "1s",
                    "subreddits": ["brand"],
                },
                {
                    "name": "bs",
                    "type": "bluesky",
                    "base_url": bs,
                    "interval": "1s",
                    "searches": ["brand"],
                },
                {
                    "name": "md",
                    "type": "mastodon",
                    "base_url": md,
                    "interval": "1s",
                    "hashtags": ["brand"],
                },
            ],
            "sinks": {"console": False},
        }
    )


def _rows(pg_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(sql).fetchall()


def _by_platform(pg_url: str) -> dict[str, int]:
    return {p: n for p, n in _rows(pg_url, "SELECT platform, count(*) FROM tweets GROUP BY 1")}


def test_a_mixed_run_stores_every_post_once_and_a_restart_resumes_each_source(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx, frd, fbs, fmd = (
        x_server.FakeX(),
        reddit_server.FakeReddit(),
        bluesky_server.FakeBluesky(),
        mastodon_server.FakeMastodon(),
    )
    fx.store.post("brand", "x post about the brand", 5)
    frd.post("brand", "alice", "reddit post about the brand", 4)
    frd.post("brand", "bob", CROSS)
    fbs.post("carol.bsky.social", "bluesky post about the brand", 4)
    fmd.toot("dave", f"<p>{CROSS}</p>", tags=["brand"])
    fmd.toot("erin", "<p>mastodon &amp; the brand {i}</p>", 3, tags=["brand"])
    env = env_for(tmp_path, pg_url)
    with (
        x_server.running(fx) as (fx, x_url),
        reddit_server.running(frd) as (frd, rd_url),
        bluesky_server.running(fbs) as (fbs, bs_url),
        mastodon_server.running(fmd) as (fmd, md_url),
    ):
        monkeypatch.setenv("X_BEARER_TOKEN", fx.token)
        monkeypatch.setenv("REDDIT_CLIENT_ID", frd.client_id)
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", frd.secret)
        cfg = _settings(x_url, rd_url, bs_url, md_url)
        run_job(cfg, env, limit=18, recovery=True, live=False)
        first = _by_platform(pg_url)
        assert first == {"x": 5, "reddit": 5, "bluesky": 4, "mastodon": 4}
        # the same text on Reddit and Mastodon: analysed once (the cache), stored as two posts
        cross = _rows(pg_url, f"SELECT platform FROM tweets WHERE text = '{CROSS}' ORDER BY 1")
        assert cross == [("mastodon",), ("reddit",)]
        assert scalar(pg_url, "SELECT sum(cache_hits) FROM chunks") >= 1
        # a restart resumes each source where it stopped: only the new posts come
        fx.store.post("brand", "x later", 2)
        frd.post("brand", "alice", "reddit later", 2)
        fbs.post("carol.bsky.social", "brand later", 2)
        fmd.toot("erin", "<p>brand later {i}</p>", 2, tags=["brand"])
        run_job(cfg, env, limit=8, recovery=True, live=False)
    counts = _by_platform(pg_url)
    assert counts == {"x": 7, "reddit": 7, "bluesky": 6, "mastodon": 6}
    stats = store_stats(pg_url)
    assert stats["by_platform"] == counts and stats["tweets_ingested"] == 26
    assert {"reddit", "bluesky", "mastodon", "x"} <= set(stats["providers"])
    assert scalar(pg_url, "SELECT count(*) FROM duplicates") == 0
    assert scalar(pg_url, "SELECT count(*) FROM dead_letters") == 0
    assert scalar(pg_url, "SELECT count(*) FROM analyses") == 26
    links = _rows(pg_url, "SELECT platform, link, post_id FROM tweets WHERE platform <> 'x'")
    prefixes = {
        "reddit": "https://www.reddit.com/r/brand/comments/",
        "bluesky": "https://bsky.app/profile/carol.bsky.social/post/",
        "mastodon": "https://mastodon.example/@",
    }
    for platform, link, post_id in links:
        assert str(link).startswith(prefixes[str(platform)]), link
        assert str(post_id).startswith(f"{platform}:")
    assert scalar(pg_url, "SELECT count(*) FROM tweets WHERE platform = 'x' AND link IS NULL") == 7


def test_the_bluesky_jetstream_feeds_a_run(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import jetstream_server

    with jetstream_server.running() as (fake, url):
        fake.post("did:plc:alice", "brand on the firehose", 4)
        fake.post("did:plc:bob", "something else", 3)
        cfg = settings_from_dict(
            {
                "pipeline": {"max_wait": "1s"},
                "analyzer": {"kind": "offline"},
                "sources": [
                    {
                        "name": "fire",
                        "type": "bluesky",
                        "stream": True,
                        "stream_url": url,
                        "searches": ["brand"],
                    }
                ],
                "sinks": {"console": False},
            }
        )
        run_job(cfg, env_for(tmp_path, pg_url), limit=4, recovery=False, live=False)
    rows = _rows(pg_url, "SELECT platform, watch, link FROM tweets ORDER BY link")
    assert len(rows) == 4
    assert all(p == "bluesky" and w == "jetstream" for p, w, _ in rows)
    assert rows[0][2] == "https://bsky.app/profile/did:plc:alice/post/3ljet00000001"
    firehose = store_stats(pg_url)["providers"]["bluesky"]  # the stream's usage is counted
    assert firehose["requests"] >= 1 and firehose["tweets"] == 4


def test_a_private_subreddit_stops_its_source_with_an_alert_while_others_go_on(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import discord_server

    fake = reddit_server.FakeReddit(private={"secret"})
    with reddit_server.running(fake) as (fake, url), discord_server.running() as (dc, hook):
        fake.post("brand", "alice", "public post", 3)
        fake.post("secret", "eve", "hidden")
        monkeypatch.setenv("REDDIT_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", fake.secret)
        monkeypatch.setenv("DISCORD_WEBHOOK_URL", hook)
        cfg = settings_from_dict(
            {
                "pipeline": {"max_wait": "1s"},
                "analyzer": {"kind": "offline"},
                "sources": [
                    {
                        "name": "rd",
                        "type": "reddit",
                        "base_url": url,
                        "auth_url": url,
                        "interval": "1s",
                        "subreddits": ["brand", "secret"],
                    }
                ],
                "sinks": {"console": False},
                "alerts": {"channels": {"ops": {"type": "discord"}}, "rules": []},
            }
        )
        run_job(cfg, env_for(tmp_path, pg_url), limit=3, recovery=False, live=False)
    assert _by_platform(pg_url) == {"reddit": 3}
    assert len(dc.messages) == 1
    embed = dc.messages[0]["embeds"][0]
    assert "rd:timeline:r/secret" in embed["title"]
    assert "private" in str(embed)
