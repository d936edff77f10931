"""``chirpflow actions publish`` and ``chirpflow bot`` check their credentials at start:
one line per problem, exit 2 (refused or missing) or 3 (not answering), no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.telegram_bot_server import fake_telegram_bot
from tests.fakes.x_post_server import fake_x_posting

ON = '[actions]\nenabled = true\nhandle = "acme"\n'
CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
X_ENV = {
    "X_CONSUMER_KEY": "ck",
    "X_CONSUMER_SECRET": "cs",
    "X_ACCESS_TOKEN": "at-4242",
    "X_ACCESS_TOKEN_SECRET": "wrong-secret",
}


def _run(tmp_path: Path, pg_url: str, toml: str, *args: str, **extra: str) -> tuple[int, str]:
    config = tmp_path / "c.toml"
    config.write_text(toml)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHIRPFLOW_CONFIG")}
    env.update(DATABASE_URL=pg_url, CHIRPFLOW_HOME=str(tmp_path / "home"), **extra)
    out = subprocess.run(
        [*CLI, *args, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.returncode, out.stderr


def test_publish_with_refused_or_unreachable_x_says_so_in_one_line(
    tmp_path: Path, pg_url: str
) -> None:
    with fake_x_posting() as x:
        toml = f'{ON}[actions.posting]\nbase_url = "{x.base_url}"\n'
        code, err = _run(tmp_path, pg_url, toml, "actions", "publish", "--once", **X_ENV)
        assert x.posts == []
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "X refused the credentials in X_CONSUMER_KEY" in err and "wrong-secret" not in err
    down = ON + '[actions.posting]\nbase_url = "http://127.0.0.1:9"\n'
    code, err = _run(tmp_path, pg_url, down, "actions", "publish", "--once", **X_ENV)
    assert code == 3, err
    assert err.strip().splitlines() == [
        "Error: X did not answer at http://127.0.0.1:9 (GET /2/users/me: ConnectError)"
    ]


def test_bot_without_a_token_exits_2(tmp_path: Path, pg_url: str) -> None:
    toml = '[actions.approval]\nadmins = [7]\nchat_id = "-1001"\n'
    code, err = _run(tmp_path, pg_url, toml, "bot")
    assert code == 2
    assert err.strip().splitlines() == [
        "Error: the approval bot needs its BotFather token in CHIRPFLOW_BOT_TOKEN"
    ]


def test_bot_with_a_refused_or_unreachable_telegram_exits_2_or_3(
    tmp_path: Path, pg_url: str
) -> None:
    with fake_telegram_bot() as tg:
        toml = f'[actions.approval]\nadmins = [7]\nchat_id = "-1"\nbase_url = "{tg.base_url}"\n'
        code, err = _run(tmp_path, pg_url, toml, "bot", CHIRPFLOW_BOT_TOKEN="1:revoked-token")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "revoked-token" not in err
    down = '[actions.approval]\nadmins = [7]\nchat_id = "-1"\nbase_url = "http://127.0.0.1:9"\n'
    code, err = _run(tmp_path, pg_url, down, "bot", CHIRPFLOW_BOT_TOKEN="1:some-token")
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1 and "some-token" not in err
