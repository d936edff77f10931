"""Static promises: ruff- and mypy-clean, and imports pointing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> packages it may import from (besides itself and third parties)
ALLOWED = {
    "chirpflow": set(),
    "connectors": {"chirpflow"},
    "operators": {"chirpflow"},
    "flows": {"chirpflow", "connectors", "operators"},
}
OURS = set(ALLOWED)
# domain logic never touches the engine; only these adapters and flows/ do
BYTEWAX_ADAPTERS = {
    "connectors/bytewax_source.py",
    "connectors/bytewax_sink.py",
    "connectors/bytewax_flushing_sink.py",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        found = _imports(path)
        bad = (found & OURS) - ALLOWED[package] - {package}
        assert not bad, f"{rel} imports {sorted(bad)}"
        if package in ("chirpflow", "operators", "connectors") and rel not in BYTEWAX_ADAPTERS:
            assert "bytewax" not in found, f"{rel} imports bytewax"


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
