"""``chirpflow doctor`` checks [actions]: X posting credentials, the bot, moderation."""

from __future__ import annotations

from pathlib import Path

from chirpflow.flows.checks import all_checks, run_checks
from chirpflow.settings import settings_from_dict
from tests.fakes.moderation_server import fake_moderation
from tests.fakes.telegram_bot_server import fake_telegram_bot
from tests.fakes.x_post_server import fake_x_posting
from tests.flows.helpers import env_for

GOOD = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}


def test_doctor_checks_the_actions_services_and_names_a_refused_variable(tmp_path: Path) -> None:
    with fake_x_posting() as x, fake_telegram_bot() as tg, fake_moderation() as mod:
        actions = {
            "enabled": True,
            "handle": "acme",
            "posting": {"base_url": x.base_url},
            "approval": {"base_url": tg.base_url, "admins": [7], "chat_id": str(tg.chat_id)},
            "gate": {"moderation": True, "moderation_base_url": mod.base_url},
        }
        cfg = settings_from_dict({"actions": actions})
        env = env_for(tmp_path, "postgresql://unused")

        def run(vars: dict[str, str]) -> dict[str, tuple[bool, str]]:
            checks = all_checks(cfg, env, vars)
            return {n: (ok, d) for n, ok, d in run_checks(checks) if n.startswith("actions")}

        good = run({**GOOD, "CHIRPFLOW_BOT_TOKEN": tg.token, "OPENAI_API_KEY": mod.key})
        bad = run({**GOOD, "X_ACCESS_TOKEN_SECRET": "wrong", "CHIRPFLOW_BOT_TOKEN": "1:nope"})
        off = all_checks(settings_from_dict({}), env, GOOD)
    assert good == {
        "actions X posting": (True, "posting as @acme (id 4242)"),
        "actions approval bot": good["actions approval bot"],
        "actions moderation": (True, "moderation answers"),
    }
    assert good["actions approval bot"][0] is True
    ok, detail = bad["actions X posting"]
    assert not ok and "X refused the credentials in X_CONSUMER_KEY" in detail and "401" in detail
    assert not bad["actions approval bot"][0]
    assert bad["actions moderation"] == (
        False,
        "actions.gate.moderation = true needs OPENAI_API_KEY",
    )
    assert not any(n.startswith("actions") for n in off)
