"""Static promises: ruff- and mypy-clean, and imports pointing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chirpflow"
# layer -> layers it may import from (besides itself and third parties); the kernel
# is chirpflow's own modules, the other layers its subpackages of the same name
ALLOWED = {
    "kernel": set(),
    "connectors": {"kernel"},
    "operators": {"kernel"},
    "flows": {"kernel", "connectors", "operators"},
}
LAYERS = ("connectors", "operators", "flows")
# domain logic never touches the engine; only these adapters and flows/ do
BYTEWAX_ADAPTERS = {
    "chirpflow/connectors/bytewax_source.py",
    "chirpflow/connectors/bytewax_sink.py",
    "chirpflow/connectors/bytewax_flushing_sink.py",
}


def _layer(module: str) -> str | None:
    """The layer a module name belongs to (None for third parties)."""
    parts = module.split(".")
    if parts[0] != "chirpflow":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "kernel"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(layer: str) -> list[Path]:
    if layer == "kernel":
        return sorted(PACKAGE.glob("*.py"))
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way(layer: str) -> None:
    files = _files(layer)
    assert files, f"no modules found for layer {layer}"
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        found = _imports(path)
        layers = {lay for name in found if (lay := _layer(name)) is not None}
        bad = layers - ALLOWED[layer] - {layer}
        assert not bad, f"{rel} imports from {sorted(bad)}"
        if layer != "flows" and rel not in BYTEWAX_ADAPTERS:
            assert not any(n.split(".")[0] == "bytewax" for n in found), f"{rel} imports bytewax"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_clean() -> None:
    out = _run("ruff", "check", ".")
    assert out.returncode == 0, out.stdout + out.stderr
    out = _run("ruff", "format", "--check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_clean() -> None:
    out = _run("mypy")
    assert out.returncode == 0, out.stdout + out.stderr
