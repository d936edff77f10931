"""``chirpflow bot`` and ``chirpflow actions`` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from chirpflow.action_model import Draft, reply_id
from chirpflow.action_settings import GateSettings
from chirpflow.connectors.actions.store import ActionStore
from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.operators.actions.gate import SafetyGate
from tests.fakes.telegram_bot_server import fake_telegram_bot
from tests.fakes.x_post_server import fake_x_posting

X_ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "ats-4242",
}

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]


def _env(tmp_path: Path, pg_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHIRPFLOW_CONFIG")}
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"), **extra)
    return env


def _wait(cond: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_bot_without_a_token_says_so_in_one_line(tmp_path: Path, pg_url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[actions.approval]\nadmins = [7]\nchat_id = "-1001"\n')
    out = subprocess.run(
        [*CLI, "bot", "--config", str(config)],
        env=_env(tmp_path, pg_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [
        "Error: the approval bot needs its BotFather token in CHIRPFLOW_BOT_TOKEN"
    ]


def test_bot_approval_then_kill_9_then_publish_posts_once(tmp_path: Path, pg_url: str) -> None:
    migrate(pg_url)
    store = ActionStore(pg_url)
    try:
        text = "Yes, it works offline."
        d = Draft(id=reply_id("111"), kind="reply", text=text, tweet_id="111")
        store.add_draft(d, SafetyGate(GateSettings()).check(text))
        with fake_telegram_bot() as tg:
            config = tmp_path / "c.toml"
            config.write_text(
                f'[actions.approval]\nadmins = [7]\nchat_id = "{tg.chat_id}"\n'
                f'base_url = "{tg.base_url}"\n'
            )
            env = _env(tmp_path, pg_url, CHIRPFLOW_BOT_TOKEN=tg.token)
            port = free_port()
            proc = subprocess.Popen(
                [
                    *CLI,
                    "bot",
                    "--config",
                    str(config),
                    "--poll-timeout",
                    "1",
                    "--metrics-port",
                    str(port),
                ],
                env=env,
            )
            try:
                _wait(lambda: bool(tg.bot_messages()))
                mid = tg.bot_messages()[0]["message_id"]
                tg.press(7, mid, f"a:{d.id}")
                _wait(lambda: "Approved by tg:7" in tg.chat[mid]["text"])
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                assert 'chirpflow_actions_total{check="",outcome="approved"} 1.0' in metrics
            finally:
                proc.kill()  # kill -9 between the approval and any post
                proc.wait(30)
        listed = subprocess.run(
            [*CLI, "actions", "list", "--json"],
            env=_env(tmp_path, pg_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        data = orjson.loads(listed.stdout)
        assert [(r["id"], r["status"]) for r in data["drafts"]] == [(d.id, "approved")]
        assert data["counts"]["approved"] == 1
        audit = subprocess.run(
            [*CLI, "actions", "audit"],
            env=_env(tmp_path, pg_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert audit.returncode == 0, audit.stderr
        lines = audit.stdout.splitlines()
        assert "tg:7 @user7" in lines[0] and f"approve          {d.id}" in lines[0]
        with fake_x_posting() as x:
            config = tmp_path / "x.toml"
            config.write_text(
                '[actions]\nenabled = true\nhandle = "acme"\n'
                f'[actions.posting]\nbase_url = "{x.base_url}"\n'
            )
            env = _env(tmp_path, pg_url, **X_ENV)
            for _ in range(2):
                out = subprocess.run(
                    [*CLI, "actions", "publish", "--once", "--config", str(config)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert out.returncode == 0, out.stderr
            assert [(p["text"], p["reply_to"]) for p in x.posts] == [(text, "111")]
    finally:
        store.close()


def test_a_mention_through_the_analysis_flow_becomes_a_draft(tmp_path: Path, pg_url: str) -> None:
    from tests.factories import payload
    from tests.fakes.draft_llm_server import fake_draft_llm

    feed = tmp_path / "mentions.jsonl"
    docs = [
        payload(1, text="@acme does the app work offline?", author_id="501"),
        payload(2, text="nice weather today", author_id="502"),
    ]
    feed.write_text("".join(orjson.dumps(d).decode() + "\n" for d in docs))
    env = _env(tmp_path, pg_url)
    env.pop("OPENAI_API_KEY", None)  # the offline analyzer
    ran = subprocess.run(
        [*CLI, "run", "--source", f"jsonl:{feed}", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr
    with fake_draft_llm() as llm:
        config = tmp_path / "a.toml"
        config.write_text(
            '[actions]\nenabled = true\nhandle = "acme"\n'
            f'[actions.drafting]\nbase_url = "{llm.base_url}"\n'
        )
        out = subprocess.run(
            [*CLI, "actions", "draft", "--once", "--config", str(config)],
            env={**env, "OPENAI_API_KEY": llm.key},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == [f"drafted: reply:{docs[0]['id']}"]
        assert len(llm.requests) == 1


def test_a_custom_bot_token_variable_is_masked_in_errors(tmp_path: Path, pg_url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[actions.approval]\nadmins = [7]\nchat_id = "-1"\nbot_token_env = "ADMIN_BOT"\n'
        'base_url = "http://127.0.0.1:9"\n'
    )
    out = subprocess.run(
        [*CLI, "bot", "--config", str(config), "--poll-timeout", "0"],
        env=_env(tmp_path, pg_url, ADMIN_BOT="123456:very-secret-token"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "very-secret-token" not in out.stderr + out.stdout
