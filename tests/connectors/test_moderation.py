from chirpflow.action_settings import GateSettings
from chirpflow.connectors.actions.moderation import OpenAIModeration
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.moderation_server import fake_moderation


def test_flagged_text_is_blocked_naming_the_category_and_failures_block_too() -> None:
    with fake_moderation() as fake:
        mod = OpenAIModeration(fake.base_url, env={"OPENAI_API_KEY": fake.key})
        gate = SafetyGate(GateSettings(moderation=True), moderator=mod)
        try:
            assert gate.check("Happy to help!").passed
            blocked = gate.check("We will crush them")
            assert (blocked.blocked_by, blocked.detail) == ("moderation", "flagged: violence")
            fake.fail = True
            down = gate.check("Happy to help!")
            assert (down.blocked_by, down.detail) == (
                "moderation",
                "moderation unavailable (HTTP 500)",
            )
        finally:
            mod.close()
        assert fake.inputs == ["Happy to help!", "We will crush them"]
