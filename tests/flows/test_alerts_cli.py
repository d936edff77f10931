"""``chirpflow alerts list|test|resend`` and the alerts in ``chirpflow stats``."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from chirpflow.connectors.notify.outbox import Outbox
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.cli import main
from tests.factories import notification
from tests.fakes import discord_server

_n = notification


def _env(tmp_path: Path, pg_url: str, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": pg_url, "CHIRPFLOW_HOME": str(tmp_path / "home"), **extra}


def _seed(pg_url: str) -> None:
    migrate(pg_url)
    outbox = Outbox(pg_url, max_size=1)
    outbox.add([_n(1), _n(2), _n(3, "oncall")])
    outbox.mark(_n(1).id, "uncertain", "interrupted during the HTTP call")
    outbox.mark(_n(3, "oncall").id, "failed", "telegram 400: bad")
    outbox.close()


def test_list_resend_and_stats(tmp_path: Path, pg_url: str) -> None:
    _seed(pg_url)
    env = _env(tmp_path, pg_url)
    runner = CliRunner()
    out = runner.invoke(main, ["alerts", "list", "--status", "uncertain"], env=env)
    assert out.exit_code == 0, out.output
    assert "risky:1:ops" in out.output and "risky:2:ops" not in out.output
    rows = orjson.loads(runner.invoke(main, ["alerts", "list", "--json"], env=env).output)
    assert {r["id"]: r["status"] for r in rows} == {
        "risky:1:ops": "uncertain",
        "risky:2:ops": "pending",
        "risky:3:oncall": "failed",
    }
    stats = orjson.loads(runner.invoke(main, ["stats", "--json"], env=env).output)
    assert stats["alerts"] == {
        "ops": {"pending": 1, "uncertain": 1, "interrupted": 0},
        "oncall": {"failed": 1, "interrupted": 0},
    }
    table = runner.invoke(main, ["stats"], env=env).output
    assert "alerts ops" in table and "uncertain 1" in table
    out = runner.invoke(main, ["alerts", "resend", "--channel", "ops"], env=env)
    assert out.exit_code == 0 and "1 alert(s) on ops back to pending" in out.output
    out = runner.invoke(main, ["alerts", "resend"], env=env)
    assert "1 alert(s) back to pending" in out.output
    out = runner.invoke(main, ["alerts", "list", "--status", "pending"], env=env)
    assert out.output.count("pending") == 3


def test_test_sends_one_message_or_says_why_not(tmp_path: Path, pg_url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[alerts.channels.ops]\ntype = 'discord'\n")
    runner = CliRunner()
    with discord_server.running() as (dc, hook):
        env = _env(tmp_path, pg_url, DISCORD_WEBHOOK_URL=hook)
        out = runner.invoke(main, ["alerts", "test", "ops", "-c", str(config)], env=env)
        assert out.exit_code == 0, out.output
        assert "sent a test message to ops (message id " in out.output
        assert dc.messages[0]["embeds"][0]["title"] == "chirpflow test alert"
        dc.deleted = True
        out = runner.invoke(main, ["alerts", "test", "ops", "-c", str(config)], env=env)
    assert out.exit_code == 2
    assert out.output.startswith("error: alerts channel ops: test message failed")
    assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1
    out = runner.invoke(main, ["alerts", "test", "nope", "-c", str(config)], env=env)
    assert out.exit_code == 2 and "no alert channel 'nope' (channels: ops)" in out.output
