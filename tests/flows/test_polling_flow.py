"""``chirpflow run`` over polled tweet APIs: tweets stored, spend recorded, fatal stops alerted."""

from __future__ import annotations

from pathlib import Path

import pytest

from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.fakes import discord_server, twitterapi_io_server, x_server
from tests.flows.helpers import env_for, scalar


def test_polled_x_watches_land_in_postgres_with_their_cost(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = x_server.FakeX()
    fake.store.user("brand")
    fake.store.post("brand", "our launch", 30)
    fake.store.post("fan", "love @brand", 20)
    with x_server.running(fake) as (fake, url):
        monkeypatch.setenv("X_BEARER_TOKEN", fake.token)
        cfg = settings_from_dict(
            {
                "pipeline": {"snapshot_interval": "1s", "max_wait": "1s", "chunk_key": "watch"},
                "analyzer": {"kind": "offline"},
                "sources": [
                    {
                        "name": "brand",
                        "type": "x",
                        "base_url": url,
                        "interval": "1s",
                        "timelines": ["brand"],
                        "mentions": ["brand"],
                    }
                ],
                "sinks": {"console": False},
            }
        )
        run_job(cfg, env_for(tmp_path, pg_url), limit=50, recovery=False, live=False)
    stats = store_stats(pg_url)
    assert stats["analyzed"] == 50 and stats["dead_letters"] == 0
    x = stats["providers"]["x"]
    assert x["tweets"] >= 50 and x["cost_usd"] == pytest.approx(x["tweets"] * 0.005)
    watches = scalar(pg_url, "SELECT count(DISTINCT watch) FROM tweets")
    assert watches == 2  # timeline:brand and mentions:brand, one partition each


def test_out_of_credits_stops_the_source_and_sends_an_alert(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = twitterapi_io_server.FakeTwitterApiIo(credits=0)
    with twitterapi_io_server.running(fake) as (fake, url), discord_server.running() as (dc, hook):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", fake.key)
        monkeypatch.setenv("DISCORD_WEBHOOK_URL", hook)
        cfg = settings_from_dict(
            {
                "analyzer": {"kind": "offline"},
                "sources": [
                    {
                        "name": "io",
                        "type": "twitterapi_io",
                        "base_url": url,
                        "searches": ["chirpflow"],
                    }
                ],
                "sinks": {"console": False},
                "alerts": {"channels": {"ops": {"type": "discord"}}, "rules": []},
            }
        )
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False)  # ends by itself
    assert fake.statuses == [402]
    assert len(dc.messages) == 1
    assert "io:search:chirpflow" in dc.messages[0]["embeds"][0]["title"]


def test_a_missing_key_names_the_variable(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAPIDAPI_KEY", raising=False)
    cfg = settings_from_dict(
        {
            "sources": [{"name": "r", "type": "rapidapi", "timelines": ["a"]}],
            "sinks": {"console": False},
        }
    )
    with pytest.raises(Exception, match="RAPIDAPI_KEY"):
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False)


def test_the_x_filtered_stream_feeds_a_whole_run(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.http_fake import Streamed

    fake = x_server.FakeX()
    tweets = fake.store.post("streamer", "live from the stream", 30)
    lines = [x_server.stream_line(t, ["brand"]) for t in tweets]
    fake.connections.append(Streamed([*lines[:10], b"\r\n", 0.2, *lines[10:], 3.0]))
    with x_server.running(fake) as (fake, url):
        monkeypatch.setenv("X_BEARER_TOKEN", fake.token)
        cfg = settings_from_dict(
            {
                "pipeline": {"max_wait": "1s", "chunk_key": "watch"},
                "analyzer": {"kind": "offline"},
                "sources": [
                    {
                        "name": "live",
                        "type": "x_stream",
                        "base_url": url,
                        "rules": [{"value": "live stream", "tag": "brand"}],
                    }
                ],
                "sinks": {"console": False},
            }
        )
        run_job(cfg, env_for(tmp_path, pg_url), limit=30, recovery=False, live=False)
    assert scalar(pg_url, "SELECT count(*) FROM tweets WHERE watch = 'rule:brand'") == 30
    assert [r["tag"] for r in fake.rules.values()] == ["brand"]


def test_a_source_budget_is_shared_through_redis(redis_url: str) -> None:
    import time
    from datetime import timedelta

    from chirpflow.connectors.providers.base import Watch, WatchKind
    from chirpflow.connectors.providers.x_api import XApiProvider
    from chirpflow.connectors.redis.rate_limit import RedisLimiter
    from chirpflow.connectors.sources.polling_reader import PollingReader

    fake = x_server.FakeX()
    fake.store.post("a", "alpha", 1)
    with x_server.running(fake) as (fake, url):
        readers = [
            PollingReader(
                "shared",
                XApiProvider(fake.token, base_url=url),
                Watch(WatchKind.SEARCH, q),
                timedelta(0),
                limiter=RedisLimiter(redis_url, rpm=6, tpm=None, name="source:x:shared"),
            )
            for q in ("alpha", "beta", "gamma")
        ]
        for r in readers:  # two processes' worth of pollers, one Redis budget
            r.read(r.start_position(), 10)
        time.sleep(4.0)
        made = len(fake.requests)
        for r in readers:
            r.close()
    # 6 per minute, paced to one per 5 s at most, for all three together: pollers
    # with no interval at all made one request in 4 s between them, not hundreds
    assert 1 <= made <= 2
