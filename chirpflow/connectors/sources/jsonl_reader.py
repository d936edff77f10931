"""A reader over a JSON Lines file; position is ``(byte offset, records read)``.

Origins are ``SOURCE:FILE:N`` with N the 1-based number of the record in
the file: the line an editor shows when the file has no blank lines (blank
lines are skipped and not numbered, so the store's count of arrivals per
stream stays gap-free).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chirpflow.connectors.sources.jsonl import JsonlReader
from chirpflow.connectors.sources.reader import ReadResult
from chirpflow.model import RawRecord, make_origin

FOLLOW_POLL = timedelta(milliseconds=500)


class JsonlFileReader:
    """Each non-blank line is one record; ``follow`` keeps reading as the file grows."""

    def __init__(self, source: str, path: Path, follow: bool = False) -> None:
        self.source = source
        self.path = path
        self.follow = follow
        self._reader = JsonlReader(path, follow=follow)
        self._stream = f"{source}:{path.name}"

    @property
    def stream(self) -> str:
        return self._stream

    def start_position(self) -> tuple[int, int]:
        return (0, 0)

    def read(self, position: tuple[int, int], max_items: int) -> ReadResult:
        offset, done = position
        lines, next_offset = self._reader.read_batch(offset, max_items)
        fetched_at = datetime.now(UTC)
        records = [
            RawRecord(
                origin=make_origin(self._stream, done + i + 1),
                source=self.source,
                payload=raw,
                fetched_at=fetched_at,
            )
            for i, (_, raw) in enumerate(lines)
        ]
        new_pos = (next_offset, done + len(records))
        if not records:
            if self.follow:
                return ReadResult([], new_pos, wait_until=fetched_at + FOLLOW_POLL)
            return ReadResult([], new_pos, exhausted=self._reader.at_end(next_offset))
        return ReadResult(records, new_pos)

    def close(self) -> None:
        return None
