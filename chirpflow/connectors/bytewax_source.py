"""Bytewax adapter: one partition per :class:`RecordReader`, positions in the snapshot."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from chirpflow.connectors.sources.reader import Budget, RecordReader
from chirpflow.model import RawRecord

IDLE_POLL = timedelta(milliseconds=50)


class _ReaderPartition(StatefulSourcePartition[list[RawRecord], Any]):
    """Emits each read as ONE stream item: a list of records."""

    def __init__(
        self,
        reader: RecordReader,
        position: Any,
        batch_size: int,
        budget: Budget,
        stop: threading.Event,
        on_batch: Callable[[str, int], None] | None,
    ) -> None:
        self._reader = reader
        self._position = position
        self._batch_size = batch_size
        self._budget = budget
        self._stop = stop
        self._awake: datetime | None = None
        self._on_batch = on_batch

    def next_batch(self) -> list[list[RawRecord]]:
        if self._stop.is_set() or self._budget.spent:
            raise StopIteration
        granted = self._budget.take(self._batch_size)
        if granted == 0:
            raise StopIteration
        result = self._reader.read(self._position, granted)
        self._budget.give_back(granted - len(result.records))
        self._position = result.position
        if result.exhausted and not result.records:
            raise StopIteration
        if result.records:
            self._awake = None
            if self._on_batch is not None:
                self._on_batch(self._reader.stream, len(result.records))
        else:
            self._awake = result.wait_until or datetime.now(UTC) + IDLE_POLL
            return []
        return [result.records]

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> Any:
        return self._position

    def close(self) -> None:
        self._reader.close()


class ReaderSource(FixedPartitionedSource[list[RawRecord], Any]):
    """All readers of a run; ``limit`` caps records across partitions, ``stop`` ends them."""

    def __init__(
        self,
        readers: Sequence[RecordReader],
        batch_size: int = 1000,
        limit: int | None = None,
        stop: threading.Event | None = None,
        on_batch: Callable[[str, int], None] | None = None,
    ) -> None:
        names = [r.stream for r in readers]
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique: {names}")
        self._readers = {r.stream: r for r in readers}
        self._batch_size = batch_size
        self.budget = Budget(limit)
        self.stop = stop or threading.Event()
        self._on_batch = on_batch

    def list_parts(self) -> list[str]:
        return list(self._readers)

    def build_part(self, step_id: str, for_part: str, resume_state: Any | None) -> _ReaderPartition:
        reader = self._readers[for_part]
        position = reader.start_position() if resume_state is None else resume_state
        return _ReaderPartition(
            reader, position, self._batch_size, self.budget, self.stop, self._on_batch
        )
