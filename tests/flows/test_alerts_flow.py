"""Alerts end to end: rules in the TOML, outbox in PostgreSQL, fake Discord and Telegram."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from chirpflow.connectors.embedded.ports import free_ports
from chirpflow.flows.job import run_job
from chirpflow.settings import settings_from_dict
from tests.factories import payload
from tests.fakes import discord_server, telegram_server
from tests.flows.helpers import env_for, scalar, write_jsonl

CONFIG = {
    "pipeline": {"chunk_size": 50, "snapshot_interval": "1s"},
    "analyzer": {"kind": "offline"},
    "alerts": {
        "rules": [
            {"name": "risky", "channels": ["ops"], "risk_at_least": 40},
            {"name": "digest", "channels": ["oncall"], "digest": True},
        ],
    },
    "sinks": {"console": False},
}


def test_alerts_are_sent_once_even_when_the_input_is_replayed(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "@everyone this is a SCAM *_[]()~`>#+-=|{}.! <b>x</b> refund 4111 1111 1111 1111"
    lines = [payload(i, text=f"nice day {i}") for i in range(90)]
    lines += [payload(100 + i, text=f"{hostile} #{i}") for i in range(6)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    tg = telegram_server.FakeTelegram(per_chat_interval_s=0)
    with discord_server.running() as (dc, hook), telegram_server.running(tg) as (tg, base):
        monkeypatch.setenv("DISCORD_WEBHOOK_URL", hook)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", tg.token)
        alerts = dict(CONFIG["alerts"])  # type: ignore[call-overload]
        alerts["channels"] = {
            "ops": {"type": "discord", "max_per_minute": 100},
            "oncall": {"type": "telegram", "chat_id": "42", "base_url": base},
        }
        cfg = settings_from_dict({**CONFIG, "alerts": alerts})
        env = env_for(tmp_path, pg_url)
        for _ in range(2):  # the second run is a replay of the same file
            run_job(cfg, env, source_spec=f"jsonl:{path}", recovery=False, live=False)
    assert len(dc.messages) == 6  # one per risky tweet, not twelve
    for m in dc.messages:
        assert m["allowed_mentions"] == {"parse": []}
        assert "4111 1111 1111 1111" in m["embeds"][0]["description"]
    assert len(tg.messages) == 2 and tg.errors == []  # digests of the two chunks
    assert any("SCAM *_[]()~`>#+-=|{}.! <b>x</b>" in v for v in tg.visible)  # escaped right
    assert scalar(pg_url, "SELECT count(*) FROM notifications WHERE status = 'sent'") == 8


def test_an_unreachable_webhook_is_logged_and_its_alerts_wait(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [payload(i, text=f"this is a SCAM #{i}") for i in range(20)]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    (port,) = free_ports(1)
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"http://127.0.0.1:{port}/api/webhooks/1/x")
    cfg = settings_from_dict(
        {
            **CONFIG,
            "alerts": {
                "rules": [{"name": "risky", "channels": ["ops"], "risk_at_least": 40}],
                "channels": {"ops": {"type": "discord", "max_per_minute": 100}},
                "stop_timeout": "1s",
            },
        }
    )
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    run_job(cfg, env_for(tmp_path, pg_url), source_spec=f"jsonl:{path}", live=False)
    assert time.monotonic() - started < 30
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(
        "alerts channel ops: delivery failing (discord: ConnectError)" in w for w in warnings
    )
    assert any("alerts channel ops: 20 alert(s) still pending at stop" in w for w in warnings)
    assert scalar(pg_url, "SELECT count(*) FROM notifications WHERE status = 'pending'") == 20
