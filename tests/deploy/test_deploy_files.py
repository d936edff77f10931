"""The Dockerfile, docker-compose file and Kubernetes manifests: linted and validated."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

from chirpflow.settings import load_settings, settings_from_dict
from tests.deploy.kustomize import render

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30"


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
    for name in ("ingest", "chirpflow"):
        svc = services[name]
        env = svc["environment"]
        assert urlparse(env["DATABASE_URL"]).hostname in services
        assert urlparse(env["REDIS_URL"]).hostname in services
        assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] in services
        assert set(svc["depends_on"]) <= set(services)
        assert (ROOT / svc["build"] / "Dockerfile").is_file()
        mounted = svc["volumes"][0].split(":")[0]
        load_settings(str(ROOT / mounted))  # the config it mounts is valid


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_kubernetes_overlays_render_to_valid_objects(overlay: str) -> None:
    docs = render(ROOT / "k8s" / "overlays" / overlay)
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        [
            "StatefulSet",
            "Service",
            "Service",
            "ServiceMonitor",
            "ConfigMap",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ServiceAccount",
        ]
    )
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com"):
            continue  # a CRD: no upstream schema; checked below
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    by_kind: dict[str, Any] = {d["kind"]: d for d in docs}
    sts = by_kind["StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["BYTEWAX_REPLICAS"] == str(sts["spec"]["replicas"])  # overlay kept them in step
    assert pod["securityContext"]["runAsNonRoot"] is True
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/chirpflow", "/tmp"} <= mounts  # writable where Bytewax and Python write
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    monitor = by_kind["ServiceMonitor"]
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    metrics_svc = next(
        d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "chirpflow-metrics"
    )
    assert (
        monitor["spec"]["selector"]["matchLabels"].items()
        <= metrics_svc["metadata"]["labels"].items()
    )
    toml = by_kind["ConfigMap"]["data"]["chirpflow.toml"]
    mounted = settings_from_dict(tomllib.loads(toml))  # the mounted pipeline config is valid
    # SIGTERM ends the pod within stop_timeout; Kubernetes waits that long plus a margin
    stop_s = mounted.pipeline.stop_timeout.total_seconds()
    assert stop_s + 10 <= pod["terminationGracePeriodSeconds"] <= stop_s + 60
    assert all(d["metadata"].get("namespace") for d in docs)
