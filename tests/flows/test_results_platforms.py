"""Posts of every platform show their own link and platform in ``chirpflow tweets``,
``export`` and the dashboard's list; ``--platform`` filters; keyset paging
(``--after`` and the dashboard's ``next``) stays stable while posts arrive."""

from __future__ import annotations

import csv
import os
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.flows.api import create_app
from chirpflow.flows.build import make_chunk_analyzer
from chirpflow.model import Chunk, Tweet
from chirpflow.settings import JobSettings, settings_from_dict
from tests.factories import T0, tweet
from tests.flows.helpers import env_for
from tests.flows.test_cli import _FOREIGN, _run

LINKS = {
    "x": "https://x.com/xuser/status/1800000000000000001",
    "reddit": "https://www.reddit.com/r/brand/comments/1abc2z/brand_broke_again/",
    "bluesky": "https://bsky.app/profile/alice.bsky.social/post/3lbrandpost2",
    "mastodon": "https://m.example/@alice/113000000000000001",
}


def _post(n: int, platform: str = "x", minutes: int = 0) -> Tweet:
    if platform == "x":
        return tweet(n, author_username="xuser", created_at=T0 + timedelta(minutes=minutes))
    native = {"reddit": "t3_1abc2z", "bluesky": "at://x/post/3l", "mastodon": "https://m/1"}
    return tweet(
        n,
        id=f"{platform}:{native[platform]}",
        author_id=f"{platform}:alice",
        author_username="alice",
        platform=platform,
        link=LINKS[platform],
        created_at=T0 + timedelta(minutes=minutes),
    )


def _store(url: str, tmp_path: Path, posts: list[Tweet], key: str) -> None:
    cfg = settings_from_dict({"analyzer": {"kind": "offline"}, "sinks": {"console": False}})
    result = make_chunk_analyzer(cfg, env_for(tmp_path, url)).run(Chunk(key, 0, posts, T0))
    writer = PostgresWriter(url)
    try:
        writer.write([result])
    finally:
        writer.close()


@pytest.fixture
def cli_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    migrate(pg_url)
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home"), "COLUMNS": "300"})
    return env


def test_every_platform_shows_its_link_and_platform(
    cli_env: dict[str, str], pg_url: str, tmp_path: Path
) -> None:
    _store(pg_url, tmp_path, [_post(1, p, i) for i, p in enumerate(LINKS)], "mixed")
    rows = orjson.loads(_run(["tweets", "--json"], cli_env).stdout)
    assert {r["platform"]: r["url"] for r in rows} == LINKS
    assert {r["post_id"] for r in rows} >= {"reddit:t3_1abc2z", "1800000000000000001"}

    table = _run(["tweets"], cli_env)
    assert table.returncode == 0, table.stderr
    for platform, link in LINKS.items():
        assert link in table.stdout and platform in table.stdout, platform

    text = _run(["tweets", "--csv"], cli_env).stdout
    assert {r["platform"]: r["url"] for r in csv.DictReader(text.splitlines())} == LINKS

    only = orjson.loads(_run(["tweets", "--json", "--platform", "reddit"], cli_env).stdout)
    assert [(r["platform"], r["url"]) for r in only] == [("reddit", LINKS["reddit"])]
    bad = _run(["tweets", "--platform", "myspace"], cli_env)
    assert bad.returncode == 2 and "myspace" in bad.stderr and "Traceback" not in bad.stderr

    out = tmp_path / "all.csv"
    done = _run(["export", "--format", "csv", "--out", str(out), "--quiet"], cli_env)
    assert done.returncode == 0, done.stderr
    with out.open() as f:
        exported = list(csv.DictReader(f))
    assert {r["platform"]: r["url"] for r in exported} == LINKS

    store = JobStore(pg_url, pool_size=1)
    try:
        api = TestClient(create_app(store, JobSettings()))
        auth = {"X-API-Key": store.keys.create("dash")}
        got = api.get("/ui/api/tweets?flagged=false", headers=auth).json()["rows"]
        assert {r["platform"]: r["url"] for r in got} == LINKS
        got = api.get("/ui/api/tweets?flagged=false&platform=bluesky", headers=auth).json()
        assert [r["url"] for r in got["rows"]] == [LINKS["bluesky"]]
    finally:
        store.close()


def test_keyset_pages_stay_stable_while_posts_arrive(
    cli_env: dict[str, str], pg_url: str, tmp_path: Path
) -> None:
    _store(pg_url, tmp_path, [_post(n, minutes=n) for n in range(1, 8)], "first")
    first = _run(["tweets", "--json", "--limit", "3"], cli_env)
    page1 = [r["post_id"] for r in orjson.loads(first.stdout)]
    (cursor,) = [ln.split("--after ")[1] for ln in first.stderr.splitlines() if "--after" in ln]
    _store(pg_url, tmp_path, [_post(n, minutes=n) for n in range(50, 53)], "newer")  # arrive
    second = _run(["tweets", "--json", "--limit", "3", "--after", cursor], cli_env)
    page2 = [r["post_id"] for r in orjson.loads(second.stdout)]
    ids = [str(1_800_000_000_000_000_000 + n) for n in range(7, 0, -1)]
    assert (page1, page2) == (ids[:3], ids[3:6])  # no repeat despite the newer posts
    (cursor,) = [ln.split("--after ")[1] for ln in second.stderr.splitlines() if "--after" in ln]
    last = _run(["tweets", "--json", "--limit", "3", "--after", cursor], cli_env)
    assert [r["post_id"] for r in orjson.loads(last.stdout)] == ids[6:]
    assert "--after" not in last.stderr  # the last page has no next
    assert len(orjson.loads(_run(["tweets", "--json", "--page", "2"], cli_env).stdout)) == 0
    assert _run(["tweets", "--json", "--limit", "5", "--page", "2"], cli_env).returncode == 0

    bad = _run(["tweets", "--after", "nonsense!"], cli_env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cursor" in bad.stderr

    store = JobStore(pg_url, pool_size=1)
    try:
        api = TestClient(create_app(store, JobSettings()))
        auth = {"X-API-Key": store.keys.create("dash")}
        one = api.get("/ui/api/tweets?flagged=false&limit=4", headers=auth).json()
        _store(pg_url, tmp_path, [_post(n, minutes=n) for n in range(60, 62)], "newest")
        two = api.get(
            f"/ui/api/tweets?flagged=false&limit=4&after={one['next']}", headers=auth
        ).json()
        seen = [r["id"] for r in one["rows"] + two["rows"]]
        assert len(seen) == len(set(seen)) == 8 and two["next"] is not None
        assert api.get("/ui/api/tweets?after=zzz", headers=auth).status_code == 400
    finally:
        store.close()
