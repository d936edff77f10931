"""An analyzer that does nothing: no per-tweet analyses at all (benchmarks, plumbing).

Its tweets are stored with their chunk (whose summary says they were not
analysed) and counted as "stored (not analysed)": no placeholder rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from chirpflow.model import Tweet
from chirpflow.operators.analyzer import BatchAnalysis


class NoopAnalyzer:
    name = "noop"
    version = "noop-1"
    cacheable = False  # no result to cache: no text keys, no cache look-ups
    produces_analyses = False  # no per-tweet analyses: nothing is missing from its answer

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        return BatchAnalysis(analyses=[], summary=f"{len(tweets)} tweets (not analysed)")
