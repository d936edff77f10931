"""The suite runs on what the image ships: every pin of requirements.lock is installed."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pin = line.partition("==")
            pins[name] = pin
    return pins


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def test_the_test_environment_is_the_locked_one() -> None:
    pins = _pins()
    assert "bytewax" in pins
    drift = {n: (p, got) for n, p in pins.items() if (got := _installed(n)) != p}
    assert not drift, f"installed versions differ from requirements.lock (run make test): {drift}"
