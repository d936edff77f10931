"""Write k8s/base/prometheusrule.yaml from monitoring/alerts.rules.yml.

The Prometheus rules file stays the single source (promtool checks and unit
tests it); the PrometheusRule object carries the same groups for
prometheus-operator. `make k8s-rules` regenerates it; `--check` exits 1 when
the committed object differs from what the rules file gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "monitoring" / "alerts.rules.yml"
TARGET = ROOT / "k8s" / "base" / "prometheusrule.yaml"
HEADER = (
    "# Generated from monitoring/alerts.rules.yml by `make k8s-rules`: edit that file,\n"
    "# not this one. kube-prometheus-stack selects rules by its release label.\n"
)


def render() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "chirpflow", "labels": {"release": "kube-prometheus-stack"}},
        "spec": {"groups": groups},
    }
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=100)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `make k8s-rules`")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
