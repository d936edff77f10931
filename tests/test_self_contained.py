"""The suite runs from a plain clone: no test reads data from outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# ../shared/data/... (the folder beside the repository on the maintainers' machine)
_OUTSIDE = re.compile(r"""\.\./shared|parents?\[?\d*\]?\s*/\s*["']shared["']|["']shared["']\s*/""")


def test_no_test_reads_data_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{n}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _OUTSIDE.search(line)
    ]
    assert offenders == [], "tests must make their own data:\n" + "\n".join(offenders)
