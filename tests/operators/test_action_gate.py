import pytest

from chirpflow.action_settings import GateSettings
from chirpflow.operators.actions.gate import SafetyGate


@pytest.fixture
def gate() -> SafetyGate:
    return SafetyGate(
        GateSettings(allowed_domains=["example.com"], risk_keywords=["refund guaranteed"])
    )


def test_a_plain_friendly_reply_passes(gate: SafetyGate) -> None:
    assert gate.check("Thanks @ann, we're on it! Details: https://help.example.com/x").passed


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("   ", "empty"),
        ("a" * 281, "length"),
        ("日" * 141, "length"),
        ("Call me at +1 415 555 0134", "pii"),
        ("write to jane.doe@corp.org", "pii"),
        ("Refund guaranteed, promise", "risk_keyword"),
        ("you are an idiot", "toxicity"),
        ("hey @everyone look", "mass_mention"),
        ("@a @b @c hi", "mass_mention"),
        ("see https://evil.io/win", "link"),
        ("see notexample.com", "link"),
        ("claim it at prize.xyz", "link"),
    ],
)
def test_each_check_blocks_and_names_itself(gate: SafetyGate, text: str, check: str) -> None:
    result = gate.check(text)
    assert not result.passed
    assert result.blocked_by == check, result


def test_cjk_within_the_weighted_limit_passes(gate: SafetyGate) -> None:
    assert gate.check("日" * 140).passed


def test_moderation_runs_last_and_names_the_category() -> None:
    seen: list[str] = []

    def moderate(text: str) -> str | None:
        seen.append(text)
        return "harassment" if "loathe" in text else None

    gate = SafetyGate(GateSettings(), moderator=moderate)
    assert gate.check("we love you").passed
    blocked = gate.check("we loathe you")
    assert (blocked.blocked_by, blocked.detail) == ("moderation", "harassment")
    assert gate.check("idiot").blocked_by == "toxicity"
    assert seen == ["we love you", "we loathe you"]
