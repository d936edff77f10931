from __future__ import annotations

from chirpflow.model import (
    Chunk,
    ChunkAnalysis,
    ChunkResult,
    RiskFlag,
    Sentiment,
    TweetAnalysis,
)
from chirpflow.operators.alerts.rules import AlertRule, evaluate
from tests.factories import T0, tweet


def _result() -> ChunkResult:
    tweets = [
        tweet(
            1,
            "@ChirpBrand your app is a SCAM, refund me",
            author_username="angry_dan",
            author_followers=50_000,
        ),
        tweet(2, "love the update", author_username="fan"),
        tweet(3, "card 4111 1111 1111 1111", author_username="oops", author_followers=10),
    ]
    analyses = [
        TweetAnalysis(
            tweets[0].id,
            Sentiment.NEGATIVE,
            -0.8,
            ["support"],
            "en",
            75,
            [RiskFlag.KEYWORD],
            "offline",
            "v",
            "keyword: scam",
        ),
        TweetAnalysis(tweets[1].id, Sentiment.POSITIVE, 0.9, [], "en", 0, [], "offline", "v"),
        TweetAnalysis(
            tweets[2].id,
            Sentiment.NEUTRAL,
            0.0,
            [],
            "en",
            40,
            [RiskFlag.PII],
            "offline",
            "v",
            "pii: card",
        ),
    ]
    chunk = Chunk("brand", 7, tweets, T0)
    summary = ChunkAnalysis(chunk.chunk_id, "brand", 7, 3, "3 tweets", "offline", "v")
    return ChunkResult(chunk, summary, analyses)


def test_every_set_condition_must_hold() -> None:
    result = _result()
    rules = [
        AlertRule("risky", ("discord",), risk_at_least=70),
        AlertRule("angry-big", ("tg",), sentiments=(Sentiment.NEGATIVE,), min_followers=10_000),
        AlertRule("mention", ("tg",), mentions=("@chirpbrand",), keywords=("refund",)),
        AlertRule("pii", ("discord", "tg"), flags=(RiskFlag.PII,)),
        AlertRule("regex", ("tg",), regex=r"\bupdate\b", authors=("@FAN",)),
        AlertRule("nobody", ("tg",), keywords=("lawsuit",)),
        AlertRule("low-score", ("tg",), score_below=-0.5, risk_at_least=90),
    ]
    got = {(n.rule, n.channel, n.title) for n in evaluate(rules, result)}
    assert got == {
        ("risky", "discord", "risky: @angry_dan"),
        ("angry-big", "tg", "angry-big: @angry_dan"),
        ("mention", "tg", "mention: @angry_dan"),
        ("pii", "discord", "pii: @oops"),
        ("pii", "tg", "pii: @oops"),
        ("regex", "tg", "regex: @fan"),
    }


def test_ids_are_deterministic_so_replays_collide() -> None:
    rules = [AlertRule("risky", ("discord",), risk_at_least=70)]
    first = evaluate(rules, _result())
    again = evaluate(rules, _result())
    assert [n.id for n in first] == [n.id for n in again] == [f"risky:{tweet(1).id}:discord"]


def test_digest_is_one_message_per_chunk_with_top_flagged_links() -> None:
    result = _result()
    (n,) = evaluate([AlertRule("digest", ("discord",), digest=True)], result)
    assert n.kind == "digest" and n.id == f"digest:{result.chunk.chunk_id}:discord"
    assert ("flagged", "2") in n.fields
    assert ("sentiment", "1 neg / 1 neu / 1 pos") in n.fields
    assert [label.split(":")[0] for label, _ in n.links] == ["risk 75", "risk 40"]
    assert n.links[0][1].endswith(f"/status/{tweet(1).id}")
