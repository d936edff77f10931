"""Bytewax stateful step: many chunks in flight on a background event loop.

Bytewax has no async operators, so chunks are handed to an asyncio loop on
another thread and finished ones are emitted as they complete (polled every
``POLL``), while the worker keeps reading, deduplicating and chunking. At
most ``max_in_flight`` chunks are out at once; past that the worker waits, so
memory stays bounded. Chunks in flight are the snapshot: after a crash they
are submitted again.

The step is keyed by spread partition (flows/steps/spread.py), one logic per
partition, each holding at most ``max_in_flight`` chunks; the LLM calls of all
partitions of a process share one ``gate`` (a semaphore of ``max_in_flight``),
so a process never has more than ``max_in_flight`` calls out at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import UTC, datetime, timedelta
from typing import Any

from bytewax.operators import StatefulBatchLogic

from chirpflow import metrics
from chirpflow.model import Chunk, ChunkResult, DeadLetter, Duplicate
from chirpflow.operators.chunk_analysis import ChunkAnalyzer
from chirpflow.operators.llm.loop import BackgroundLoop

POLL = timedelta(milliseconds=50)
Passing = list[Duplicate | DeadLetter]


async def _gated(gate: asyncio.Semaphore | None, coro: Any) -> ChunkResult:
    if gate is None:
        result: ChunkResult = await coro
        return result
    async with gate:
        result = await coro
        return result


class InFlightLogic(StatefulBatchLogic[Chunk | Passing, ChunkResult | Passing, list[Chunk]]):
    def __init__(
        self,
        analyzer: ChunkAnalyzer,
        loop: BackgroundLoop,
        max_in_flight: int,
        resume: list[Chunk] | None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.loop = loop
        self.max_in_flight = max_in_flight
        self.gate = gate
        self.pending: dict[concurrent.futures.Future[ChunkResult], Chunk] = {}
        for chunk in resume or []:
            self._submit(chunk)

    def _submit(self, chunk: Chunk) -> None:
        coro = _gated(self.gate, self.analyzer.run_async(chunk))
        self.pending[asyncio.run_coroutine_threadsafe(coro, self.loop.loop)] = chunk
        metrics.PENDING_CHUNKS.inc()

    def _collect(self, wait_for: Any = None) -> list[ChunkResult | Passing]:
        if wait_for is not None and self.pending:
            concurrent.futures.wait(self.pending, return_when=wait_for)
        out: list[ChunkResult | Passing] = []
        for fut in [f for f in self.pending if f.done()]:
            chunk = self.pending.pop(fut)
            metrics.PENDING_CHUNKS.dec()
            try:
                out.append(fut.result())
            except Exception as err:  # run_async already guards the analyzer itself
                out.append(self.analyzer.failed(chunk, f"{type(err).__name__}: {err}"))
        return out

    def on_batch(self, values: list[Chunk | Passing]) -> tuple[list[ChunkResult | Passing], bool]:
        out: list[ChunkResult | Passing] = []
        for item in values:
            if not isinstance(item, Chunk):
                out.append(item)
                continue
            while len(self.pending) >= self.max_in_flight:
                out.extend(self._collect(concurrent.futures.FIRST_COMPLETED))
            self._submit(item)
        out.extend(self._collect())
        return out, StatefulBatchLogic.RETAIN

    def on_notify(self) -> tuple[list[ChunkResult | Passing], bool]:
        return self._collect(), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[list[ChunkResult | Passing], bool]:
        return self._collect(concurrent.futures.ALL_COMPLETED), StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        return datetime.now(UTC) + POLL if self.pending else None

    def snapshot(self) -> list[Chunk]:
        return list(self.pending.values())
