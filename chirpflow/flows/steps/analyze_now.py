"""Bytewax stateful step: chunks analysed as they come, for CPU-bound analyzers.

It keeps no state of its own (every key is discarded after each call), but it
shares the step id ``analyze`` with :class:`chirpflow.flows.steps.in_flight.InFlightLogic`:
when the job stopped with LLM chunks in flight and is started again with
another analyzer (``--analyzer offline``), those chunks come back here as
resume state and are analysed first, so no tweet is lost with them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bytewax.operators import StatefulBatchLogic

from chirpflow import metrics
from chirpflow.model import Chunk, ChunkResult, DeadLetter, Duplicate
from chirpflow.operators.chunk_analysis import ChunkAnalyzer

Passing = list[Duplicate | DeadLetter]


class AnalyzeNowLogic(StatefulBatchLogic[Chunk | Passing, ChunkResult | Passing, list[Chunk]]):
    def __init__(self, analyzer: ChunkAnalyzer, resume: list[Chunk] | None) -> None:
        self.analyzer = analyzer
        self.left_over = list(resume or [])

    def _run(self, chunk: Chunk) -> ChunkResult:
        started = time.perf_counter()
        result = self.analyzer.run(chunk)
        metrics.ANALYZER_LATENCY.labels(self.analyzer.analyzer.name).observe(
            time.perf_counter() - started
        )
        return result

    def _left_over(self) -> list[ChunkResult | Passing]:
        chunks, self.left_over = self.left_over, []
        return [self._run(c) for c in chunks]

    def on_batch(self, values: list[Chunk | Passing]) -> tuple[list[ChunkResult | Passing], bool]:
        out = self._left_over()
        out.extend(self._run(v) if isinstance(v, Chunk) else v for v in values)
        return out, StatefulBatchLogic.DISCARD

    def on_notify(self) -> tuple[list[ChunkResult | Passing], bool]:
        return self._left_over(), StatefulBatchLogic.DISCARD

    def on_eof(self) -> tuple[list[ChunkResult | Passing], bool]:
        return self._left_over(), StatefulBatchLogic.DISCARD

    def notify_at(self) -> datetime | None:
        return datetime.now(UTC) if self.left_over else None

    def snapshot(self) -> list[Chunk]:
        return list(self.left_over)
