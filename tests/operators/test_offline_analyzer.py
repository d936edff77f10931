from __future__ import annotations

from pathlib import Path

from chirpflow.model import RiskFlag, Sentiment
from chirpflow.operators.offline import NoopAnalyzer, OfflineAnalyzer
from chirpflow.operators.offline.sentiment import clean, compound, label
from tests.factories import tweet


def test_every_tweet_gets_one_result_and_a_summary() -> None:
    analyzer = OfflineAnalyzer(["scam"])
    tweets = [
        tweet(1, "I love this, best launch ever! 😍 #AI"),
        tweet(2, "This is a scam, awful and terrible service"),
        tweet(3, "Meeting at 3pm", lang="en"),
        tweet(4, "email me: bob@example.com"),
    ]
    out = analyzer.analyze(tweets)
    assert [a.tweet_id for a in out.analyses] == [t.id for t in tweets]
    by = {a.tweet_id: a for a in out.analyses}
    assert by[tweets[0].id].sentiment is Sentiment.POSITIVE
    assert by[tweets[0].id].topics[0] == "ai"
    assert by[tweets[1].id].sentiment is Sentiment.NEGATIVE
    assert RiskFlag.KEYWORD in by[tweets[1].id].flags
    assert by[tweets[2].id].sentiment is Sentiment.NEUTRAL
    assert by[tweets[3].id].flags == [RiskFlag.PII] and by[tweets[3].id].flagged
    assert out.summary.startswith("4 tweets: 1 negative, 2 neutral, 1 positive; 2 flagged")
    assert all(a.analyzer_version == "offline-1" for a in out.analyses)


def test_noop_produces_no_analyses() -> None:
    out = NoopAnalyzer().analyze([tweet(1, "I hate this scam")])
    assert out.analyses == [] and out.failures == []
    assert out.summary == "1 tweets (not analysed)"


def test_tweet_cleaning() -> None:
    assert clean("@bob look #GameOfThrones https://t.co/x") == "someone look game of thrones  "
    assert label(compound("I love it")) is Sentiment.POSITIVE


def test_obvious_sentiment_is_labelled_right(labelled_dir: Path) -> None:
    d = labelled_dir / "sentiment"
    texts = d.joinpath("val_text.txt").read_text(encoding="utf-8").splitlines()
    gold = [int(x) for x in d.joinpath("val_labels.txt").read_text().split()]
    order = {Sentiment.NEGATIVE: 0, Sentiment.NEUTRAL: 1, Sentiment.POSITIVE: 2}
    assert sorted(set(gold)) == [0, 1, 2] and len(texts) == len(gold)
    wrong = [(t, g) for t, g in zip(texts, gold, strict=True) if order[label(compound(t))] != g]
    assert wrong == []


def test_obvious_abuse_is_flagged_and_plain_text_is_not(labelled_dir: Path) -> None:
    for task in ("offensive", "hate"):
        d = labelled_dir / task
        texts = d.joinpath("val_text.txt").read_text(encoding="utf-8").splitlines()
        gold = [int(x) for x in d.joinpath("val_labels.txt").read_text().split()]
        out = OfflineAnalyzer(["scam"]).analyze([tweet(i + 1, t) for i, t in enumerate(texts)])
        flagged = [int(RiskFlag.TOXICITY in a.flags) for a in out.analyses]
        assert flagged == gold, task
