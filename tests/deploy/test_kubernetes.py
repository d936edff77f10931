"""k8s/ rendered by the real kustomize (`kubectl kustomize`) and validated strictly.

Built-in kinds are checked against the Kubernetes 1.30 schemas; the
prometheus-operator objects against models generated from its CRDs, with no
field the CRD does not know.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as prom

from chirpflow.settings import settings_from_dict

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30"
CRDS: dict[str, Any] = {
    "ServiceMonitor": prom.ServiceMonitor,
    "PodMonitor": prom.PodMonitor,
    "PrometheusRule": prom.PrometheusRule,
}
WORKLOADS = ("StatefulSet", "Deployment")
OVERLAYS = ["dev", "prod"]


def _kubectl() -> str:
    tool = shutil.which("kubectl")
    assert tool, "kubectl is missing: `make test` installs Debian's kubectl"
    return tool


def render(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [_kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _validate_crd(doc: dict[str, Any]) -> None:
    """Parsed by the CRD's model, and nothing in it the model dropped as unknown."""
    model = CRDS[doc["kind"]].model_validate(doc)
    again = _strip_none(model.model_dump(by_alias=True, exclude_unset=True, mode="json"))
    assert again == doc, f"{doc['kind']} has fields its CRD does not define"


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(ROOT / "k8s" / "overlays" / request.param)


def _by(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in _by(docs, kind) if d["metadata"]["name"] == name]
    return doc


def test_every_object_is_valid_for_kubernetes_and_its_crd(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = overlay
    kinds = sorted(d["kind"] for d in docs)
    expected = [
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "StatefulSet",
        "Deployment",
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
        "Service",
        "Service",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "NetworkPolicy",
        "NetworkPolicy",
    ]
    if name == "prod":
        expected.append("Ingress")
    assert kinds == sorted(expected)
    for doc in docs:
        if doc["kind"] in CRDS:
            _validate_crd(doc)
        else:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_a_fresh_cluster_gets_its_namespace_and_everything_lives_in_it(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    (namespace,) = _by(docs, "Namespace")
    ns = namespace["metadata"]["name"]
    assert docs[0]["kind"] == "Namespace"  # kustomize orders it first for `apply -k`
    assert all(d["metadata"]["namespace"] == ns for d in docs if d["kind"] != "Namespace")


def test_every_workload_is_probed_non_root_and_read_only(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    assert {w["metadata"]["name"] for w in workloads} == {
        "chirpflow",
        "chirpflow-ingest",
        "chirpflow-api",
    }
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            ports = {p["name"] for p in c["ports"]}
            for probe in ("livenessProbe", "readinessProbe"):
                assert c[probe]["httpGet"]["port"] in ports, (w["metadata"]["name"], probe)
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
            assert "/tmp" in {m["mountPath"] for m in c["volumeMounts"]}


def test_a_config_change_rolls_the_pods(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    (config,) = _by(docs, "ConfigMap")
    assert re.fullmatch(r"chirpflow-config-[a-z0-9]{10}", config["metadata"]["name"])
    for w in (d for d in docs if d["kind"] in WORKLOADS):
        volumes = w["spec"]["template"]["spec"]["volumes"]
        names = {v["configMap"]["name"] for v in volumes if "configMap" in v}
        assert names == {config["metadata"]["name"]}
    settings = settings_from_dict(tomllib.loads(config["data"]["chirpflow.toml"]))
    # SIGTERM ends a pod within stop_timeout; Kubernetes waits that long plus a margin
    stop_s = settings.pipeline.stop_timeout.total_seconds()
    for w in (d for d in docs if d["kind"] in WORKLOADS):
        assert (
            stop_s + 10
            <= w["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            <= stop_s + 60
        )
    assert settings.sources, "ingest needs sources to write the topic the dataflow reads"
    assert settings.ingest.topic == "tweets.raw"
    sts = _one(docs, "StatefulSet", "chirpflow")
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--source") + 1] == "kafka"
    ingest = _one(docs, "Deployment", "chirpflow-ingest")
    assert ingest["spec"]["template"]["spec"]["containers"][0]["args"][0] == "ingest"


def test_services_and_monitors_select_what_exists(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    pods = [
        (d["spec"]["template"]["metadata"]["labels"], d["spec"]["template"]["spec"]["containers"])
        for d in docs
        if d["kind"] in WORKLOADS
    ]

    def selected(selector: dict[str, str]) -> list[Any]:
        return [cs for labels, cs in pods if selector.items() <= labels.items()]

    for svc in _by(docs, "Service"):
        (containers,) = selected(svc["spec"]["selector"])
        names = {p["name"] for c in containers for p in c["ports"]}
        assert all(p["targetPort"] in names for p in svc["spec"]["ports"])
    releases = {d["metadata"]["labels"]["release"] for d in docs if d["kind"] in CRDS}
    assert len(releases) == 1  # Prometheus finds monitors and rules by the same label
    monitor = _one(docs, "ServiceMonitor", "chirpflow")
    (target,) = [
        s
        for s in _by(docs, "Service")
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in target["spec"]["ports"]}
    pod_monitor = _one(docs, "PodMonitor", "chirpflow-ingest")
    (containers,) = selected(pod_monitor["spec"]["selector"]["matchLabels"])
    port = pod_monitor["spec"]["podMetricsEndpoints"][0]["port"]
    assert port in {p["name"] for c in containers for p in c["ports"]}
    sts = _one(docs, "StatefulSet", "chirpflow")
    env = {
        e["name"]: e.get("value") for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["BYTEWAX_REPLICAS"] == str(sts["spec"]["replicas"])  # overlay kept them in step


def test_the_prometheus_rule_is_the_rules_file() -> None:
    rules = yaml.safe_load((ROOT / "monitoring" / "alerts.rules.yml").read_text())
    for name in OVERLAYS:
        rule = _one(render(ROOT / "k8s" / "overlays" / name), "PrometheusRule", "chirpflow")
        assert rule["spec"]["groups"] == rules["groups"]
    check = subprocess.run(
        [sys.executable, str(ROOT / "monitoring" / "render_prometheusrule.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
