"""The offline analyzer: sentiment, topics, PII and risk without any API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from chirpflow.model import Tweet, TweetAnalysis
from chirpflow.operators.analyzer import BatchAnalysis
from chirpflow.operators.offline import sentiment
from chirpflow.operators.offline.pii import find_pii
from chirpflow.operators.offline.risk import RiskScorer
from chirpflow.operators.offline.topics import topics

VERSION = "offline-1"


class OfflineAnalyzer:
    """Local analysis used whenever no LLM is configured."""

    name = "offline"
    version = VERSION

    def __init__(
        self, risk_keywords: Sequence[str], toxicity_keywords: Sequence[str] | None = None
    ) -> None:
        self._risk = RiskScorer(risk_keywords, toxicity_keywords)

    def analyze_one(self, tweet: Tweet) -> TweetAnalysis:
        text = tweet.text
        score = sentiment.compound(text)
        pii = find_pii(text)
        risk = self._risk.score(text, pii, score)
        return TweetAnalysis(
            tweet_id=tweet.id,
            sentiment=sentiment.label(score),
            sentiment_score=round(score, 4),
            topics=topics(text),
            language=tweet.lang,
            risk=risk.score,
            flags=risk.flags,
            analyzer=self.name,
            analyzer_version=self.version,
            reason="; ".join(risk.reasons),
        )

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis:
        results = [self.analyze_one(t) for t in tweets]
        return BatchAnalysis(analyses=results, summary=summarize(results))


def summarize(results: Sequence[TweetAnalysis]) -> str:
    """``"100 tweets: 12 negative, 60 neutral, 28 positive; 3 flagged; top topics: ai"``."""
    mix = Counter(a.sentiment.value for a in results)
    flagged = sum(1 for a in results if a.flagged)
    top = Counter(t for a in results for t in a.topics).most_common(3)
    text = (
        f"{len(results)} tweets: {mix['negative']} negative, {mix['neutral']} neutral, "
        f"{mix['positive']} positive; {flagged} flagged"
    )
    if top:
        text += "; top topics: " + ", ".join(t for t, _ in top)
    return text
