"""An analyzer that does nothing: neutral, no topics, no risk (benchmarks, plumbing)."""

from __future__ import annotations

from collections.abc import Sequence

from chirpflow.model import Sentiment, Tweet, TweetAnalysis
from chirpflow.operators.analyzer import BatchAnalysis


class NoopAnalyzer:
    name = "noop"
    version = "noop-1"
    cacheable = False  # the same result for every text: no text keys, no cache look-ups

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        return BatchAnalysis(
            analyses=[
                TweetAnalysis(
                    t.id, Sentiment.NEUTRAL, 0.0, [], t.lang, 0, [], self.name, self.version
                )
                for t in tweets
            ],
            summary=f"{len(tweets)} tweets (not analysed)",
        )
