"""What every embedded service offers: start() -> address, stop(), and ``with``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType


class EmbeddedService(ABC):
    @abstractmethod
    def start(self) -> str:
        """Start (or find) the service; returns how clients reach it."""

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
