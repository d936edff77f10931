"""Every long-running command answers the probes its Kubernetes workload and compose service use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from chirpflow.connectors.embedded.kafka import EmbeddedKafka
from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.migrate import migrate
from chirpflow.flows.api import create_app
from chirpflow.settings import JobSettings

CLI = [sys.executable, "-m", "chirpflow.flows.cli"]


def _until_ready(url: str, proc: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            ready = httpx.get(f"{url}/readyz", timeout=2)
            if ready.status_code == 200:
                return ready
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling an HTTP endpoint: the condition is its answer
    raise AssertionError("never ready")


def test_ingest_serves_health_readiness_and_metrics(
    tmp_path: Path, kafka_broker: EmbeddedKafka
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
        CHIRPFLOW_HOME=str(tmp_path / "home"),
        CHIRPFLOW_METRICS_PORT=str(port),  # as the image and the k8s Deployment set it
    )
    proc = subprocess.Popen(
        [*CLI, "ingest", "--source", "synthetic", "--rate", "200"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        ready = _until_ready(url, proc)
        assert ready.json()["checks"]["kafka"] == "ok"
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert "chirpflow_up 1.0" in httpx.get(f"{url}/metrics").text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 143


def test_the_api_answers_its_probes_without_a_key(pg_url: str) -> None:
    migrate(pg_url)
    store = JobStore(pg_url)
    try:
        client = TestClient(create_app(store, JobSettings()))
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"ready": True}
        assert client.get("/v1/jobs").status_code == 401  # everything else still needs a key
    finally:
        store.close()
    # the database gone: not ready, still alive
    client = TestClient(create_app(store, JobSettings()))
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
