from __future__ import annotations

from chirpflow.model import RiskFlag
from chirpflow.operators.offline.risk import RiskScorer
from chirpflow.operators.offline.topics import topics


def test_hashtags_come_first_then_keywords_at_most_three() -> None:
    assert topics("#GameOfThrones tonight") == ["gameofthrones"]
    assert topics("bitcoin price after the launch") == ["crypto", "finance", "product"]
    assert topics("#a1 #b2 #c3 #d4 bitcoin") == ["a1", "b2", "c3"]
    assert topics("#AI #ai and gpt") == ["ai"]
    assert topics("nothing to see") == []


def test_risk_scoring_and_flags() -> None:
    scorer = RiskScorer(["scam", "rug pull"])
    clean = scorer.score("lovely day", [], 0.8)
    assert (clean.score, clean.flags) == (0, [])
    kw = scorer.score("This is a SCAM and a rug pull", [], 0.0)
    assert kw.flags == [RiskFlag.KEYWORD] and kw.score == 40
    assert "rug pull" in kw.reasons[0] and "scam" in kw.reasons[0]
    pii = scorer.score("x", ["email", "card"], 0.0)
    assert pii.flags == [RiskFlag.PII] and pii.score == 50
    toxic = scorer.score("you idiot", [], -0.7)
    assert toxic.flags == [RiskFlag.TOXICITY] and toxic.score == 50
    capped = scorer.score("scam idiot", ["email", "card", "iban", "phone"], -0.9)
    assert capped.score == 100


def test_keywords_match_whole_words_only() -> None:
    scorer = RiskScorer(["hack"], toxicity=[])
    assert scorer.score("they hack accounts", [], 0).flags == [RiskFlag.KEYWORD]
    assert scorer.score("shackles and hackathon", [], 0).flags == []
