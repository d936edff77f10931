"""Bytewax adapter: a sink that writes in a background thread and flushes at snapshots.

``write_batch`` hands items to a writer thread (bounded queue, so memory stays
bounded and the flow waits when the database is slow), letting the flow go
on while PostgreSQL works. ``snapshot()`` — called when an epoch closes —
blocks until every handed-over item is written, so a recovery snapshot never
covers items that are not yet stored: the flush contract that keeps output
at-least-once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from zlib import adler32

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

from chirpflow.connectors.bytewax_sink import BatchWriter

X = TypeVar("X")
_STOP = object()


class _Partition(StatefulSinkPartition[X, None], Generic[X]):
    def __init__(self, writer: BatchWriter[X], max_pending: int, max_items: int) -> None:
        self._writer = writer
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._max_items = max_items
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="sink-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._queue.task_done()
                return
            batch: list[X] = list(first)
            taken = 1
            stop_after = False
            while len(batch) < self._max_items:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if more is _STOP:
                    stop_after = True
                    break
                batch.extend(more)
            try:
                if self._error is None:
                    self._writer.write(batch)
            except BaseException as err:  # surfaced on the flow's thread
                self._error = err
            finally:
                for _ in range(taken):
                    self._queue.task_done()
            if stop_after:
                return

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"sink writer failed: {self._error}") from self._error

    def write_batch(self, values: list[X]) -> None:
        self._raise()
        if values:
            self._queue.put(values)

    def snapshot(self) -> None:
        self._queue.join()
        self._raise()

    def close(self) -> None:
        self._queue.join()
        self._queue.put(_STOP)
        self._thread.join()
        self._writer.close()
        self._raise()


class FlushingSink(FixedPartitionedSink[X, None], Generic[X]):
    """One writer thread per partition; items arrive as ``(key, value)``."""

    def __init__(
        self,
        factory: Callable[[str], BatchWriter[X]],
        parts: int | Sequence[str] = 1,
        max_pending: int = 8,
        max_items: int = 5000,
    ) -> None:
        self._factory = factory
        self._parts = [str(i) for i in range(parts)] if isinstance(parts, int) else list(parts)
        # an item keyed by a partition's name goes to that partition (Bytewax
        # indexes the sorted partition names), so the partition's owner writes it
        self._index = {name: i for i, name in enumerate(sorted(self._parts))}
        self._max_pending = max_pending
        self._max_items = max_items

    def list_parts(self) -> list[str]:
        return self._parts

    def part_fn(self, item_key: str) -> int:
        at = self._index.get(item_key)
        return adler32(item_key.encode()) if at is None else at

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _Partition[X]:
        return _Partition(self._factory(for_part), self._max_pending, self._max_items)
