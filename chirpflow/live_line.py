"""The one status line redrawn in place on a terminal, and log lines printed above it.

While a live line is up, a log record written to the same stream first
clears the line, prints the record on its own line, then draws the live line
again, so a warning never lands in the middle of the summary.
"""

from __future__ import annotations

import threading
from typing import TextIO

CLEAR = "\r\x1b[2K"


class LiveLine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._out: TextIO | None = None
        self._text = ""

    def show(self, out: TextIO, text: str) -> None:
        """Draw (or redraw) the live line on ``out``."""
        with self._lock:
            self._out, self._text = out, text
            out.write(CLEAR + text)
            out.flush()

    def end(self, out: TextIO, text: str) -> None:
        """Draw the line a last time and leave it on screen."""
        with self._lock:
            if self._out is out:
                self._out = None
            out.write(CLEAR + text + "\n")
            out.flush()

    def write_above(self, out: TextIO, line: str) -> None:
        """Write ``line`` (plus a newline) on ``out``, above the live line if one is up there."""
        with self._lock:
            if self._out is out:
                out.write(CLEAR + line + "\n" + self._text)
            else:
                out.write(line + "\n")
            out.flush()


LIVE = LiveLine()
