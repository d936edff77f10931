"""What a chunk under an analyzer that produces no analyses (noop) means downstream:
no "missing from the response" dead letters, honest counts, alert rules that
need no analysis still fire."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chirpflow.flows.summary import RunSummary
from chirpflow.model import Chunk, Duplicate, Tweet
from chirpflow.operators.alerts.rules import AlertRule, evaluate
from chirpflow.operators.analyzer import BatchAnalysis, produces_analyses
from chirpflow.operators.chunk_analysis import ChunkAnalyzer
from chirpflow.operators.offline import NoopAnalyzer, OfflineAnalyzer
from tests.factories import T0, tweet


def _chunk() -> Chunk:
    tweets = [
        tweet(1, "a SCAM, refund me", author_username="dan"),
        tweet(2, "love the update", author_username="fan"),
        tweet(3, "refund please", author_username="eve"),
    ]
    return Chunk(key="k", seq=0, tweets=tweets, opened_at=T0)


class _FailsOne:
    """Produces no analyses, and reports one tweet it could not take."""

    name = "store-only"
    version = "store-only-1"
    produces_analyses = False

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        return BatchAnalysis(analyses=[], failures=[(tweets[1].id, "too long")])


def test_only_analyzers_that_say_so_produce_no_analyses() -> None:
    assert not produces_analyses(NoopAnalyzer())
    assert produces_analyses(OfflineAnalyzer([]))


def test_a_noop_chunk_has_no_analyses_and_no_dead_letters_sync_and_async() -> None:
    runner = ChunkAnalyzer(NoopAnalyzer())
    for result in (runner.run(_chunk()), asyncio.run(runner.run_async(_chunk()))):
        assert result.analyses == [] and result.dead_letters == []
        assert result.analysis.size == 3 and result.analysis.summary == "3 tweets (not analysed)"
        assert result.analysis.analyzer == "noop"


def test_failures_reported_by_an_analyzer_without_analyses_are_still_dead_letters() -> None:
    result = ChunkAnalyzer(_FailsOne()).run(_chunk())
    assert result.analyses == []
    assert [(d.tweet_id, d.detail) for d in result.dead_letters] == [
        (_chunk().tweets[1].id, "too long")
    ]


def test_the_summary_counts_stored_tweets_as_not_analysed() -> None:
    summary = RunSummary()
    dups = [Duplicate(f"t:{i}", str(i), "a" if i else "b", T0) for i in range(3)]
    summary.add(
        [
            ChunkAnalyzer(NoopAnalyzer()).run(_chunk()),
            *dups,
            ChunkAnalyzer(_FailsOne()).run(_chunk()),
        ]
    )
    assert (summary.arrivals, summary.analyzed, summary.dead_letters) == (9, 0, 1)
    assert summary.stored_unanalysed == 5 and summary.chunks == 2 and summary.duplicates == 3
    line = summary.line()
    assert "analysed 0  stored (not analysed) 5  dup 3  dead 1" in line, line
    assert line.endswith("flagged 0")


def test_the_summary_line_of_analysed_runs_is_unchanged() -> None:
    summary = RunSummary()
    summary.add([ChunkAnalyzer(OfflineAnalyzer([])).run(_chunk())])
    assert summary.analyzed == 3 and summary.stored_unanalysed == 0
    assert "stored" not in summary.line()


def test_rules_without_an_analysis_condition_fire_for_tweets_stored_unanalysed() -> None:
    keyword = AlertRule(name="refunds", channels=("ops",), keywords=("refund",))
    risky = AlertRule(name="risky", channels=("ops",), risk_at_least=0)
    digest = AlertRule(name="digest", channels=("ops",), digest=True)
    out = evaluate([keyword, risky, digest], ChunkAnalyzer(NoopAnalyzer()).run(_chunk()))
    fired = sorted(n.id for n in out if n.kind == "tweet")
    ids = [t.id for t in _chunk().tweets]
    assert fired == sorted(f"refunds:{i}:ops" for i in (ids[0], ids[2]))
    tweet_alert = next(n for n in out if n.kind == "tweet")
    assert tweet_alert.fields == [("analysis", "not analysed")] and tweet_alert.severity == 0
    (digest_alert,) = [n for n in out if n.kind == "digest"]
    assert ("stored, not analysed", "3") in digest_alert.fields
