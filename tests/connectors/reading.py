"""Reading a source's reader the way the Bytewax adapter does, for tests."""

from __future__ import annotations

import time
from typing import Any

from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.model import DeadLetter, RawRecord, Tweet
from chirpflow.operators.normalize import normalize


def read_records(
    reader: RecordReader, position: Any, want: int, timeout: float = 10.0
) -> tuple[list[RawRecord], Any]:
    """Read until ``want`` records arrived (or the reader stopped, or time ran out)."""
    out: list[RawRecord] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        result = reader.read(position, 1000)
        position = result.position
        out += result.records
        if result.exhausted:
            break
        if not result.records:
            time.sleep(0.02)  # the reader's own poll: nothing is ready yet
    return out, position


def read_normalized(
    reader: RecordReader, position: Any, want: int, timeout: float = 10.0
) -> tuple[list[Tweet | DeadLetter], Any]:
    """:func:`read_records`, each record normalized (a tweet or a dead letter)."""
    records, position = read_records(reader, position, want, timeout)
    return [normalize(r) for r in records], position


def texts(items: list[Tweet | DeadLetter]) -> list[str]:
    return [t.text for t in items if isinstance(t, Tweet)]
