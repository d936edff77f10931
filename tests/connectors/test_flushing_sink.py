"""The flush contract: snapshot() returns only when every handed-over item is stored."""

from __future__ import annotations

import threading
import time

import pytest

from chirpflow.connectors.bytewax_flushing_sink import FlushingSink


class SlowListWriter:
    """A real (in-memory) writer that takes its time, like a database would."""

    def __init__(self, delay: float = 0.05, fail_on: int | None = None) -> None:
        self.items: list[int] = []
        self.calls = 0
        self.delay = delay
        self.fail_on = fail_on
        self.closed = False

    def write(self, items: list[int]) -> None:
        self.calls += 1
        time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in items:
            raise OSError("disk on fire")
        self.items.extend(items)

    def close(self) -> None:
        self.closed = True


def test_snapshot_waits_for_pending_writes_and_batches_are_merged() -> None:
    writer = SlowListWriter()
    part = FlushingSink(lambda _: writer, max_pending=100).build_part("s", "0", None)
    for i in range(20):
        part.write_batch([i])
    assert len(writer.items) < 20  # still writing in the background
    part.snapshot()
    assert writer.items == list(range(20))
    assert writer.calls < 20  # queued batches were written together
    part.close()
    assert writer.closed


def test_writer_failure_surfaces_on_the_flow_thread() -> None:
    writer = SlowListWriter(delay=0.0, fail_on=3)
    part = FlushingSink(lambda _: writer).build_part("s", "0", None)
    part.write_batch([1, 2, 3])
    with pytest.raises(RuntimeError, match="disk on fire"):
        part.snapshot()
    with pytest.raises(RuntimeError):
        part.write_batch([4])


def test_a_full_queue_makes_the_flow_wait() -> None:
    writer = SlowListWriter(delay=0.2)
    part = FlushingSink(lambda _: writer, max_pending=1).build_part("s", "0", None)
    started = time.monotonic()
    done = threading.Event()

    def produce() -> None:
        for i in range(4):
            part.write_batch([i])
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    t.join(5)
    assert done.is_set()
    assert time.monotonic() - started >= 0.2  # blocked at least once on the bounded queue
    part.close()
    assert writer.items == [0, 1, 2, 3]
