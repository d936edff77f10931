"""Which analysed tweets get a reply draft, and the caps that hold drafting back.

``reply_reason`` is pure: the tweet, its analysis and the rules in, the
trigger (``mention``, ``question``, ``negative``) or ``None`` out.
``cap_refusal`` takes what the store counted and says which cap, if any,
stops one more draft: the kill switch, quiet hours, the daily cap, the
per-author cap, and never twice to the same tweet or thread.
"""

from __future__ import annotations

import re
from datetime import datetime, time

from chirpflow.action_model import CapCounts
from chirpflow.action_settings import ActionSettings
from chirpflow.model import Sentiment, Tweet, TweetAnalysis

_QUESTION = re.compile(
    r"\?|^(?:how|why|what|when|where|who|which|can|could|does|do|is|are|will)\b", re.I
)


def reply_reason(tweet: Tweet, analysis: TweetAnalysis, settings: ActionSettings) -> str | None:
    rules = settings.reply
    if rules.sources and tweet.source not in rules.sources:
        return None
    blocked = {b.lower().lstrip("@") for b in rules.block_authors}
    if tweet.author_id.lower() in blocked or (tweet.author_username or "").lower() in blocked:
        return None
    if handle_of(settings) and (tweet.author_username or "").lower() == handle_of(settings):
        return None  # never answer ourselves
    if analysis.risk >= rules.max_risk:
        return None
    handle = handle_of(settings)
    mentions = handle is not None and re.search(rf"(?<!\w)@{re.escape(handle)}\b", tweet.text, re.I)
    if rules.mentions and mentions:
        return "mention"
    if rules.questions and _QUESTION.search(tweet.text.strip()):
        return "question"
    if rules.negative and analysis.sentiment is Sentiment.NEGATIVE:
        return "negative"
    return None


def handle_of(settings: ActionSettings) -> str | None:
    return settings.handle.lower().lstrip("@") if settings.handle else None


def in_quiet_hours(spec: str | None, now: datetime) -> bool:
    if not spec:
        return False
    start_s, end_s = spec.split("-")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    t = now.time().replace(second=0, microsecond=0, tzinfo=None)
    return start <= t < end if start <= end else t >= start or t < end


def cap_refusal(settings: ActionSettings, counts: CapCounts, now: datetime) -> str | None:
    if not settings.enabled:
        return "kill switch: actions.enabled is false"
    if counts.paused:
        return "paused by an admin"
    if in_quiet_hours(settings.caps.quiet_hours, now):
        return f"quiet hours {settings.caps.quiet_hours} UTC"
    if counts.tweet_or_thread_seen:
        return "already drafted for this tweet or thread"
    if counts.drafted_last_day >= settings.caps.per_day:
        return f"daily cap {settings.caps.per_day} reached"
    if counts.drafted_for_author >= settings.caps.per_author:
        return (
            f"author cap {settings.caps.per_author} per {settings.caps.per_author_hours} h reached"
        )
    return None
