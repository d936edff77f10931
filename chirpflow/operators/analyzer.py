"""The analyzer interface: a batch of tweets in, one result per tweet out (or none at all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chirpflow.model import Tweet, TweetAnalysis


@dataclass(slots=True)
class BatchAnalysis:
    """What an analyzer returns for one batch.

    Every input tweet appears exactly once: in ``analyses`` (matched by
    ``tweet_id``) or in ``failures`` as ``(tweet_id, reason)``. An analyzer
    that produces no analyses (:func:`produces_analyses` False) lists only
    its failures: every other tweet is stored without an analysis.
    """

    analyses: list[TweetAnalysis]
    summary: str = ""
    model: str | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0  # API calls made (0 for local analyzers)


class Analyzer(Protocol):
    """Analyses a batch of tweets at once (an LLM call per chunk, or local code).

    Two optional class attributes change how chunks use it (both default to True):
    ``cacheable = False``: the same result for every text, so no result cache;
    ``produces_analyses = False``: no per-tweet analyses at all (the no-op
    analyzer), so its tweets are stored, with their chunk, as "not analysed".
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str:
        """Changes whenever results for the same text could change (stored with results)."""
        ...

    def analyze(self, tweets: Sequence[Tweet]) -> BatchAnalysis: ...


def produces_analyses(analyzer: object) -> bool:
    """Whether ``analyzer`` returns one analysis per tweet (False: none, by design)."""
    return bool(getattr(analyzer, "produces_analyses", True))
