"""A cached analysis result in compact form: what the in-process LRU keeps per text.

A cached result is shared by every tweet with the same text, so it keeps
nothing of the tweet it was first computed for (no tweet id), and shares
what many entries have in common: topics and flags are tuples, their strings
interned. An entry (key, LRU order and value) of an
offline result costs about 375 bytes instead of the ~595 of a
:class:`TweetAnalysis` with its own lists and the first tweet's id, so the
default ``analyzer.cache_size = 100000`` holds at most about 40 MB.
"""

from __future__ import annotations

import sys

from chirpflow.model import RiskFlag, Sentiment, TweetAnalysis

ENTRY_BYTES = 400  # at most, per LRU entry of a short result (key, order, packed value)

# sentiment, sentiment_score, topics, language, risk, flags, analyzer, analyzer_version, reason
Packed = tuple[
    Sentiment, float, tuple[str, ...], str | None, int, tuple[RiskFlag, ...], str, str, str
]


def _interned(s: str | None) -> str | None:
    return None if s is None else sys.intern(s)


def pack(a: TweetAnalysis) -> Packed:
    """``a`` without its tweet id, its strings shared with other entries."""
    return (
        a.sentiment,
        a.sentiment_score,
        tuple(sys.intern(t) for t in a.topics),
        _interned(a.language),
        a.risk,
        tuple(a.flags),
        sys.intern(a.analyzer),
        sys.intern(a.analyzer_version),
        sys.intern(a.reason),
    )


def unpack(p: Packed, tweet_id: str = "") -> TweetAnalysis:
    """A fresh result (its own lists) for ``tweet_id``."""
    sentiment, score, topics, language, risk, flags, analyzer, version, reason = p
    return TweetAnalysis(
        tweet_id,
        sentiment,
        score,
        list(topics),
        language,
        risk,
        list(flags),
        analyzer,
        version,
        reason,
    )
