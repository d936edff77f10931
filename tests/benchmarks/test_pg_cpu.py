"""PostgreSQL's CPU as the benchmark reads it: a backend's work is counted even when
it was read the moment after the client closed its connection (exited, not yet reaped)."""

from __future__ import annotations

import psutil
import psycopg

from benchmarks.pg_cpu import cpu_seconds, postmaster

WORK = "SELECT count(*) FROM generate_series(1, 400000)"


def test_a_closed_backends_cpu_is_counted_every_time(pg_url: str) -> None:
    server = postmaster(pg_url)
    short = []
    for i in range(20):
        before = cpu_seconds(server)
        with psycopg.connect(pg_url) as conn:
            pid = conn.info.backend_pid
            conn.execute(WORK).fetchone()
            t = psutil.Process(pid).cpu_times()
            spent = t.user + t.system  # what the backend itself says, while alive
        counted = cpu_seconds(server) - before  # read right after the close
        if counted < spent - 0.015:  # /proc counts in 10 ms ticks
            short.append((i, round(spent, 3), round(counted, 3)))
    assert not short, f"backend CPU missed (run, spent, counted): {short}"
