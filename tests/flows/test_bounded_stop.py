"""SIGINT / SIGTERM stop a real process within the stop bound, in every state, losing nothing.

Each test puts `chirpflow run` (or `api`, `eval`) in a state where finishing
cleanly is impossible (chunks stuck at a slow LLM, an open circuit, a database
outage), signals it, and measures with a monotonic clock that it ends within
the bound plus a generous margin, with 130 / 143 and no traceback. A second
run then resumes from the recovery snapshot: every tweet read ends analysed,
a counted duplicate or a dead letter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import psycopg

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.embedded.postgres import EmbeddedPostgres
from chirpflow.connectors.postgres.migrate import migrate

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
STOP_S = 3.0
MARGIN_S = 12.0  # process teardown on a busy 2-core machine; far below any hang

CONFIG = """
[pipeline]
snapshot_interval = "500ms"
max_wait = "1s"
chunk_size = 50
stop_timeout = "3s"

[[sources]]
name = "paced"
type = "synthetic"
seed = 7
rate = 400

[analyzer]
kind = "{kind}"
model = "gpt-test"
max_in_flight = 4

[sinks]
console = false
"""

_FOREIGN = ("REDIS_URL", "CHIRPFLOW_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL")


ALERTS = """
[[alerts.rules]]
name = "risky"
channels = ["ops"]
risk_at_least = 40

[alerts.channels.ops]
type = "discord"
max_per_minute = 1000
"""


def _env(tmp_path: Path, kind: str, alerts: bool = False, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    cfg = tmp_path / f"{kind}{'-alerts' if alerts else ''}.toml"
    cfg.write_text(CONFIG.format(kind=kind) + (ALERTS if alerts else ""))
    env.update(CHIRPFLOW_HOME=str(tmp_path / "home"), CHIRPFLOW_CONFIG=str(cfg), **extra)
    return env


def _stats(url: str) -> dict[str, int]:
    from chirpflow.connectors.postgres.stats import store_stats

    data: dict[str, int] = store_stats(url)
    return data


class _Proc:
    """A CLI process whose stderr is collected as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*CLI, *args], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, what: str, cond: Callable[[], bool], within: float = 90) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"ended early: {self.stderr}"
            if cond():
                return
            time.sleep(0.2)
        self.proc.kill()
        raise AssertionError(f"never {what}: {self.stderr}")

    def stop(self, sig: int, bound: float = STOP_S) -> tuple[float, int]:
        """Send ``sig``; the seconds until the process ended, and its status."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=bound + MARGIN_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running {bound + MARGIN_S}s after {sig!r}") from None
        self._reader.join(timeout=10)
        return time.monotonic() - sent, code


def _resume_loses_nothing(env: dict[str, str], url: str) -> None:
    out = subprocess.run(
        [*CLI, "run", "--quiet", "--limit", "200"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    stats = _stats(url)
    assert stats["analyzed"] > 0
    assert stats["tweets_ingested"] == stats["analyzed"] + stats["duplicates"]
    assert stats["dead_letters"] == 0


def _assert_bounded(took: float, code: int, expected: int, proc: _Proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert code == expected, proc.stderr
    assert took < STOP_S + MARGIN_S, proc.stderr


def test_sigterm_with_chunks_in_flight_at_a_slow_llm(tmp_path: Path, pg_url: str) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    with running(FakeLLM(latency_s=120)) as (fake, llm_url):
        env = _env(
            tmp_path,
            "llm",
            DATABASE_URL=pg_url,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm_url,
        )
        proc = _Proc(["run", "--quiet"], env)
        proc.wait_for("sent chunks", lambda: fake.in_flight >= 2)
        took, code = proc.stop(signal.SIGTERM)
        _assert_bounded(took, code, 143, proc)
        assert "stop deadline" in proc.stderr
        fake.latency_s = 0
        _resume_loses_nothing(env, pg_url)


def test_sigint_with_the_llm_circuit_open(tmp_path: Path, pg_url: str) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    # the key is good (the start-up check passes) but its quota is used up: every
    # completion answers insufficient_quota, which opens the circuit
    with running(FakeLLM(api_key="sk-right")) as (fake, llm_url):
        fake.script.extend(["insufficient_quota"] * 10_000)
        env = _env(
            tmp_path,
            "llm",
            DATABASE_URL=pg_url,
            OPENAI_API_KEY="sk-right",
            OPENAI_BASE_URL=llm_url,
        )
        proc = _Proc(["run", "--quiet"], env)
        proc.wait_for("opened the circuit", lambda: "circuit open" in proc.stderr)
        took, code = proc.stop(signal.SIGINT)
        _assert_bounded(took, code, 130, proc)
        fake.script.clear()  # the quota is topped up: the resumed run gets answers
        _resume_loses_nothing(env, pg_url)


def test_second_signal_stops_at_once_without_a_traceback(tmp_path: Path, pg_url: str) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    with running(FakeLLM(latency_s=120)) as (fake, llm_url):
        env = _env(
            tmp_path,
            "llm",
            DATABASE_URL=pg_url,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm_url,
        )
        proc = _Proc(["run", "--quiet", "--stop-timeout", "600"], env)
        proc.wait_for("sent chunks", lambda: fake.in_flight >= 1)
        proc.proc.send_signal(signal.SIGINT)
        proc.wait_for("started stopping", lambda: "finishing open chunks" in proc.stderr)
        took, code = proc.stop(signal.SIGINT, bound=0)
        _assert_bounded(took, code, 130, proc)
        fake.latency_s = 0
        _resume_loses_nothing(env, pg_url)


def test_sigterm_during_a_database_outage(tmp_path: Path, pg_url: str) -> None:
    from tests.fakes.tcp_proxy import proxied

    migrate(pg_url)
    with proxied(pg_url) as (proxy, through):
        env = _env(tmp_path, "offline", DATABASE_URL=through)
        proc = _Proc(["run", "--quiet"], env)
        proc.wait_for("stored tweets", lambda: _stats(pg_url)["analyzed"] > 0)
        proxy.cut()
        proc.wait_for("saw the outage", lambda: "postgres write failed" in proc.stderr)
        took, code = proc.stop(signal.SIGTERM)
    _assert_bounded(took, code, 143, proc)
    _resume_loses_nothing(dict(env, DATABASE_URL=pg_url), pg_url)


def test_sigterm_with_a_full_alert_backlog(tmp_path: Path, pg_url: str) -> None:
    from tests.fakes.discord_server import FakeDiscord, running

    def pending() -> int:
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT count(*) FROM notifications WHERE status = 'pending'")
            return int(row.fetchone()[0])  # type: ignore[index]

    migrate(pg_url)
    with running(FakeDiscord(limit=1, per_s=600)) as (discord, hook):
        env = _env(tmp_path, "offline", alerts=True, DATABASE_URL=pg_url, DISCORD_WEBHOOK_URL=hook)
        proc = _Proc(["run", "--quiet"], env)
        # one message per 600 s: the dispatcher waits for the limit to reset
        proc.wait_for("built a backlog", lambda: len(discord.messages) == 1 and pending() >= 5)
        took, code = proc.stop(signal.SIGTERM)
    _assert_bounded(took, code, 143, proc)
    assert pending() >= 5  # the backlog waits in the outbox for the next start
    _resume_loses_nothing(_env(tmp_path, "offline", DATABASE_URL=pg_url), pg_url)


def test_sigterm_stops_the_api_and_its_embedded_database(tmp_path: Path) -> None:
    env = _env(tmp_path, "offline")
    proc = _Proc(["api", "--port", str(free_port())], env)
    server = EmbeddedPostgres(tmp_path / "home" / "postgres")
    proc.wait_for("served", lambda: "Uvicorn running" in proc.stderr, within=120)
    assert server.is_running()
    took, code = proc.stop(signal.SIGTERM)
    _assert_bounded(took, code, 143, proc)
    assert not server.is_running(), proc.stderr


def test_the_deadline_also_stops_the_embedded_database_run_started(tmp_path: Path) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    server = EmbeddedPostgres(tmp_path / "home" / "postgres")
    with running(FakeLLM(latency_s=120)) as (fake, llm_url):
        env = _env(tmp_path, "llm", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_url)
        proc = _Proc(["run", "--quiet"], env)
        proc.wait_for("sent chunks", lambda: fake.in_flight >= 1, within=120)
        assert server.is_running()
        took, code = proc.stop(signal.SIGTERM)
    _assert_bounded(took, code, 143, proc)
    assert "stop deadline" in proc.stderr
    assert not server.is_running(), proc.stderr


def test_sigint_stops_eval_at_a_slow_llm(tmp_path: Path) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    data = tmp_path / "offensive"
    data.mkdir()
    (data / "val_text.txt").write_text("".join(f"tweet number {i} @user\n" for i in range(20)))
    (data / "val_labels.txt").write_text("0\n1\n" * 10)
    with running(FakeLLM(latency_s=120)) as (fake, llm_url):
        env = _env(tmp_path, "llm", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_url)
        args = ["eval", "--task", "offensive", "--data", str(data), "--analyzer", "llm"]
        proc = _Proc([*args, "--json"], env)
        proc.wait_for("asked the LLM", lambda: fake.in_flight >= 1)
        took, code = proc.stop(signal.SIGINT)
    _assert_bounded(took, code, 130, proc)


def test_stop_timeout_is_read_from_the_config() -> None:
    from chirpflow.settings import settings_from_dict

    assert settings_from_dict({}).pipeline.stop_timeout.total_seconds() == 10
    cfg = settings_from_dict({"pipeline": {"stop_timeout": "25s"}})
    assert cfg.pipeline.stop_timeout.total_seconds() == 25


INGEST_TOML = """
[pipeline]
snapshot_interval = "500ms"
stop_timeout = "3s"

[ingest]
topic = "stopped"

[[sources]]
name = "paced"
type = "synthetic"
seed = 3
rate = 2000
duplicate_ratio = 0.0
"""


def test_sigterm_stops_ingest_and_a_restart_skips_nothing(
    tmp_path: Path, kafka_broker: EmbeddedKafka
) -> None:
    from confluent_kafka import TopicPartition

    from chirpflow.connectors.kafka import offsets
    from chirpflow.connectors.sources.synthetic import SyntheticTweets

    kafka_broker.create_topic("stopped", 1)
    cfg = tmp_path / "ingest.toml"
    cfg.write_text(INGEST_TOML)
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(
        CHIRPFLOW_CONFIG=str(cfg),
        CHIRPFLOW_HOME=str(tmp_path / "home"),
        KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
    )
    consumer = offsets.consumer(kafka_broker.bootstrap)
    consumer.assign([TopicPartition("stopped", 0, 0)])
    ids: list[str] = []

    def read() -> int:
        for m in consumer.consume(1000, timeout=0.2):
            if m.error() is None and (value := m.value()) is not None:
                ids.append(orjson.loads(value)["id"])
        return len(set(ids))

    proc = _Proc(["ingest"], env)
    proc.wait_for("wrote tweets", lambda: read() >= 1000)
    took, code = proc.stop(signal.SIGTERM)
    _assert_bounded(took, code, 143, proc)
    first = read()
    out = subprocess.run(
        [*CLI, "ingest", "--limit", "1000"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and read() < first + 500:
        pass
    consumer.close()
    expected = [
        p["id"] for p in SyntheticTweets(seed=3, duplicate_ratio=0.0).batch(0, len(set(ids)))
    ]
    assert len(expected) >= first + 500
    assert set(ids) == set(expected)  # resumed where the stop left off: no gap


def test_sigint_stops_a_replay_at_a_slow_llm_and_a_rerun_finishes_it(
    tmp_path: Path, pg_url: str, kafka_broker: EmbeddedKafka
) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    cfg = tmp_path / "ingest.toml"
    cfg.write_text(INGEST_TOML.replace('topic = "stopped"', 'topic = "to-replay"'))
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update(
        CHIRPFLOW_CONFIG=str(cfg),
        CHIRPFLOW_HOME=str(tmp_path / "home"),
        KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
    )
    out = subprocess.run(
        [*CLI, "ingest", "--limit", "300"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    with running(FakeLLM(latency_s=120)) as (fake, llm_url):
        env = _env(
            tmp_path,
            "llm",
            DATABASE_URL=pg_url,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm_url,
            KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
        )
        replay = ["replay", "--topic", "to-replay", "--from-beginning", "--quiet"]
        proc = _Proc(replay, env)
        proc.wait_for("sent chunks", lambda: fake.in_flight >= 1)
        took, code = proc.stop(signal.SIGINT)
        _assert_bounded(took, code, 130, proc)
        fake.latency_s = 0
        out = subprocess.run([*CLI, *replay], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    stats = _stats(pg_url)
    assert stats["analyzed"] == 300 and stats["dead_letters"] == 0
