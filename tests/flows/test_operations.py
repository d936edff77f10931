"""Operations: /metrics, /healthz, /readyz of a running job; doctor; secrets never printed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from chirpflow.connectors.embedded.ports import free_port
from tests.fakes import discord_server, llm_server, telegram_server
from tests.flows.helpers import clean_env

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
SECRETS = {
    "OPENAI_API_KEY": "sk-test-SECRET-openai-1234567890",
    "X_BEARER_TOKEN": "AAAA-SECRET-bearer-0987654321",
    "TELEGRAM_BOT_TOKEN": "123456:SECRET-telegram-token",
}


@pytest.fixture
def base_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    env = clean_env()
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"))
    return env


def test_a_running_job_serves_metrics_health_and_readiness(base_env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            *CLI,
            "run",
            "--quiet",
            "--rate",
            "500",
            "--metrics-port",
            str(port),
            "--analyzer",
            "offline",
        ],
        env=base_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                ready = httpx.get(f"{url}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json()["checks"]["postgres"] == "ok"
        assert httpx.get(f"{url}/healthz").status_code == 200
        time.sleep(2.5)
        text = httpx.get(f"{url}/metrics").text
        assert 'chirpflow_tweets_in_total{source="synthetic"}' in text
        assert "chirpflow_up 1.0" in text
        assert "chirpflow_analyzer_latency_seconds_bucket" in text

        def value(series: str) -> float:
            line = next(ln for ln in text.splitlines() if ln.startswith(series + " "))
            return float(line.split()[-1])

        assert value('chirpflow_sink_rows_total{sink="postgres"}') > 0
        assert value('chirpflow_sink_write_seconds_count{sink="postgres"}') > 0
        assert value("chirpflow_cache_lookups_total") > 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def test_doctor_reports_each_check_and_fails_on_a_bad_one(
    tmp_path: Path, base_env: dict[str, str], redis_url: str
) -> None:
    cfg = tmp_path / "c.toml"
    tg = telegram_server.FakeTelegram()
    with discord_server.running() as (_, hook), telegram_server.running(tg) as (tg, tg_url):
        cfg.write_text(
            "[alerts.channels.ops]\ntype = 'discord'\n"
            f"[alerts.channels.chat]\ntype = 'telegram'\nchat_id = '1'\nbase_url = '{tg_url}'\n"
            "[[sources]]\nname = 'brand'\ntype = 'x'\nsearches = ['a']\n"
            "base_url = 'http://127.0.0.1:9'\n"
        )
        env = {
            **base_env,
            "REDIS_URL": redis_url,
            "DISCORD_WEBHOOK_URL": hook,
            "TELEGRAM_BOT_TOKEN": tg.token,
        }
        out = subprocess.run(
            [*CLI, "doctor", "-c", str(cfg)], env=env, capture_output=True, text=True, timeout=60
        )
    lines = out.stdout.splitlines()
    assert out.returncode == 1, out.stdout + out.stderr
    assert any(line.startswith("ok   postgres: PostgreSQL") for line in lines)
    assert any(line.startswith("ok   redis") for line in lines)
    assert any(line.startswith("ok   channel ops (discord)") for line in lines)
    assert any(
        line.startswith("ok   channel chat (telegram): bot @chirpflow_bot") for line in lines
    )
    assert any(
        line.startswith("FAIL source brand (x): X_BEARER_TOKEN is not set") for line in lines
    )


def test_secrets_never_appear_in_logs_errors_metrics_or_config_output(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    fake = llm_server.FakeLLM(api_key=SECRETS["OPENAI_API_KEY"])
    fake.script.extend(["500"] * 10)  # failures get logged (with -vv, every request too)
    db_url = base_env["DATABASE_URL"].replace("postgres@", "postgres:pg-SECRET-pw@")
    tg = telegram_server.FakeTelegram(token=SECRETS["TELEGRAM_BOT_TOKEN"], per_chat_interval_s=0)
    with llm_server.running(fake) as (_, llm_url), telegram_server.running(tg) as (tg, tg_url):
        env = {
            **base_env,
            **SECRETS,
            "OPENAI_BASE_URL": llm_url,
            "CHIRPFLOW_LOG_FORMAT": "json",
            "DATABASE_URL": db_url,
        }
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            "[analyzer]\nkind = 'llm'\nmax_attempts = 1\n"
            "[[sources]]\nname = 's'\ntype = 'synthetic'\nrate = 0\n"
            # with -vv, httpx logs every request URL: Telegram's carries the bot token
            "[alerts.channels.chat]\ntype = 'telegram'\nchat_id = '1'\n"
            f"base_url = '{tg_url}'\n"
            "[[alerts.rules]]\nname = 'all'\nchannels = ['chat']\ndigest = true\n"
        )
        outputs = []
        for args in (
            ["config", "check", "-c", str(cfg)],
            ["doctor", "-c", str(cfg)],
            ["-vv", "run", "--quiet", "--no-recovery", "--limit", "150", "-c", str(cfg)],
            ["stats", "--json"],
        ):
            out = subprocess.run(
                [*CLI, *args], env=env, capture_output=True, text=True, timeout=120
            )
            outputs.append(out.stdout + out.stderr)
    everything = "\n".join(outputs)
    assert "500" in everything  # the failures were reported
    assert "/bot****/sendMessage" in everything  # the request was logged, its token masked
    for value in [*SECRETS.values(), "pg-SECRET-pw"]:
        assert value not in everything
    json_lines = [orjson.loads(ln) for ln in outputs[2].splitlines() if ln.startswith("{")]
    assert json_lines and all("level" in doc for doc in json_lines)
    # lines logged while a chunk is analysed say which chunk
    assert any(doc.get("chunk_id", "").startswith("s#") for doc in json_lines)
