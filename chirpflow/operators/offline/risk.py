"""Risk score 0-100 and flags from PII, risk keywords, toxicity and sentiment.

Scoring (capped at 100):
- PII: 40 for the first kind found, +10 for each further kind; flag ``pii``.
- risk keywords (configurable, whole words or phrases, any case): 30 for the
  first, +10 for each further one; flag ``keyword``.
- toxicity words (configurable): 35 for the first, +10 each further; flag
  ``toxicity``.
- strongly negative sentiment (compound <= -0.6): +15; mildly negative: +5.
A tweet is "flagged" when it has a flag or a risk of 50 or more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chirpflow.model import RiskFlag

DEFAULT_TOXICITY = (
    "idiot",
    "idiots",
    "stupid",
    "moron",
    "dumb",
    "shut up",
    "fuck",
    "fucking",
    "shit",
    "bitch",
    "asshole",
    "bastard",
    "scumbag",
    "kill yourself",
    "kys",
    "die in a fire",
    "trash company",
    "loser",
    "pathetic",
    "disgusting",
)


def _phrases(words: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in cleaned) + r")(?!\w)", re.I)


@dataclass(frozen=True, slots=True)
class RiskResult:
    score: int
    flags: list[RiskFlag]
    reasons: list[str]


class RiskScorer:
    def __init__(self, risk_keywords: Sequence[str], toxicity: Sequence[str] | None = None):
        self._risk = _phrases(risk_keywords)
        self._toxic = _phrases(DEFAULT_TOXICITY if toxicity is None else toxicity)

    def score(self, text: str, pii: Sequence[str], sentiment: float) -> RiskResult:
        score = 0
        flags: list[RiskFlag] = []
        reasons: list[str] = []
        if pii:
            score += 40 + 10 * (len(pii) - 1)
            flags.append(RiskFlag.PII)
            reasons.append("pii: " + ", ".join(pii))
        for pattern, flag, first in (
            (self._risk, RiskFlag.KEYWORD, 30),
            (self._toxic, RiskFlag.TOXICITY, 35),
        ):
            if pattern is None:
                continue
            hits = sorted({m.group().lower() for m in pattern.finditer(text)})
            if hits:
                score += first + 10 * (len(hits) - 1)
                flags.append(flag)
                reasons.append(f"{flag.value}: " + ", ".join(hits))
        if sentiment <= -0.6:
            score += 15
        elif sentiment < -0.1:
            score += 5
        return RiskResult(min(score, 100), flags, reasons)
