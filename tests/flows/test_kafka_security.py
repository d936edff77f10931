"""Secured Kafka clusters: TLS and SASL settings reach every client; refusals are one line.

Tansu 0.6.0 cannot serve TLS itself (``--cert`` and ``--key`` exclude each
other) and, with ``--authentication``, accepts no request that would create a
user. So TLS is tested through a TLS terminator in front of the broker (which
advertises the terminator's port), and SASL through the refusal of a login.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chirpflow.connectors.embedded.kafka import HOST, EmbeddedKafka
from chirpflow.connectors.kafka import offsets
from chirpflow.connectors.kafka.topics import ensure_topic
from chirpflow.flows.ingest import run_ingest
from chirpflow.flows.job import run_job
from chirpflow.flows.replay import ReplayRange, run_replay
from chirpflow.kafka_connection import KafkaConnection
from chirpflow.settings import Environment, settings_from_dict
from tests.factories import payload
from tests.fakes.tls_certs import TlsFiles, make_tls_files
from tests.fakes.tls_proxy import TlsProxy
from tests.flows.helpers import env_for, scalar, write_jsonl

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]
PASSWORD = "hunter2-very-secret"
CFG = {
    "analyzer": {"kind": "offline"},
    "sinks": {"console": False},
    "pipeline": {"snapshot_interval": "1s", "max_wait": "1s"},
}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_bootstrap(tls_files: TlsFiles) -> Iterator[str]:
    """``host:port`` of a broker reachable only over TLS."""
    proxy = TlsProxy(tls_files.cert, tls_files.key)
    broker = EmbeddedKafka(advertised_port=proxy.port)
    broker.start()
    assert broker.port is not None
    proxy.start(HOST, broker.port)
    yield f"{HOST}:{proxy.port}"
    proxy.close()
    broker.stop()


@pytest.fixture(scope="module")
def sasl_broker() -> Iterator[EmbeddedKafka]:
    broker = EmbeddedKafka(authentication=True)
    broker.start()
    yield broker
    broker.stop()


def _cli(
    args: list[str], tmp_path: Path, toml: str, **env: str
) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "chirpflow.toml"
    cfg.write_text(toml)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAFKA_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    base.update(CHIRPFLOW_CONFIG=str(cfg), CHIRPFLOW_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([*CLI, *args], env=base, capture_output=True, text=True, timeout=120)


def _one_clean_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "rdkafka" not in text and "%3|" not in text, text
    return lines[0]


def test_kafka_table_and_variables_make_one_connection() -> None:
    settings = settings_from_dict(
        {"kafka": {"security.protocol": "SASL_SSL", "sasl": {"mechanism": "PLAIN"}, "x": 1}}
    )
    env = Environment.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092",
            "KAFKA_SASL_USERNAME": "svc",
            "KAFKA_SASL_PASSWORD": PASSWORD,
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",  # the variable wins over the table
        }
    ).with_kafka_settings(settings)
    kafka = env.kafka
    assert isinstance(kafka, KafkaConnection)
    assert kafka.config() == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": PASSWORD,
        "x": "1",
    }
    assert kafka.origin("sasl.password") == "KAFKA_SASL_PASSWORD"
    assert kafka.origin("security.protocol") == "kafka.security.protocol"
    assert kafka.origin("ssl.ca.location") == "kafka.ssl.ca.location / KAFKA_SSL_CA_LOCATION"
    assert PASSWORD not in str(env.redacted())


def test_brokers_are_not_a_kafka_property() -> None:
    from chirpflow.errors import ConfigError

    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        settings_from_dict({"kafka": {"bootstrap.servers": "x:1"}})


def test_config_check_masks_kafka_passwords(tmp_path: Path) -> None:
    toml = f'[kafka]\n"security.protocol" = "SASL_SSL"\nssl.key.password = "{PASSWORD}-key"\n'
    out = _cli(["config", "check"], tmp_path, toml, KAFKA_SASL_PASSWORD=PASSWORD)
    assert out.returncode in (0, 1), out.stderr
    assert PASSWORD not in out.stdout + out.stderr
    assert '"KAFKA_SASL_PASSWORD": "****"' in out.stdout
    assert '"ssl.key.password": "****"' in out.stdout
    assert '"security.protocol": "SASL_SSL"' in out.stdout


def test_ingest_run_and_replay_over_tls(
    tmp_path: Path, pg_url: str, tls_bootstrap: str, tls_files: TlsFiles
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [payload(i) for i in range(60)])
    env = dataclasses.replace(env_for(tmp_path, pg_url), kafka_bootstrap_servers=tls_bootstrap)
    kafka = {"security.protocol": "SSL", "ssl.ca.location": str(tls_files.ca)}
    sink = {"enabled": True, "topic": "tls.analyses", "dlq_topic": "tls.dlq"}
    cfg = settings_from_dict(
        {
            **CFG,
            "kafka": kafka,
            "ingest": {"topic": "tls.raw", "dlq_topic": "tls.dlq"},
            "sinks": {"console": False, "kafka": sink},
        }
    )
    connection = env.with_kafka_settings(cfg).kafka
    assert connection is not None
    ensure_topic(connection, "tls.analyses")
    run_ingest(cfg, env, source_spec=f"jsonl:{path}", recovery=False)
    run_job(cfg, env, source_spec="kafka:tls.raw", limit=60, recovery=False, live=False)
    assert scalar(pg_url, "SELECT count(DISTINCT tweet_id) FROM analyses") == 60
    c = offsets.consumer(connection)  # [sinks.kafka] wrote over TLS too
    try:
        written = (
            offsets.end_offset(c, "tls.analyses", 0) - offsets.watermarks(c, "tls.analyses", 0)[0]
        )
    finally:
        c.close()
    assert written >= 60
    _, ranges = run_replay(cfg, env, "tls.raw", ReplayRange(from_beginning=True), live=False)
    assert sum(e - s for s, e in ranges.values()) == 60


def test_doctor_says_ok_over_tls(tmp_path: Path, tls_bootstrap: str, tls_files: TlsFiles) -> None:
    toml = (
        '[analyzer]\nkind = "offline"\n'
        f'[kafka]\nsecurity.protocol = "SSL"\nssl.ca.location = "{tls_files.ca}"\n'
    )
    out = _cli(["doctor"], tmp_path, toml, KAFKA_BOOTSTRAP_SERVERS=tls_bootstrap)
    assert out.returncode == 0, out.stdout + out.stderr
    assert any(line.startswith("ok   kafka") for line in out.stdout.splitlines()), out.stdout


def test_untrusted_certificate_is_one_line_naming_the_ca_setting(
    tmp_path: Path, tls_bootstrap: str
) -> None:
    toml = '[kafka]\nsecurity.protocol = "SSL"\n'  # no ssl.ca.location: our CA is unknown
    out = _cli(
        ["ingest", "--limit", "1", "--source", "synthetic"],
        tmp_path,
        toml,
        KAFKA_BOOTSTRAP_SERVERS=tls_bootstrap,
    )
    assert out.returncode in (2, 3), out.stderr
    line = _one_clean_line(out.stderr)
    assert "not trusted" in line and "kafka.ssl.ca.location" in line, line


def test_wrong_password_is_one_line_naming_the_variable(
    tmp_path: Path, sasl_broker: EmbeddedKafka
) -> None:
    out = _cli(
        ["ingest", "--limit", "1", "--source", "synthetic"],
        tmp_path,
        '[kafka]\nsasl.mechanism = "SCRAM-SHA-512"\n',
        KAFKA_BOOTSTRAP_SERVERS=sasl_broker.bootstrap,
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME="chirpflow",
        KAFKA_SASL_PASSWORD=PASSWORD,
    )
    assert out.returncode in (2, 3), out.stderr
    line = _one_clean_line(out.stderr)
    assert "authentication failed" in line and "KAFKA_SASL_PASSWORD" in line, line
    assert "kafka.sasl.mechanism" in line, line
    assert PASSWORD not in out.stdout + out.stderr


def test_plaintext_client_of_a_tls_broker_is_told_to_set_the_protocol(
    tmp_path: Path, tls_bootstrap: str
) -> None:
    out = _cli(
        ["ingest", "--limit", "1", "--source", "synthetic", "--wait-for-services", "1s"],
        tmp_path,
        "",
        KAFKA_BOOTSTRAP_SERVERS=tls_bootstrap,
    )
    assert out.returncode == 3, out.stderr
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")][-1]
    assert "security.protocol" in line and "KAFKA_SECURITY_PROTOCOL" in line, out.stderr
    assert "Traceback" not in out.stderr and "rdkafka" not in out.stderr, out.stderr


def test_unknown_kafka_property_is_one_line_naming_it(tmp_path: Path, tls_bootstrap: str) -> None:
    out = _cli(
        ["ingest", "--limit", "1", "--source", "synthetic"],
        tmp_path,
        '[kafka]\n"sasl.mechanismz" = "PLAIN"\n',
        KAFKA_BOOTSTRAP_SERVERS=tls_bootstrap,
    )
    assert out.returncode == 2, out.stderr
    line = _one_clean_line(out.stderr)
    assert "bad [kafka] setting" in line and "sasl.mechanismz" in line, line
