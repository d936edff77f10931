"""kill -9 a real ``chirpflow run`` again and again while alerts flow: none lost, none doubled."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

from tests.factories import payload
from tests.fakes import discord_server, telegram_server
from tests.flows.helpers import scalar, write_jsonl

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")
RISKY = 12  # alerts per channel
KILLS = 10

TOML = """
[pipeline]
chunk_size = 10
snapshot_interval = "1s"

[analyzer]
kind = "offline"

[sinks]
console = false

[[alerts.rules]]
name = "risky"
channels = ["ops", "oncall"]
risk_at_least = 40

[alerts.channels.ops]
type = "discord"
max_per_minute = 1000

[alerts.channels.oncall]
type = "telegram"
chat_id = "42"
base_url = "{base}"
max_per_minute = 1000
min_interval = "250ms"
"""

_URL = re.compile(r"https://x\.com/\S+?/status/\d+")


def _discord_keys(fake: discord_server.FakeDiscord) -> Counter[str]:
    return Counter(m["embeds"][0]["url"] for m in list(fake.messages))


def _telegram_keys(fake: telegram_server.FakeTelegram) -> Counter[str]:
    keys: Counter[str] = Counter()
    for text in list(fake.visible):
        found = _URL.findall(text)
        keys[found[-1] if found else text] += 1
    return keys


def _by_status(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT status, count(*) FROM notifications GROUP BY status")
        return {status: n for status, n in rows}


def _received(dc: discord_server.FakeDiscord, tg: telegram_server.FakeTelegram) -> int:
    return len(dc.messages) + len(tg.messages)


def test_kill_9_loop_loses_and_doubles_no_alert(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(13)
    lines = [payload(i, text=f"lovely weather {i}") for i in range(60)]
    lines += [payload(100 + i, text=f"this is a SCAM and a hack, fraud #{i}") for i in range(RISKY)]
    rng.shuffle(lines)
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    dc_fake = discord_server.FakeDiscord(limit=4, per_s=1.0, every_nth_429=5)
    tg_fake = telegram_server.FakeTelegram(per_chat_interval_s=0.25, every_nth_429=6)
    with (
        discord_server.running(dc_fake) as (dc, hook),
        telegram_server.running(tg_fake) as (tg, base),
    ):
        config = tmp_path / "chirpflow.toml"
        config.write_text(TOML.format(base=base))
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            DATABASE_URL=pg_url,
            CHIRPFLOW_HOME=str(tmp_path / "home"),
            CHIRPFLOW_CONFIG=str(config),
            DISCORD_WEBHOOK_URL=hook,
            TELEGRAM_BOT_TOKEN=tg.token,
        )
        args = [*CLI, "run", "--source", f"jsonl:{source}", "--no-recovery", "--quiet"]
        kills = 0
        while kills < KILLS:
            before = _received(dc, tg)
            proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
            # kill at a random moment: at start-up, or after a random number of sends
            target = before + rng.randint(0, 2)
            deadline = time.monotonic() + 20
            while _received(dc, tg) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "no alert arrived in 20 s"
                time.sleep(0.005)  # polling the fakes, not synchronisation
            if proc.poll() is not None:  # it finished everything before the kill
                assert proc.returncode == 0, proc.communicate()[1]
                break
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            kills += 1
        assert kills == KILLS, f"only {kills} kills: the backlog drained too fast"
        # let it drain: clean runs (the input is replayed; the outbox adds nothing new)
        deadline = time.monotonic() + 40
        while scalar(pg_url, "SELECT count(*) FROM notifications WHERE status <> 'sent'"):
            assert time.monotonic() < deadline, f"unsent after 40 s: {_by_status(pg_url)}"
            out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
    assert scalar(pg_url, "SELECT count(*) FROM notifications") == 2 * RISKY
    assert 429 in dc.statuses and 429 in tg.errors  # the rate limits were really hit
    interrupted = scalar(pg_url, "SELECT coalesce(sum(interrupted), 0) FROM notifications")
    for keys in (_discord_keys(dc), _telegram_keys(tg)):
        assert len(keys) == RISKY  # every alert arrived ...
        doubled = sum(n - 1 for n in keys.values())
        # ... once; a second copy only for a row killed inside its HTTP call (policy resend)
        assert doubled <= interrupted, (doubled, interrupted)
