"""The Dockerfile and docker-compose file: linted and validated (k8s/: test_kubernetes.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import yaml

from chirpflow.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(
        Path(__import__("sys").executable).parent / "hadolint"
    )
    out = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dockerfile_is_slim_non_root_pinned_and_checks_health() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.12-slim"] * 2
    assert re.search(r"^USER 10001", text, re.M) and "HEALTHCHECK" in text
    assert "requirements.lock" in text
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    lock = {ln.split("==")[0].lower().replace("_", "-") for ln in lines if "==" in ln}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name = re.split(r"[\[<>=!~ ]", dep, maxsplit=1)[0].lower().replace("_", "-")
        assert name in lock, f"{name} is not pinned in requirements.lock"


def test_compose_services_reference_each_other() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    for name in ("ingest", "chirpflow", "api"):
        svc = services[name]
        env = svc["environment"]
        assert urlparse(env["DATABASE_URL"]).hostname in services
        assert urlparse(env["REDIS_URL"]).hostname in services
        assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] in services
        assert set(svc["depends_on"]) <= set(services)
        assert (ROOT / svc["build"] / "Dockerfile").is_file()
        mounted = svc["volumes"][0].split(":")[0]
        load_settings(str(ROOT / mounted))  # the config it mounts is valid


def _served_port(command: list[str]) -> int:
    """The port a chirpflow command serves /healthz on in the image."""
    if command[0] == "api":
        return int(command[command.index("--port") + 1])
    assert command[0] in ("run", "ingest"), f"{command[0]} serves no health endpoint"
    image_env = re.search(r"CHIRPFLOW_METRICS_PORT=(\d+)", (ROOT / "Dockerfile").read_text())
    assert image_env
    return int(image_env.group(1))  # run and ingest serve the ops server there


def test_every_compose_health_check_asks_what_its_service_serves() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    image_check = re.search(
        r"^HEALTHCHECK .*\n\s+CMD (.*)$", (ROOT / "Dockerfile").read_text(), re.M
    )
    assert image_check and "CHIRPFLOW_METRICS_PORT" in image_check.group(1)
    for name, svc in services.items():
        if "build" not in svc:
            continue
        port = _served_port(svc["command"])
        check = " ".join(svc.get("healthcheck", {}).get("test", []))
        if check:  # its own check: the port it serves, on /healthz
            assert f"127.0.0.1:{port}/healthz" in check, name
        else:  # the image's check: the metrics port, which run and ingest serve
            assert svc["command"][0] in ("run", "ingest"), name
