"""Bad or unreachable services: one clear line per problem, never a traceback.

Every command is run as a user runs it (a real process) with one bad
variable; the wait for services is 0 so the tests stay fast.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.embedded.redis import EmbeddedRedis
from chirpflow.errors import ConfigError
from chirpflow.flows.preflight import ServiceUnavailable, require
from chirpflow.flows.preflight_needs import Needs
from chirpflow.settings import Environment
from tests.fakes import llm_server
from tests.flows.helpers import clean_env

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
SECRET = "hunter2secret"


def _closed() -> str:
    return f"127.0.0.1:{free_port()}"


def _cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    out = subprocess.run(
        CLI + args, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return out.returncode, out.stdout + out.stderr


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    env = clean_env()
    env.update({"CHIRPFLOW_HOME": str(tmp_path / "home"), "CHIRPFLOW_SERVICE_WAIT": "0"})
    return env


def _assert_one_clear_error(code: int, text: str, var: str, expected_code: int) -> None:
    assert code == expected_code, text
    assert "Traceback" not in text
    assert "rdkafka" not in text and "%3|" not in text
    assert len(text.strip().splitlines()) <= 4, text
    assert var in text
    assert SECRET not in text


EVAL = ["eval", "--task", "sentiment", "--data", "{data}"]
DB_COMMANDS = [["stats"], ["run", "--quiet"], ["dlq", "list"], ["api-key", "create", "x"]]


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda a: " ".join(a))
def test_nonsense_database_url_is_a_config_error(args: list[str], base_env: dict[str, str]) -> None:
    code, text = _cli(args, dict(base_env, DATABASE_URL="nonsense"))
    _assert_one_clear_error(code, text, "DATABASE_URL", 2)
    assert "missing" in text  # the cause, as psycopg words it


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda a: " ".join(a))
def test_database_on_a_closed_port_is_service_unavailable(
    args: list[str], base_env: dict[str, str]
) -> None:
    url = f"postgresql://chirp:{SECRET}@{_closed()}/db"
    code, text = _cli(args, dict(base_env, DATABASE_URL=url))
    _assert_one_clear_error(code, text, "DATABASE_URL", 3)
    assert "postgresql://chirp:****@127.0.0.1" in text and "refused" in text


@pytest.mark.parametrize(
    "args",
    [["run", "--quiet", "--source", "kafka"], ["ingest"], ["replay", "--from-beginning"]],
    ids=lambda a: " ".join(a),
)
def test_dead_kafka_is_one_line_not_hundreds(args: list[str], base_env: dict[str, str]) -> None:
    bootstrap = _closed()
    code, text = _cli(args, dict(base_env, KAFKA_BOOTSTRAP_SERVERS=bootstrap))
    _assert_one_clear_error(code, text, "KAFKA_BOOTSTRAP_SERVERS", 3)
    assert bootstrap in text


@pytest.mark.parametrize("args", [["run", "--quiet"], ["dlq", "retry"]], ids=lambda a: " ".join(a))
def test_dead_redis_names_redis_url(args: list[str], base_env: dict[str, str]) -> None:
    url = f"redis://:{SECRET}@{_closed()}/0"
    code, text = _cli(args, dict(base_env, REDIS_URL=url))
    _assert_one_clear_error(code, text, "REDIS_URL", 3)


@pytest.mark.parametrize("args", [["ingest"], ["replay", "--from-beginning"]])
def test_dead_redis_and_kafka_are_one_line_each(args: list[str], base_env: dict[str, str]) -> None:
    env = dict(base_env, REDIS_URL=f"redis://{_closed()}/0", KAFKA_BOOTSTRAP_SERVERS=_closed())
    code, text = _cli(args, env)
    _assert_one_clear_error(code, text, "REDIS_URL", 3)
    assert "KAFKA_BOOTSTRAP_SERVERS" in text and "2 services unavailable" in text


@pytest.mark.parametrize("args", [["run", "--quiet"], EVAL], ids=["run", "eval"])
def test_dead_llm_endpoint_is_named_and_fails_fast(
    args: list[str], base_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "val_text.txt").write_text("good day\nbad day\n")
    (tmp_path / "val_labels.txt").write_text("2\n0\n")
    base = f"http://{_closed()}/v1"
    env = dict(base_env, OPENAI_API_KEY=f"sk-{SECRET}", OPENAI_BASE_URL=base)
    started = time.monotonic()
    code, text = _cli([a.format(data=tmp_path) for a in args], env)
    _assert_one_clear_error(code, text, "OPENAI_BASE_URL", 3)
    assert base in text
    assert time.monotonic() - started < 60  # not minutes of retries


@pytest.mark.parametrize("args", [["run", "--quiet"], EVAL], ids=["run", "eval"])
def test_a_rejected_llm_key_stops_the_command_before_it_starts(
    args: list[str], base_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "val_text.txt").write_text("good day\n")
    (tmp_path / "val_labels.txt").write_text("2\n")
    with llm_server.running(llm_server.FakeLLM(api_key="sk-the-right-one")) as (fake, url):
        env = dict(base_env, OPENAI_API_KEY=f"sk-{SECRET}", OPENAI_BASE_URL=url)
        code, text = _cli([a.format(data=tmp_path) for a in args], env)
        assert fake.requests == []  # no analysis was attempted
    _assert_one_clear_error(code, text, "OPENAI_API_KEY", 2)
    assert f"OPENAI_BASE_URL {url}: key rejected (HTTP 401" in text


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("DATABASE_URL", f"postgresql://chirp:{SECRET}@{_closed()}/db"),
        ("DATABASE_URL", "nonsense"),
        ("KAFKA_BOOTSTRAP_SERVERS", _closed()),
        ("REDIS_URL", f"redis://:{SECRET}@{_closed()}/0"),
    ],
)
def test_doctor_names_the_variable_without_a_traceback(
    var: str, value: str, base_env: dict[str, str]
) -> None:
    code, text = _cli(["doctor"], dict(base_env, **{var: value}))
    assert code == 1, text
    assert "Traceback" not in text and "%3|" not in text and SECRET not in text
    fails = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1 and var in fails[0], text


def test_doctor_names_the_llm_base_url(base_env: dict[str, str]) -> None:
    base = f"http://{_closed()}/v1"
    env = dict(base_env, OPENAI_API_KEY=f"sk-{SECRET}", OPENAI_BASE_URL=base)
    code, text = _cli(["doctor"], env)
    assert code == 1 and f"FAIL llm: OPENAI_BASE_URL {base}" in text, text


def test_bad_wait_value_is_a_usage_error(base_env: dict[str, str]) -> None:
    code, text = _cli(["stats", "--wait-for-services", "soon"], base_env)
    assert code == 2 and "--wait-for-services" in text and "Traceback" not in text


def _env(**values: str) -> Environment:
    return Environment.from_env(values)


def test_waits_for_a_service_that_comes_up_late(caplog: pytest.LogCaptureFixture) -> None:
    """A pod starting before its cache: the command waits, then goes on."""
    port = free_port()
    server = EmbeddedRedis(port=port)

    class StartOnWait(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting up to" in record.getMessage() and server.port and not started:
                started.append(server.start())

    started: list[str] = []
    handler = StartOnWait()
    logging.getLogger("chirpflow.flows.preflight").addHandler(handler)
    try:
        require(_env(REDIS_URL=f"redis://127.0.0.1:{port}/0"), Needs(redis=True), wait_s=60)
        assert started, "the first probe should have failed and waited"
    finally:
        logging.getLogger("chirpflow.flows.preflight").removeHandler(handler)
        server.stop()


def test_the_wait_is_bounded() -> None:
    env = _env(DATABASE_URL=f"postgresql://u:{SECRET}@{_closed()}/db")
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as err:
        require(env, Needs(postgres=True), wait_s=1.0)
    assert time.monotonic() - started < 10
    assert str(err.value).startswith("DATABASE_URL postgresql://u:****@127.0.0.1:")
    assert SECRET not in str(err.value)


def test_bad_addresses_are_config_errors_at_once() -> None:
    env = _env(KAFKA_BOOTSTRAP_SERVERS="broker-without-port", OPENAI_BASE_URL="localhost:1")
    with pytest.raises(ConfigError) as err:
        require(env, Needs(kafka=True, llm=True), wait_s=60)
    text = str(err.value)
    assert "KAFKA_BOOTSTRAP_SERVERS 'broker-without-port'" in text
    assert "OPENAI_BASE_URL 'localhost:1'" in text
