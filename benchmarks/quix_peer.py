"""Quix Streams as a peer, in its own virtual environment created on first use.

quixstreams pins confluent-kafka below chirpflow's, so it cannot share our
environment: ``.bench-venvs/quix`` (gitignored) holds it, and the peer runs
there as ``benchmarks.quix_app`` against the same topic and a fresh database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from chirpflow.connectors.postgres.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench-venvs" / "quix"
REQUIREMENTS = ("quixstreams>=3.20,<4", "psycopg[binary]>=3.2", "orjson>=3.10")


def quix_python() -> Path:
    """The Python of the Quix environment, created (once) when missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return python


def quix_peer(bootstrap: str, url: str, topic: str, n: int) -> dict[str, Any]:
    """Quix consumes ``n`` tweets of ``topic`` into the store at ``url``; tweets/s, CPU/tweet."""
    migrate(url)
    python = quix_python()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as state:
        proc = subprocess.run(
            [str(python), "-m", "benchmarks.quix_app", bootstrap, url, topic, str(n), state],
            capture_output=True,
            text=True,
            env=env,
            cwd=state,
            timeout=1800,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"quix peer failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    return result
