"""The contract between a pure-Python reader and the Bytewax source adapter.

A reader knows one stream (a source and one of its partitions), reads from a
position it is given and says where to continue. Positions are plain
picklable values, stored in the Bytewax snapshot, so a restart neither skips
nor repeats.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chirpflow.model import RawRecord


@dataclass(slots=True)
class ReadResult:
    records: list[RawRecord]
    position: Any
    exhausted: bool = False  # True: no more records will ever come from this stream
    wait_until: datetime | None = None  # nothing to read before this time


class RecordReader(Protocol):
    @property
    def stream(self) -> str:
        """Unique name of the stream, ``source:partition``."""
        ...

    def start_position(self) -> Any: ...

    def read(self, position: Any, max_items: int) -> ReadResult: ...

    def close(self) -> None: ...


@dataclass
class Budget:
    """How many records all partitions of a run may still emit (``--limit``)."""

    remaining: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, wanted: int) -> int:
        if self.remaining is None:
            return wanted
        with self._lock:
            granted = max(0, min(wanted, self.remaining))
            self.remaining -= granted
            return granted

    def give_back(self, unused: int) -> None:
        if self.remaining is not None and unused > 0:
            with self._lock:
                self.remaining += unused

    @property
    def spent(self) -> bool:
        return self.remaining is not None and self.remaining <= 0
