from datetime import UTC, datetime
from typing import Any

from chirpflow.action_model import CapCounts
from chirpflow.action_settings import ActionSettings, CapSettings, ReplyRuleSettings
from chirpflow.model import Sentiment, TweetAnalysis
from chirpflow.operators.actions.rules import cap_refusal, reply_reason
from tests.factories import tweet

S = ActionSettings(
    enabled=True,
    handle="acme",
    reply=ReplyRuleSettings(negative=True, block_authors=["troll"], max_risk=50),
    caps=CapSettings(per_day=3, per_author=1, quiet_hours="22:00-07:00"),
)


def analysis(risk: int = 0, sentiment: Sentiment = Sentiment.NEUTRAL) -> TweetAnalysis:
    return TweetAnalysis("1", sentiment, 0.0, [], "en", risk, [], "offline", "1")


def reason(text: str, a: TweetAnalysis | None = None, **kw: Any) -> str | None:
    return reply_reason(tweet(1, text, **kw), a or analysis(), S)


def test_triggers() -> None:
    assert reason("hey @ACME nice launch") == "mention"
    assert reason("does this work with linux?") == "question"
    assert reason("this is bad", analysis(sentiment=Sentiment.NEGATIVE)) == "negative"
    assert reason("just a tweet") is None
    assert reason("hey @acmefoo") is None  # another handle


def test_bounds() -> None:
    assert reason("@acme help?", analysis(risk=50)) is None
    assert reason("@acme help?", author_username="Troll") is None
    assert reason("@acme help?", author_username="acme") is None  # ourselves
    narrowed = S.model_copy(update={"reply": ReplyRuleSettings(sources=["kafka"])})
    assert reply_reason(tweet(1, "@acme hi"), analysis(), narrowed) is None


NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
OK = CapCounts(drafted_last_day=0, drafted_for_author=0, tweet_or_thread_seen=False)


def test_caps_and_quiet_hours() -> None:
    assert cap_refusal(S, OK, NOON) is None
    assert "kill switch" in (cap_refusal(S.model_copy(update={"enabled": False}), OK, NOON) or "")
    assert "quiet hours" in (cap_refusal(S, OK, datetime(2026, 1, 1, 23, 0, tzinfo=UTC)) or "")
    assert "quiet hours" in (cap_refusal(S, OK, datetime(2026, 1, 1, 6, 59, tzinfo=UTC)) or "")
    assert cap_refusal(S, OK, datetime(2026, 1, 1, 7, 0, tzinfo=UTC)) is None
    assert "daily cap" in (cap_refusal(S, CapCounts(3, 0, False), NOON) or "")
    assert "author cap" in (cap_refusal(S, CapCounts(0, 1, False), NOON) or "")
    assert "already drafted" in (cap_refusal(S, CapCounts(0, 0, True), NOON) or "")
    assert "paused" in (cap_refusal(S, CapCounts(0, 0, False, paused=True), NOON) or "")
