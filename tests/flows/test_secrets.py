"""Secrets never appear in output: logs at -vv, CLI output, API bodies, database tables.

Known secret values are configured, including under custom variable names
(``webhook_url_env``, ``bot_token_env``), and providers echo keys in their
error texts; then every output and every text column is searched for them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.fakes import discord_server, llm_server, telegram_server, twitterapi_io_server
from tests.flows.helpers import clean_env, env_for

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
OPENAI_KEY = "sk-test-SECRET-openai-1234567890"
HOOK_TOKEN = "SECRET-discord-hook-token-4242"
TG_TOKEN = "987654:SECRET-tg-bot-token"


def text_columns_containing(url: str, needles: list[str]) -> list[str]:
    """``table.column`` of every text-like column (text, json, arrays) holding a needle."""
    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'jsonb', 'json', 'ARRAY', 'character varying')"
        ).fetchall()
        assert len(columns) > 20  # the schema really was searched
        for table, column in columns:
            for needle in needles:
                hit = conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE strpos("{column}"::text, %s) > 0 LIMIT 1',
                    (needle,),
                ).fetchone()
                if hit:
                    found.append(f"{table}.{column}")
    return found


def test_custom_named_tokens_and_echoed_keys_never_appear_in_output_or_tables(
    tmp_path: Path, pg_url: str
) -> None:
    env = clean_env()
    fake_llm = llm_server.FakeLLM(api_key=OPENAI_KEY).then("echo_key")
    tg = telegram_server.FakeTelegram(token=TG_TOKEN, per_chat_interval_s=0)
    with (
        llm_server.running(fake_llm) as (_, llm_url),
        telegram_server.running(tg) as (tg, tg_url),
        discord_server.running() as (discord, hook),
    ):
        hook = hook.replace("tok-abc", HOOK_TOKEN)
        env.update(
            DATABASE_URL=pg_url,
            CHIRPFLOW_HOME=str(tmp_path / "home"),
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=llm_url,
            OPS_HOOK=hook,  # names no secret-looking suffix: only the config says so
            TG_BOT=TG_TOKEN,
        )
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            "[analyzer]\nkind = 'llm'\nmax_attempts = 1\n"
            "[pipeline]\nchunk_size = 50\n"
            "[[sources]]\nname = 's'\ntype = 'synthetic'\nrate = 0\n"
            "[alerts.channels.ops]\ntype = 'discord'\nwebhook_url_env = 'OPS_HOOK'\n"
            "[alerts.channels.chat]\ntype = 'telegram'\nbot_token_env = 'TG_BOT'\n"
            f"chat_id = '1'\nbase_url = '{tg_url}'\n"
            "[[alerts.rules]]\nname = 'all'\nchannels = ['ops', 'chat']\ndigest = true\n"
        )
        outputs = {}
        for name, args in {
            "config": ["config", "check", "-c", str(cfg)],
            "doctor": ["doctor", "-c", str(cfg)],
            "run": ["-vv", "run", "--quiet", "--no-recovery", "--limit", "150", "-c", str(cfg)],
            "stats": ["stats", "--json"],
            "dlq list": ["dlq", "list", "--json"],
        }.items():
            out = subprocess.run(
                [*CLI, *args], env=env, capture_output=True, text=True, timeout=120
            )
            outputs[name] = out.stdout + out.stderr
        listed = orjson.loads(outputs["dlq list"])
        assert listed, outputs["dlq list"]
        show = subprocess.run(
            [*CLI, "dlq", "show", listed[0]["origin"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        outputs["dlq show"] = show.stdout + show.stderr
    secrets = {"OPENAI_API_KEY": OPENAI_KEY, "OPS_HOOK": hook, "hook token": HOOK_TOKEN}
    secrets["TG_BOT"] = TG_TOKEN
    leaks = [
        f"{var} printed by {name}"
        for name, text in outputs.items()
        for var, value in secrets.items()
        if value in text
    ]
    leaks += [
        f"{var} stored in {column}"
        for var, value in secrets.items()
        for column in text_columns_containing(pg_url, [value])
    ]
    assert leaks == []
    # the failure, the alerts and the requests happened, and were reported masked
    # every tweet of the failed chunk (the first request the fake answered: a full
    # chunk of 50 or the last, partial one, whichever the analyzer sent first)
    assert 0 < len(listed) <= 50
    assert len({d["origin"] for d in listed}) == len(listed)
    assert all("Model not available for key ****" in d["detail"] for d in listed)
    assert discord.messages and tg.messages, outputs["run"]
    assert "/bot****/sendMessage" in outputs["run"]  # -vv logged the Telegram request
    assert "POST ****?wait=true" in outputs["run"]  # ... and the Discord webhook request
    assert "ok   channel ops (discord)" in outputs["doctor"], outputs["doctor"]


def test_a_provider_error_echoing_the_key_is_masked_in_the_job_and_its_api_body(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "io-SECRET-key-5555"
    fake = twitterapi_io_server.FakeTwitterApiIo(key=key)
    fake.store.user("alice")
    fake.inject.append((400, {"detail": f"bad request for API key {key}"}, {}))
    migrate(pg_url)
    store = JobStore(pg_url)
    api_key = store.create_key("tests")
    job = store.create("alice", 10, False, store.key_id(api_key))
    cfg = settings_from_dict(
        {
            "analyzer": {"kind": "offline"},
            "sources": [],
            "sinks": {"console": False},
            "jobs": {"enabled": True, "provider": "twitterapi_io"},
        }
    )
    with twitterapi_io_server.running(fake) as (fake, url):
        monkeypatch.setenv("TWITTERAPI_IO_KEY", key)
        cfg = cfg.model_copy(update={"jobs": cfg.jobs.model_copy(update={"base_url": url})})
        run_job(cfg, env_for(tmp_path, pg_url), recovery=False, live=False, jobs_until_idle=True)
    client = TestClient(create_app(store, cfg.jobs))
    body = client.get(f"/v1/jobs/{job['id']}", headers={"X-API-Key": api_key})
    store.close()
    assert body.json()["status"] == "failed", body.text
    assert "bad request for API key ****" in body.json()["error"]
    assert key not in body.text
    assert text_columns_containing(pg_url, [key]) == []
