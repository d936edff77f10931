"""Alert rules checked and unit-tested with promtool; the dashboard only uses real metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from prometheus_client import REGISTRY

import chirpflow.metrics  # noqa: F401 (registers every chirpflow metric)

ROOT = Path(__file__).resolve().parents[2]
MON = ROOT / "monitoring"


def _promtool() -> str:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: `make test` installs Debian's prometheus package"
    return tool


def test_alert_rules_pass_promtool_check_and_unit_tests() -> None:
    check = subprocess.run(
        [_promtool(), "check", "rules", "alerts.rules.yml"], cwd=MON, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tests = subprocess.run(
        [_promtool(), "test", "rules", "alerts.test.yml"], cwd=MON, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


def _known_names() -> set[str]:
    """Every series name our metrics expose, whether or not a sample exists yet."""
    names: set[str] = set()
    for metric in REGISTRY.collect():
        if not metric.name.startswith("chirpflow_"):
            continue
        if metric.type == "counter":
            names.add(f"{metric.name}_total")
        elif metric.type == "histogram":
            names |= {f"{metric.name}{s}" for s in ("_bucket", "_count", "_sum")}
        else:
            names.add(metric.name)
    return names


def _referenced(text: str) -> set[str]:
    return set(re.findall(r"\bchirpflow_[a-z0-9_]+", text))


def test_dashboard_and_rules_reference_only_metrics_that_exist() -> None:
    known = _known_names()
    dash = json.loads((MON / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = _referenced("\n".join(exprs)) | _referenced((MON / "alerts.rules.yml").read_text())
    unknown = sorted(n for n in used if n not in known)
    assert unknown == []
    assert len(dash["panels"]) >= 20
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dash["panels"])
