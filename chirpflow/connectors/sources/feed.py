"""Items made by a background thread, taken by the Bytewax worker without blocking.

The readers that talk HTTP or SQL (polled APIs, the X stream, the job queue)
do their I/O on their own thread; ``read`` only takes what is ready.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Feed(Generic[T]):
    def __init__(self, name: str, produce: Callable[[], None]) -> None:
        self._name = name
        self._produce = produce
        self._ready: deque[T] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # producers wait on it, so close interrupts them
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start the producer thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._produce, daemon=True, name=self._name)
            self._thread.start()

    def put(self, items: Iterable[T]) -> None:
        with self._lock:
            self._ready.extend(items)

    def take(self, n: int) -> list[T]:
        with self._lock:
            return [self._ready.popleft() for _ in range(min(n, len(self._ready)))]

    def empty(self) -> bool:
        with self._lock:
            return not self._ready

    def stop(self, join_s: float = 5.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=join_s)
