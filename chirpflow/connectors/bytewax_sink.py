"""Bytewax adapter: a stateless sink partition per worker around a batch writer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from bytewax.outputs import DynamicSink, StatelessSinkPartition

X = TypeVar("X")


class BatchWriter(Protocol[X]):
    def write(self, items: list[X]) -> object: ...

    def close(self) -> None: ...


class _Partition(StatelessSinkPartition[X], Generic[X]):
    def __init__(self, writer: BatchWriter[X]) -> None:
        self._writer = writer

    def write_batch(self, items: list[X]) -> None:
        self._writer.write(items)

    def close(self) -> None:
        self._writer.close()


class WriterSink(DynamicSink[X], Generic[X]):
    """Builds one writer per worker with ``factory(worker_index, worker_count)``."""

    def __init__(self, factory: Callable[[int, int], BatchWriter[X]]) -> None:
        self._factory = factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition[X]:
        return _Partition(self._factory(worker_index, worker_count))
