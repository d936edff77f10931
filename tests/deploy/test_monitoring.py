"""Alert rules checked and unit-tested with promtool; the dashboard only uses real metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def _dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((MON / "grafana-dashboard.json").read_text())
    return doc


def _exprs(dash: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def test_dashboard_variables_are_defined_and_every_one_is_used() -> None:
    dash = _dashboard()
    names = [v["name"] for v in dash["templating"]["list"]]
    assert names == ["datasource", "namespace", "job", "instance"]
    used = "\n".join(_exprs(dash)) + json.dumps([p["datasource"] for p in dash["panels"]])
    used += "\n".join(str(v.get("definition", "")) for v in dash["templating"]["list"])
    for name in names:
        assert f"${name}" in used or f"${{{name}}}" in used, f"variable {name} is never used"
    for expr in _exprs(dash):  # every series is filtered by the three variables
        for series in re.findall(r"\bchirpflow_[a-z0-9_]+(\{[^}]*\})?", expr):
            assert all(f'=~"${v}"' in series for v in names[1:]), expr


def test_dashboard_queries_are_valid_promql_and_hide_nothing(tmp_path: Path) -> None:
    dash = _dashboard()
    exprs = _exprs(dash)
    assert not [e for e in exprs if re.search(r"\)\s+or\s+", e)], "an `A or B` hides B"
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": e.replace("$__all", ".*")}
                    for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    (tmp_path / "dash.rules.yml").write_text(json.dumps(rules))
    check = subprocess.run(
        [_promtool(), "check", "rules", "dash.rules.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_dashboard_has_the_panels_operators_look_for() -> None:
    panels = {p["title"]: p for p in _dashboard()["panels"]}
    for title, panel in panels.items():
        if "p50 / p90" in title:
            quantiles = {
                re.findall(r"histogram_quantile\(([\d.]+)", t["expr"])[0] for t in panel["targets"]
            }
            assert quantiles == {"0.5", "0.9"}, title
    lag = panels["Kafka lag per partition (messages)"]["targets"][0]["expr"]
    assert "by (topic, partition)" in lag
    alerts = panels["Alerts sent and failed / s per channel"]["targets"]
    assert [('outcome="sent"' in t["expr"], 'outcome="failed"' in t["expr"]) for t in alerts] == [
        (True, False),
        (False, True),
    ]
    assert all("by (channel)" in t["expr"] for t in alerts)
