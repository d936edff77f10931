"""Alert rules evaluated against analysed chunks.

A tweet stored without an analysis (an analyzer that produces none, e.g.
noop) is matched only by rules that set no condition on the analysis.

A tweet rule fires when EVERY condition it sets holds (risk at least, a
sentiment, score below, any keyword, a regex, an author, enough followers, a
mention of a watched handle, any flag). A digest rule sends one message per
chunk: counts, sentiment mix and the top flagged tweets with links.
Notification ids are deterministic, so a replay or restart produces the same
ids and the outbox never holds, or sends, one twice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from chirpflow.model import (
    ChunkResult,
    Notification,
    RiskFlag,
    Sentiment,
    Tweet,
    TweetAnalysis,
)

DIGEST_TOP = 5


@dataclass(frozen=True, slots=True)
class AlertRule:
    name: str
    channels: tuple[str, ...]
    digest: bool = False
    risk_at_least: int | None = None
    sentiments: tuple[Sentiment, ...] = ()
    score_below: float | None = None
    keywords: tuple[str, ...] = ()
    regex: str | None = None
    authors: tuple[str, ...] = ()  # handles, any case, with or without "@"
    min_followers: int | None = None
    mentions: tuple[str, ...] = ()  # watched handles mentioned in the text
    flags: tuple[RiskFlag, ...] = ()  # any of these
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _keywords: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _mentions: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _authors: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.regex) if self.regex else None)
        words = sorted({k.lower() for k in self.keywords if k.strip()}, key=len, reverse=True)
        kw = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
        object.__setattr__(self, "_keywords", kw if words else None)
        authors = frozenset(a.lower().lstrip("@") for a in self.authors)
        object.__setattr__(self, "_authors", authors)
        handles = sorted({m.lower().lstrip("@") for m in self.mentions}, key=len, reverse=True)
        mention = re.compile(r"@(?:" + "|".join(map(re.escape, handles)) + r")\b", re.I)
        object.__setattr__(self, "_mentions", mention if handles else None)

    @property
    def needs_analysis(self) -> bool:
        """It sets a condition on the analysis (risk, sentiment, score, flags)."""
        return bool(
            self.risk_at_least is not None
            or self.sentiments
            or self.score_below is not None
            or self.flags
        )

    def matches(self, tweet: Tweet, a: TweetAnalysis | None) -> bool:
        """``a`` None: a tweet stored without an analysis (noop); only a rule with
        no condition on the analysis can match it."""
        if a is None:
            return not self.needs_analysis and self._tweet_matches(tweet)
        checks = (
            self.risk_at_least is None or a.risk >= self.risk_at_least,
            not self.sentiments or a.sentiment in self.sentiments,
            self.score_below is None or a.sentiment_score < self.score_below,
            not self.flags or any(f in a.flags for f in self.flags),
        )
        return all(checks) and self._tweet_matches(tweet)

    def _tweet_matches(self, tweet: Tweet) -> bool:
        if self._authors and (tweet.author_username or "").lower() not in self._authors:
            return False
        if self.min_followers is not None and (tweet.author_followers or 0) < self.min_followers:
            return False
        text = tweet.text
        for pattern in (self._keywords, self._regex, self._mentions):
            if pattern is not None and not pattern.search(text):
                return False
        return True


def tweet_notification(
    rule: AlertRule, channel: str, t: Tweet, a: TweetAnalysis | None
) -> Notification:
    """``a`` None: the tweet was stored without an analysis (noop)."""
    who = f"@{t.handle}" if t.handle else f"user {t.author_id}"
    if a is None:
        fields = [("analysis", "not analysed")]
    else:
        fields = [
            ("risk", str(a.risk)),
            ("sentiment", f"{a.sentiment.value} ({a.sentiment_score:+.2f})"),
        ]
    if a is not None and a.flags:
        fields.append(("flags", ", ".join(f.value for f in a.flags)))
    if a is not None and a.topics:
        fields.append(("topics", ", ".join(a.topics)))
    if a is not None and a.reason:
        fields.append(("why", a.reason))
    return Notification(
        id=f"{rule.name}:{t.id}:{channel}",
        rule=rule.name,
        channel=channel,
        kind="tweet",
        title=f"{rule.name}: {who}",
        body=t.text,
        url=t.url,
        fields=fields,
        severity=0 if a is None else a.risk,
    )


def digest_notification(rule: AlertRule, channel: str, result: ChunkResult) -> Notification:
    ca = result.analysis
    mix = Counter(a.sentiment.value for a in result.analyses)
    by_id = {t.id: t for t in result.chunk.tweets}
    flagged = sorted((a for a in result.analyses if a.flagged), key=lambda a: -a.risk)
    links = [
        (f"risk {a.risk}: {by_id[a.tweet_id].text[:80]}", by_id[a.tweet_id].url)
        for a in flagged[:DIGEST_TOP]
        if a.tweet_id in by_id
    ]
    fields = [
        ("tweets", str(ca.size)),
        ("sentiment", f"{mix['negative']} neg / {mix['neutral']} neu / {mix['positive']} pos"),
        ("flagged", str(len(flagged))),
    ]
    if result.dead_letters:
        fields.append(("not analysed", str(len(result.dead_letters))))
    stored = result.unanalysed()
    if stored:  # an analyzer that produces no analyses (noop)
        fields.append(("stored, not analysed", str(len(stored))))
    return Notification(
        id=f"{rule.name}:{ca.chunk_id}:{channel}",
        rule=rule.name,
        channel=channel,
        kind="digest",
        title=f"{rule.name}: {ca.key} #{ca.seq}",
        body=ca.summary,
        fields=fields,
        links=links,
        severity=max((a.risk for a in flagged), default=0),
    )


def evaluate(rules: Sequence[AlertRule], result: ChunkResult) -> list[Notification]:
    """Every notification the rules raise for one analysed chunk."""
    out: list[Notification] = []
    tweets = {t.id: t for t in result.chunk.tweets}
    bare = result.unanalysed()
    for rule in rules:
        if rule.digest:
            out += [digest_notification(rule, ch, result) for ch in rule.channels]
            continue
        for a in result.analyses:
            t = tweets.get(a.tweet_id)
            if t is not None and rule.matches(t, a):
                out += [tweet_notification(rule, ch, t, a) for ch in rule.channels]
        if bare and not rule.needs_analysis:
            for t in bare:
                if rule.matches(t, None):
                    out += [tweet_notification(rule, ch, t, None) for ch in rule.channels]
    return out
