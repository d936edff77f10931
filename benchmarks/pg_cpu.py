"""CPU seconds spent by a PostgreSQL server, read with psutil from its process tree."""

from __future__ import annotations

import psutil
import psycopg


def postmaster(url: str) -> psutil.Process:
    """The server process behind ``url`` (the parent of a backend we open)."""
    with psycopg.connect(url) as conn:  # the backend exists only while connected
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        parent = psutil.Process(int(row[0])).parent()
    assert parent is not None
    return parent


def cpu_seconds(server: psutil.Process) -> float:
    """The server's CPU so far: itself, its live children and those already ended."""
    t = server.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in server.children():
        try:
            c = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += c.user + c.system
    return float(total)
