"""Bytewax adapter: a sink that writes in a background thread and flushes at snapshots.

``write_batch`` hands items to a writer thread (bounded queue, so memory stays
bounded and the flow waits when the database is slow), letting the flow go
on while PostgreSQL works. ``snapshot()`` — called when an epoch closes —
blocks until every handed-over item is written, so a recovery snapshot never
covers items that are not yet stored: the flush contract that keeps output
at-least-once.

A :class:`StagedWriter` (one with ``prepare`` and ``commit``) is pipelined:
the writer thread prepares batch k+1 (e.g. flattens it into rows) while a
committer thread stores batch k (``commit_threads`` committers, if the writer
says it takes that many commits at once), and the queue items of a batch are
acknowledged only once its ``commit`` returned, so ``snapshot()`` still waits
for every commit. At most one prepared batch waits for a committer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable
from zlib import adler32

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

from chirpflow.connectors.bytewax_sink import BatchWriter

X = TypeVar("X")
_STOP = object()


@runtime_checkable
class StagedWriter(Protocol):
    """A writer whose work splits into a CPU part and a storing part."""

    def prepare(self, items: list[Any]) -> object:
        """Everything that can be done before storing (no I/O needed)."""
        ...

    def commit(self, prepared: Any) -> object:
        """Store a prepared batch; returns when it is durable."""
        ...

    def close(self) -> None: ...


class _Partition(StatefulSinkPartition[X, None], Generic[X]):
    def __init__(self, writer: BatchWriter[X], max_pending: int, max_items: int) -> None:
        self._writer = writer
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._max_items = max_items
        self._error: BaseException | None = None
        self._staged = writer if isinstance(writer, StagedWriter) else None
        # prepared batches for the committer: (prepared, queue items it acknowledges)
        self._ready: queue.Queue[tuple[Any, int]] = queue.Queue(maxsize=1)
        self._threads = [threading.Thread(target=self._loop, name="sink-writer", daemon=True)]
        # a staged writer may take several commits at once (e.g. one per connection)
        self._committers = int(getattr(writer, "commit_threads", 1)) if self._staged else 0
        for n in range(self._committers):
            self._threads.append(
                threading.Thread(target=self._commit_loop, name=f"sink-committer{n}", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def _take(self) -> tuple[list[X], int, bool] | None:
        """The next batch: queued items up to ``max_items``; None at the stop."""
        first = self._queue.get()
        if first is _STOP:
            return None
        batch: list[X] = list(first)
        taken = 1
        while len(batch) < self._max_items:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP:  # acknowledged by _stopped()
                return batch, taken, True
            taken += 1
            batch.extend(more)
        return batch, taken, False

    def _loop(self) -> None:
        while True:
            got = self._take()
            if got is None:
                self._stopped()
                return
            batch, taken, stop_after = got
            if self._staged is not None:
                self._prepare(self._staged, batch, taken)
            else:
                try:
                    if self._error is None:
                        self._writer.write(batch)
                except BaseException as err:  # surfaced on the flow's thread
                    self._error = err
                finally:
                    self._done(taken)
            if stop_after:
                self._stopped()
                return

    def _prepare(self, writer: StagedWriter, batch: list[X], taken: int) -> None:
        prepared: Any = None
        if self._error is None:
            try:
                prepared = writer.prepare(batch)
            except BaseException as err:  # surfaced on the flow's thread
                self._error = err
        self._ready.put((prepared, taken))  # acknowledged by the committer

    def _commit_loop(self) -> None:
        assert self._staged is not None
        while True:
            prepared, taken = self._ready.get()
            if prepared is _STOP:
                self._done(taken)
                return
            try:
                if self._error is None and prepared is not None:
                    self._staged.commit(prepared)
            except BaseException as err:  # surfaced on the flow's thread
                self._error = err
            finally:
                self._done(taken)

    def _stopped(self) -> None:
        """The writer thread took the stop: the committer ends after what it holds."""
        if self._staged is not None:
            for n in range(self._committers):  # the stop's queue item is acknowledged once
                self._ready.put((_STOP, 1 if n == 0 else 0))
        else:
            self._done(1)

    def _done(self, taken: int) -> None:
        for _ in range(taken):
            self._queue.task_done()

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
        for thread in self._threads:
            thread.join()
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
