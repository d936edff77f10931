"""Log lines print above the live summary line, never into it."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator

import pytest

from chirpflow.flows.summary import RunSummary, SummaryPrinter
from chirpflow.logs import setup_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_logger() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    root.handlers, root.level = saved[0], saved[1]


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_warning_while_the_summary_is_up_gets_its_own_line(
    root_logger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)  # in the test: pytest swaps it between phases
    setup_logging(logging.WARNING)
    printer = SummaryPrinter(RunSummary(), out=terminal, interval=0.01)
    printer.start()
    _wait_for(lambda: "tweets" in terminal.getvalue())
    logging.getLogger("chirpflow.test").warning("the LLM at http://x/v1 is slow")
    printer.stop()
    screen = terminal.getvalue()
    # what a terminal shows: "\r\x1b[2K" clears the line the cursor is on
    lines = [re.split(r"\r\x1b\[2K", line)[-1] for line in screen.split("\n")]
    warning = [line for line in lines if "is slow" in line]
    assert warning == ["WARNING chirpflow.test: the LLM at http://x/v1 is slow"], lines
    assert lines[-2].strip().endswith(f"flagged {0:,}")  # the final summary, whole
