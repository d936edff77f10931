"""The approval bot in webhook mode: secret-checked POSTs from the fake Telegram."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from chirpflow.action_model import Draft, reply_id
from chirpflow.action_settings import ActionSettings, ApprovalSettings, GateSettings
from chirpflow.connectors.actions.approval_bot import ApprovalBot
from chirpflow.connectors.actions.approval_webhook import HEADER, serve_webhook
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.telegram_bot_server import fake_telegram_bot

GATE = SafetyGate(GateSettings())


@pytest.fixture
def store(pg_url: str) -> Iterator[ActionStore]:
    migrate(pg_url)
    s = ActionStore(pg_url)
    yield s
    s.close()


def test_webhook_approves_with_the_secret_and_refuses_without(store: ActionStore) -> None:
    d = Draft(id=reply_id("111"), kind="reply", text="Sure!", tweet_id="111")
    store.add_draft(d, GATE.check(d.text))
    port = free_port()
    with fake_telegram_bot() as tg:
        approval = ApprovalSettings(admins=[7], chat_id=str(tg.chat_id), base_url=tg.base_url)
        bot = ApprovalBot(ActionSettings(approval=approval), store, GATE, tg.token)
        ready = threading.Event()
        stop_flag = threading.Event()

        def run() -> None:
            async def main() -> None:
                started, stop = asyncio.Event(), asyncio.Event()

                async def bridge() -> None:
                    await started.wait()
                    ready.set()
                    while not stop_flag.is_set():
                        await asyncio.sleep(0.05)
                    stop.set()

                await bot.start()
                try:
                    await asyncio.gather(
                        serve_webhook(
                            bot,
                            "https://bot.example.com/telegram",
                            "s3cret_x",
                            "127.0.0.1",
                            port,
                            started=started,
                            stop=stop,
                        ),
                        bridge(),
                    )
                finally:
                    await bot.stop()

            asyncio.run(main())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            assert ready.wait(30)
            assert tg.webhook["url"] == "https://bot.example.com/telegram"
            assert tg.webhook["secret_token"] == "s3cret_x"
            mid = tg.bot_messages()[0]["message_id"]
            url = f"http://127.0.0.1:{port}/telegram"
            forged = httpx.post(url, json=tg.press_via_webhook(7, mid, f"a:{d.id}"))
            assert forged.status_code == 403
            got = store.draft(d.id)
            assert got is not None and got.status == "pending"
            real = httpx.post(
                url, json=tg.press_via_webhook(7, mid, f"a:{d.id}"), headers={HEADER: "s3cret_x"}
            )
            assert real.status_code == 200
            got = store.draft(d.id)
            assert got is not None and got.status == "approved"
            assert "Approved by tg:7" in tg.chat[mid]["text"]
        finally:
            stop_flag.set()
            thread.join(30)
