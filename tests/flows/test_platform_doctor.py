"""``chirpflow doctor`` checks each configured platform's credentials and reachability."""

from __future__ import annotations

from pathlib import Path

from chirpflow.flows.checks import all_checks, run_checks
from chirpflow.settings import settings_from_dict
from tests.fakes import bluesky_server, mastodon_server, reddit_server
from tests.flows.helpers import env_for


def test_doctor_reads_once_from_each_platform_and_names_what_is_wrong(tmp_path: Path) -> None:
    fake_rd = reddit_server.FakeReddit(private={"secret"})
    fake_md = mastodon_server.FakeMastodon(token="tok")
    with (
        reddit_server.running(fake_rd) as (frd, rd),
        bluesky_server.running() as (fbs, bs),
        mastodon_server.running(fake_md) as (fmd, md),
    ):
        frd.post("brand", "alice", "hi")
        frd.post("secret", "eve", "hidden")
        fbs.post("alice.bsky.social", "brand")
        fmd.toot("alice", "<p>brand</p>", tags=["brand"])
        cfg = settings_from_dict(
            {
                "sources": [
                    {
                        "name": "rd",
                        "type": "reddit",
                        "base_url": rd,
                        "auth_url": rd,
                        "subreddits": ["brand"],
                    },
                    {
                        "name": "priv",
                        "type": "reddit",
                        "base_url": rd,
                        "auth_url": rd,
                        "subreddits": ["secret"],
                    },
                    {"name": "bs", "type": "bluesky", "base_url": bs, "searches": ["brand"]},
                    {"name": "md", "type": "mastodon", "base_url": md, "hashtags": ["brand"]},
                    {"name": "mds", "type": "mastodon", "base_url": md, "searches": ["brand"]},
                ]
            }
        )
        env = env_for(tmp_path, "postgresql://unused")
        good = {
            "REDDIT_CLIENT_ID": "cid",
            "REDDIT_CLIENT_SECRET": "csecret",
            "MASTODON_ACCESS_TOKEN": "tok",
        }
        results = {
            n: (ok, d) for n, ok, d in run_checks(all_checks(cfg, env, good)) if "source" in n
        }
        bad = {"REDDIT_CLIENT_ID": "cid", "MASTODON_ACCESS_TOKEN": "nope"}
        failed = {n: (ok, d) for n, ok, d in run_checks(all_checks(cfg, env, bad)) if "source" in n}
        no_token = {n: d for n, _, d in run_checks(all_checks(cfg, env, {})) if "mastodon" in n}
    assert results["source rd (reddit)"] == (
        True,
        "timeline:r/brand: 1 posts readable, 599 requests left in the window",
    )
    assert results["source priv (reddit)"] == (
        False,
        "timeline:r/secret: Reddit 403: r/secret is private",
    )
    assert results["source bs (bluesky)"] == (
        True,
        "search:brand: 1 posts readable, 2999 requests left in the window",
    )
    assert results["source md (mastodon)"] == (
        True,
        "timeline:#brand: 1 posts readable, 299 requests left in the window",
    )
    assert results["source mds (mastodon)"] == (
        True,
        "search:brand: 1 posts readable, 298 requests left in the window",
    )
    assert failed["source rd (reddit)"] == (
        False,
        "sources[rd] (type reddit) needs REDDIT_CLIENT_SECRET in the environment",
    )
    assert failed["source md (mastodon)"] == (
        False,
        "timeline:#brand: Mastodon 401: The access token is invalid (check MASTODON_ACCESS_TOKEN)",
    )
    # a status search without a token: one line saying why, before any request
    assert no_token["source mds (mastodon)"] == (
        "search:brand: Mastodon search needs MASTODON_ACCESS_TOKEN: instances search statuses"
        " only for a signed-in account (without one the answer is empty, and paging is refused"
        " with 401)"
    )
