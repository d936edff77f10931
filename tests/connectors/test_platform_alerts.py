"""Alerts about posts of other platforms link to the post on its platform."""

from __future__ import annotations

from chirpflow.connectors.notify.telegram import render, render_html
from chirpflow.model import RawRecord, RiskFlag, Sentiment, Tweet, TweetAnalysis
from chirpflow.operators.alerts.rules import AlertRule, tweet_notification
from chirpflow.operators.normalize import normalize
from tests.factories import T0, tweet
from tests.operators.test_platform_normalize import BSKY_VIEW, MASTODON, REDDIT


def _alert(t: Tweet) -> tuple[str, str, str]:
    a = TweetAnalysis(t.id, Sentiment.NEGATIVE, -0.9, [], "en", 90, [RiskFlag.KEYWORD], "o", "v")
    n = tweet_notification(AlertRule("risk", ("tg",), risk_at_least=50), "tg", t, a)
    md, _ = render(n)
    return n.url or "", md.rsplit("\n\n", 1)[1], render_html(n).rsplit("\n\n", 1)[1]


def test_each_platform_alert_links_to_the_post_there() -> None:
    got = {}
    for platform, data in (("reddit", REDDIT), ("bluesky", BSKY_VIEW), ("mastodon", MASTODON)):
        t = normalize(RawRecord("s:w:0", "s", data, T0, "w", platform=platform))
        assert isinstance(t, Tweet)
        got[platform] = _alert(t)
    got["x"] = _alert(tweet(1, author_username="dan"))
    assert got["reddit"][0] == "https://www.reddit.com/r/brand/comments/1abc2z/brand_broke_again/"
    assert got["reddit"][1].startswith("[open on Reddit](https://www.reddit.com/")
    assert got["bluesky"][1].startswith("[open on Bluesky](https://bsky.app/profile/")
    assert got["mastodon"][2] == f'<a href="{MASTODON["url"]}">open on m.example</a>'
    assert got["x"][1] == "[open on X](https://x.com/dan/status/1800000000000000001)"
