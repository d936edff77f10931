"""The one retry policy: its schedules, Retry-After floors, and waits that a stop cuts short."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from chirpflow.retry import (
    Schedule,
    doubling,
    full_jitter,
    pause,
    pause_async,
    retry_after_s,
    retrying,
    scaled_jitter,
    stepping,
)
from chirpflow.shutdown import SHUTDOWN, Shutdown


@pytest.fixture
def stopping() -> Iterator[None]:
    """The process is past its stop deadline (as after SIGTERM + stop_timeout)."""
    SHUTDOWN.aborting.set()
    try:
        yield
    finally:
        SHUTDOWN.aborting.clear()


def test_full_jitter_grows_exponentially_up_to_the_cap_and_honours_retry_after() -> None:
    s = Schedule(full_jitter(1.0, 60.0))
    for attempt in range(1, 12):
        top = min(60.0, 2.0 ** (attempt - 1))
        delays = [s.delay(attempt) for _ in range(50)]
        assert all(0 <= d <= top for d in delays)
        assert max(delays) > top / 4  # jittered over the whole range, not stuck at 0
    assert s.delay(1, floor=retry_after_s({"retry-after": "7"})) >= 7
    assert retry_after_s({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_s({"retry-after": "soon"}) is None


def test_scaled_jitter_keeps_the_postgres_writer_schedule() -> None:
    s = Schedule(scaled_jitter(0.2, 30.0))
    for attempt in range(1, 12):
        top = min(30.0, 0.2 * 2**attempt)
        assert all(top / 2 <= s.delay(attempt) <= top for _ in range(20))


def test_x_stream_schedules_follow_the_documented_backoff() -> None:
    network = Schedule(stepping(0.25, 16.0))
    assert [network.next() for _ in range(3)] == [0.25, 0.5, 0.75]
    network.reset()
    assert network.next() == 0.25
    assert Schedule(stepping(0.25, 16.0)).delay(1000) == 16.0
    http = Schedule(doubling(5.0, 320.0))
    assert [http.next() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]


def test_retrying_retries_the_given_errors_then_succeeds() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "ok"

    assert retrying(flaky, on=ConnectionError, wait=doubling(0.01), max_delay_s=10) == "ok"
    assert len(calls) == 3


def test_retrying_gives_up_after_max_delay_with_the_last_error() -> None:
    def down() -> None:
        raise ConnectionError("still down")

    started = time.monotonic()
    with pytest.raises(ConnectionError, match="still down"):
        retrying(down, on=ConnectionError, wait=doubling(0.05), max_delay_s=0.3)
    assert time.monotonic() - started < 5


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError):
        retrying(broken, on=ConnectionError, wait=doubling(0.01), max_delay_s=10)
    assert len(calls) == 1


def test_a_stop_ends_a_long_retry_wait_at_once(stopping: None) -> None:
    def down() -> None:
        raise ConnectionError("outage")

    started = time.monotonic()
    with pytest.raises(ConnectionError):
        retrying(down, on=ConnectionError, wait=doubling(600.0), max_delay_s=3600)
    assert time.monotonic() - started < 5
    assert pause(600) is False
    assert asyncio.run(pause_async(600)) is False


def test_pause_ends_when_its_own_event_is_set() -> None:
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert pause(600, stop) is False
    assert time.monotonic() - started < 5
    assert pause(0.01, stop=threading.Event()) is True
    assert asyncio.run(pause_async(0.01)) is True


def test_a_stop_timeout_flag_wins_over_the_config() -> None:
    s = Shutdown()
    assert s.timeout_s == 10 and s.exit_code() is None and s.remaining(30) == 30
    s.configure(20)
    s.configure(5, explicit=True)
    s.configure(30)  # the config, read after the flag
    assert s.timeout_s == 5
