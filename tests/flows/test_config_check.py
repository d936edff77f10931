"""`chirpflow config check` tells what `run` will need from the environment; `--version`."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import orjson
import pytest

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]

_NEEDED = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "X_BEARER_TOKEN",
    "RAPIDAPI_KEY",
    "KAFKA_BOOTSTRAP_SERVERS",
    "DISCORD_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHAT_ID",
    "OPS_HOOK",
    "OPS_BOT",
    "CHIRPFLOW_CONFIG",
)

CONFIG = """
[analyzer]
kind = "llm"

[[sources]]
name = "brand"
type = "x"
timelines = ["chirpflow"]

[[sources]]
name = "raw"
type = "kafka"
topic = "tweets.raw"

[sinks.kafka]
enabled = true

[alerts.channels.ops]
type = "discord"
webhook_url_env = "OPS_HOOK"

[alerts.channels.tg]
type = "telegram"
bot_token_env = "OPS_BOT"
chat_id = "-100123"
"""


def _check(cfg: Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _NEEDED}
    env.update(env_vars)
    return subprocess.run(
        [*CLI, "config", "check", "--config", str(cfg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "needs.toml"
    path.write_text(CONFIG)
    return path


def _states(stderr: str) -> dict[str, str]:
    """``{variable: 'set' | 'MISSING' | 'unset'}`` from the report lines."""
    out = {}
    for line in stderr.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("set", "MISSING", "unset"):
            out[parts[1]] = parts[0]
    return out


def test_missing_variables_are_named_and_fail_the_check(cfg: Path) -> None:
    out = _check(cfg, OPENAI_API_KEY="sk-SECRET-1", OPS_HOOK="https://hook.example/SECRET-2")
    assert out.returncode == 1, out.stderr
    states = _states(out.stderr)
    assert states["OPENAI_API_KEY"] == "set"
    assert states["OPS_HOOK"] == "set"  # the channel's own variable name, not the default
    assert states["X_BEARER_TOKEN"] == "MISSING"
    assert states["KAFKA_BOOTSTRAP_SERVERS"] == "MISSING"
    assert states["OPS_BOT"] == "MISSING"
    assert "TELEGRAM_CHAT_ID" not in states  # chat_id is in the file
    assert "DISCORD_WEBHOOK_URL" not in states and "TELEGRAM_BOT_TOKEN" not in states
    assert "configuration OK" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "X_BEARER_TOKEN" in last and "OPS_BOT" in last
    assert "SECRET" not in out.stdout + out.stderr
    doc = orjson.loads(out.stdout)
    needed = {n["variable"]: n for n in doc["environment_needed"]}
    assert needed["X_BEARER_TOKEN"] == {
        "variable": "X_BEARER_TOKEN",
        "used_by": "sources[0] 'brand' (type x)",
        "required": True,
        "set": False,
    }


def test_everything_set_is_ok(cfg: Path) -> None:
    out = _check(
        cfg,
        OPENAI_API_KEY="sk-x",
        X_BEARER_TOKEN="t",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        OPS_HOOK="https://hook.example/x",
        OPS_BOT="123:abc",
    )
    assert out.returncode == 0, out.stderr
    assert "MISSING" not in out.stderr and "configuration OK" in out.stderr


def test_a_local_llm_server_needs_no_key(tmp_path: Path) -> None:
    path = tmp_path / "local.toml"
    path.write_text('[analyzer]\nkind = "llm"\n')
    assert _check(path).returncode == 1
    assert _check(path, OPENAI_BASE_URL="http://127.0.0.1:11434/v1").returncode == 0


def test_help_says_how_the_check_exits() -> None:
    out = subprocess.run(
        [*CLI, "config", "check", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "1 when a required variable is not set" in " ".join(out.stdout.split())


def test_version_comes_from_the_installed_distribution() -> None:
    out = subprocess.run(
        [*CLI, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"chirpflow {version('chirpflow')}"


def test_needs_follow_the_configuration() -> None:
    from chirpflow.flows.env_needs import env_needs, missing
    from chirpflow.settings import settings_from_dict

    assert missing(env_needs(settings_from_dict({})), {}) == []  # the demo needs nothing
    cfg = settings_from_dict(
        {
            "jobs": {"enabled": True, "provider": "twitterapi_io"},
            "sources": [
                {"name": "live", "type": "x_stream", "rules": [{"value": "a", "tag": "t"}]}
            ],
            "alerts": {"channels": {"tg": {"type": "telegram"}}},
        }
    )
    needs = {n.name: n for n in env_needs(cfg)}
    assert not needs["OPENAI_API_KEY"].required  # auto: the offline analyzer without it
    assert [n.name for n in missing(list(needs.values()), {"TELEGRAM_CHAT_ID": "1"})] == [
        "X_BEARER_TOKEN",
        "TWITTERAPI_IO_KEY",
        "TELEGRAM_BOT_TOKEN",
    ]
