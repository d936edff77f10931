"""Configuration of Reddit, Bluesky and Mastodon sources: readers built, bad config in one line."""

from __future__ import annotations

from typing import Any

import pytest

from chirpflow.connectors.sources.jetstream import JetstreamReader
from chirpflow.connectors.sources.mastodon_stream import MastodonStreamReader
from chirpflow.connectors.sources.polling_reader import PollingReader
from chirpflow.errors import ConfigError
from chirpflow.flows.build import make_readers
from chirpflow.settings import settings_from_dict


def _source(**kw: Any) -> Any:
    return settings_from_dict({"sources": [{"name": "s", **kw}]}).sources[0]


@pytest.mark.parametrize(
    ("src", "message"),
    [
        (
            {"type": "reddit"},
            "a reddit source needs something to watch: 'subreddits', 'timelines', 'searches'",
        ),
        (
            {"type": "mastodon", "hashtags": ["a"]},
            "a mastodon source needs 'base_url', the instance",
        ),
        ({"type": "reddit", "subreddits": ["a"], "stream": True}, "'stream' is for bluesky"),
        (
            {"type": "bluesky", "searches": ["a"], "mentions": ["b"]},
            "has no 'mentions'; use 'searches'",
        ),
        (
            {"type": "bluesky", "searches": ["a"], "hashtags": ["b"]},
            "'hashtags' is for mastodon sources",
        ),
    ],
)
def test_bad_platform_config_is_one_line_naming_the_source(
    src: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"sources": [{"name": "s", **src}]})
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and lines[1].strip().startswith("sources[0]: ") and message in lines[1]


def test_missing_reddit_credentials_name_the_variables() -> None:
    src = _source(type="reddit", subreddits=["brand"])
    with pytest.raises(
        ConfigError,
        match=r"^sources\[s\] \(type reddit\) needs REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"
        r" in the environment$",
    ):
        make_readers(src, {})
    with pytest.raises(ConfigError, match="set both REDDIT_USERNAME and REDDIT_PASSWORD"):
        make_readers(
            src, {"REDDIT_CLIENT_ID": "a", "REDDIT_CLIENT_SECRET": "b", "REDDIT_USERNAME": "u"}
        )


def test_each_watched_item_is_one_partition() -> None:
    env = {"REDDIT_CLIENT_ID": "a", "REDDIT_CLIENT_SECRET": "b"}
    rd = make_readers(
        _source(
            type="reddit",
            subreddits=["r/brand", "x"],
            comments=True,
            timelines=["u"],
            searches=["q"],
        ),
        env,
    )
    assert [r.stream for r in rd] == [
        "s:timeline:r/brand",
        "s:timeline:r/x",
        "s:timeline:r/brand/comments",
        "s:timeline:r/x/comments",
        "s:timeline:u/u",
        "s:search:q",
    ]
    md = make_readers(
        _source(
            type="mastodon",
            base_url="https://m.example",
            hashtags=["#a", "b"],
            timelines=["@c"],
            stream=True,
        ),
        {},
    )
    assert [type(r) for r in md] == [MastodonStreamReader, MastodonStreamReader, PollingReader]
    assert [r.stream for r in md] == ["s:stream:#a", "s:stream:#b", "s:timeline:@c"]
    bs = make_readers(_source(type="bluesky", searches=["brand"], stream=True), {})
    assert [type(r) for r in bs] == [JetstreamReader]
    for r in rd + md + bs:
        r.close()
