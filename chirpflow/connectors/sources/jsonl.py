"""Read a JSON Lines file in batches from a byte offset, without loading it whole.

Blank lines are skipped; CRLF endings are accepted. When ``follow`` is set a
last line without its newline is left for later (it may still be written).
A line longer than ``max_line_bytes`` is returned cut to ``max_line_bytes + 1``
bytes so the caller sees it is over the limit (normalization dead-letters it
as too large); the rest of it is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

MAX_LINE_BYTES = 1 << 20
_CHUNK = 1 << 16


class JsonlReader:
    def __init__(self, path: Path, follow: bool = False, max_line_bytes: int = MAX_LINE_BYTES):
        self.path = Path(path)
        self.follow = follow
        self.max_line_bytes = max_line_bytes

    def at_end(self, offset: int) -> bool:
        try:
            return offset >= self.path.stat().st_size
        except FileNotFoundError:
            return True

    def read_batch(self, offset: int, max_lines: int) -> tuple[list[tuple[int, bytes]], int]:
        """Up to ``max_lines`` ``(line_offset, line)`` pairs and the offset after them."""
        out: list[tuple[int, bytes]] = []
        with self.path.open("rb") as f:
            f.seek(offset)
            while len(out) < max_lines:
                start = offset
                line, offset, complete = self._read_line(f, offset)
                if not complete and (self.follow or not line):
                    return out, start  # wait for the rest of a partial last line
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line.strip():
                    out.append((start, line))
                if not complete:
                    break
        return out, offset

    def _read_line(self, f: BinaryIO, offset: int) -> tuple[bytes, int, bool]:
        """The next line (without newline), the offset after it, and whether it ended."""
        parts: list[bytes] = []
        kept = 0
        while True:
            block = f.readline(_CHUNK)
            if not block:
                return b"".join(parts), offset, False
            offset += len(block)
            ended = block.endswith(b"\n")
            if ended:
                block = block[:-1]
            if kept <= self.max_line_bytes:
                take = block[: self.max_line_bytes + 1 - kept]
                parts.append(take)
                kept += len(take)
            if ended:
                return b"".join(parts), offset, True
