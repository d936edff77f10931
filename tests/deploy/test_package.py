"""The built wheel installs one import root: ``chirpflow``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_has_one_top_level_package(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = tmp_path.glob("chirpflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"chirpflow"}
    for sub in (
        "flows/cli.py",
        "connectors/postgres/migrations/0001_init.sql",
        "operators/normalize.py",
        "py.typed",
        "flows/ui/static/index.html",
        "flows/ui/static/app.js",
        "flows/ui/static/charts.js",
        "flows/ui/static/app.css",
    ):
        assert f"chirpflow/{sub}" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "chirpflow = chirpflow.flows.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
