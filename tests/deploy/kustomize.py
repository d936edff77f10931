"""A small kustomize renderer for the tests (no kubectl here).

Supports what ``k8s/`` uses: resources (files and bases), namespace, labels,
configMapGenerator (files), images and strategic-merge patches (lists of
objects merged by ``name``). Generated ConfigMap names keep no hash suffix.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


def merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(x, dict) and "name" in x for x in base + patch)
    ):
        out_list = [copy.deepcopy(x) for x in base]
        for item in patch:
            for i, existing in enumerate(out_list):
                if existing["name"] == item["name"]:
                    out_list[i] = merge(existing, item)
                    break
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def render(directory: Path) -> list[dict[str, Any]]:
    k = yaml.safe_load((directory / "kustomization.yaml").read_text())
    out: list[dict[str, Any]] = []
    for res in k.get("resources", []):
        target = directory / res
        out += render(target) if target.is_dir() else _docs(target)
    for gen in k.get("configMapGenerator", []):
        data = {Path(f).name: (directory / f).read_text() for f in gen.get("files", [])}
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": gen["name"]},
                "data": data,
            }
        )
    for p in k.get("patches", []):
        patch = _docs(directory / p["path"])[0]
        for i, doc in enumerate(out):
            same = (
                doc["kind"] == patch["kind"]
                and doc["metadata"]["name"] == patch["metadata"]["name"]
            )
            if same:
                out[i] = merge(doc, patch)
    for img in k.get("images", []):
        for doc in out:
            for c in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                if c["image"].split(":")[0] == img["name"]:
                    c["image"] = f"{img.get('newName', img['name'])}:{img['newTag']}"
    for pairs in k.get("labels", []):
        for doc in out:
            doc["metadata"].setdefault("labels", {}).update(pairs["pairs"])
    if "namespace" in k:
        for doc in out:
            doc["metadata"]["namespace"] = k["namespace"]
    return out
