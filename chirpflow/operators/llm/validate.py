"""Check a model's answer: every index exactly once, every value valid.

Returns what could be used and what must be asked again; never raises on a
bad answer. An index answered more than once discards ALL its entries (the
model was confused or obeyed an injected tweet that forged a neighbour's
result; which one is genuine cannot be told), so it counts as missing and is
asked again alone. Unknown indices are discarded; an entry with an invalid
value counts as missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from chirpflow.model import RiskFlag, Sentiment

MAX_TOPICS = 3


@dataclass(slots=True)
class Entry:
    sentiment: Sentiment
    score: float
    topics: list[str]
    risk: int
    flags: list[RiskFlag]
    language: str | None
    reason: str


@dataclass(slots=True)
class Checked:
    """``entries`` by local index; ``missing`` indices; ``problems`` for logs."""

    entries: dict[int, Entry] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)
    summary: str = ""
    problems: list[str] = field(default_factory=list)


class Unusable(Exception):
    """The whole answer is unusable (not JSON, wrong shape): split and retry."""


def parse(content: str | None, count: int) -> Checked:
    """Validate ``content`` for a request of ``count`` tweets (indices 0..count-1)."""
    if not content:
        raise Unusable("empty answer")
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError as err:
        raise Unusable(f"invalid JSON: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tweets"), list):
        raise Unusable("answer is not an object with a 'tweets' list")
    out = Checked()
    seen: set[int] = set()
    repeated: set[int] = set()
    summary = doc.get("summary")
    out.summary = summary[:2000] if isinstance(summary, str) else ""
    for raw in doc["tweets"]:
        if not isinstance(raw, dict):
            out.problems.append("non-object entry")
            continue
        i = raw.get("i")
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count:
            out.problems.append(f"unknown index {i!r}")
            continue
        if i in seen:
            repeated.add(i)
            continue
        seen.add(i)
        try:
            out.entries[i] = _entry(raw)
        except (ValueError, TypeError) as err:
            out.problems.append(f"index {i}: {err}")
    for i in sorted(repeated):
        out.problems.append(f"index {i} answered more than once: all its entries discarded")
        out.entries.pop(i, None)
    out.missing = [i for i in range(count) if i not in out.entries]
    return out


def _entry(raw: dict[str, Any]) -> Entry:
    sentiment = Sentiment(str(raw.get("sentiment")))
    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not -1 <= score <= 1:
        raise ValueError(f"score {score!r} not in [-1, 1]")
    risk = raw.get("risk")
    if isinstance(risk, bool) or not isinstance(risk, int) or not 0 <= risk <= 100:
        raise ValueError(f"risk {risk!r} not in 0..100")
    topics = raw.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValueError("topics must be a list of strings")
    flags_raw = raw.get("flags")
    if not isinstance(flags_raw, list):
        raise ValueError("flags must be a list")
    flags = sorted({RiskFlag(f) for f in flags_raw}, key=lambda f: f.value)
    language = raw.get("language")
    if language is not None and (not isinstance(language, str) or len(language) > 16):
        raise ValueError("language must be a short code or null")
    reason = raw.get("reason")
    if not isinstance(reason, str):
        raise ValueError("reason must be a string")
    return Entry(
        sentiment=sentiment,
        score=float(score),
        topics=[t.strip().lower()[:50] for t in topics if t.strip()][:MAX_TOPICS],
        risk=risk,
        flags=flags,
        language=language,
        reason=reason[:300],
    )
