"""What the flow's sinks hand their writers: plain outcomes, metered.

Pass-through lists (duplicates, dead letters) are expanded into single
outcomes. :class:`Flattening` serves a plain writer; :class:`StagedFlattening`
keeps a staged writer's ``prepare`` / ``commit`` split, so the flushing sink
can prepare the next batch while the last one commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chirpflow import metrics
from chirpflow.connectors.bytewax_flushing_sink import StagedWriter
from chirpflow.connectors.bytewax_sink import BatchWriter
from chirpflow.model import DeadLetter, Duplicate, Outcome

Item = Outcome | list[Duplicate | DeadLetter]


def flat_outcomes(items: list[Item]) -> list[Outcome]:
    flat: list[Outcome] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def _metered(name: str, store: Callable[[], object], rows: int) -> None:
    """``store()``, counted in the sink's error, latency and row metrics."""
    started = time.perf_counter()
    try:
        store()
    except Exception:
        metrics.SINK_ERRORS.labels(name).inc()
        raise
    metrics.SINK_LATENCY.labels(name).observe(time.perf_counter() - started)
    metrics.SINK_ROWS.labels(name).inc(rows)


class Flattening:
    """Hands a writer plain outcomes."""

    def __init__(self, writer: BatchWriter[Outcome], name: str) -> None:
        self.writer = writer
        self.name = name

    def write(self, items: list[Item]) -> None:
        flat = flat_outcomes(items)
        _metered(self.name, lambda: self.writer.write(flat), len(flat))

    def close(self) -> None:
        self.writer.close()


class _Prepared:
    __slots__ = ("items", "rows")

    def __init__(self, rows: object, items: int) -> None:
        self.rows = rows
        self.items = items


class StagedFlattening:
    """Hands a staged writer plain outcomes, and meters its commits."""

    def __init__(self, writer: StagedWriter, name: str) -> None:
        self.writer = writer
        self.name = name
        self.commit_threads = int(getattr(writer, "commit_threads", 1))  # see FlushingSink

    def prepare(self, items: list[Item]) -> _Prepared:
        flat = flat_outcomes(items)
        try:
            return _Prepared(self.writer.prepare(flat), len(flat))
        except Exception:
            metrics.SINK_ERRORS.labels(self.name).inc()
            raise

    def commit(self, prepared: Any) -> None:
        _metered(self.name, lambda: self.writer.commit(prepared.rows), prepared.items)

    def write(self, items: list[Item]) -> None:
        self.commit(self.prepare(items))

    def close(self) -> None:
        self.writer.close()
