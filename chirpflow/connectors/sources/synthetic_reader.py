"""A reader over the synthetic generator, optionally paced to a rate."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.connectors.sources.synthetic import SyntheticTweets
from chirpflow.model import RawRecord, make_origin


class SyntheticReader:
    """Endless deterministic tweets; position is the next sequence number."""

    def __init__(
        self,
        source: str,
        generator: SyntheticTweets,
        rate: float = 0.0,
        partition: int = 0,
    ) -> None:
        self.source = source
        self.generator = generator
        self.rate = rate
        self._stream = f"{source}:{partition}"
        self._t0: float | None = None
        self._emitted = 0

    @property
    def stream(self) -> str:
        return self._stream

    def start_position(self) -> int:
        return 0

    def read(self, position: int, max_items: int) -> ReadResult:
        n = max_items
        if self.rate > 0:
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now
            allowed = int((now - self._t0) * self.rate) + 1 - self._emitted
            n = max(0, min(n, allowed))
            if n == 0:
                wait = (self._emitted + 1) / self.rate - (now - self._t0)
                return ReadResult(
                    [], position, wait_until=datetime.now(UTC) + timedelta(seconds=max(wait, 0.01))
                )
        fetched_at = datetime.now(UTC)
        payloads = self.generator.batch(position, n)
        records = [
            RawRecord(
                origin=make_origin(self._stream, position + i),
                source=self.source,
                payload=p,
                fetched_at=fetched_at,
            )
            for i, p in enumerate(payloads)
        ]
        self._emitted += len(records)
        return ReadResult(records, position + len(records))

    def close(self) -> None:
        return None
