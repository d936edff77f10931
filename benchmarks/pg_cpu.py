"""CPU seconds spent by a PostgreSQL server, read with psutil from its process tree.

A backend's CPU is in one of two places: its own process (running, or exited
and not yet reaped) or, once the server has reaped it, the server's
``children_user``/``children_system``. A read that sees neither (a backend
reaped between reading the server and listing its children) would lose that
backend's CPU, which happens whenever a client has just closed its connection.
So a reading is taken again until the set of children was the same before and
after it: then no backend moved from one place to the other meanwhile.
"""

from __future__ import annotations

import time

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


def _children(server: psutil.Process) -> dict[int, psutil.Process]:
    return {p.pid: p for p in server.children()}


def _reading(server: psutil.Process) -> float | None:
    """One reading, or None if a child was reaped (or started) while it was taken."""
    children = _children(server)
    t = server.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in children.values():
        try:
            c = child.cpu_times()  # an exited backend (a zombie) still has its times
        except psutil.NoSuchProcess:
            return None  # reaped after the server was read: in neither place
        total += c.user + c.system
    return float(total) if _children(server).keys() == children.keys() else None


def cpu_seconds(server: psutil.Process, timeout_s: float = 5.0) -> float:
    """The server's CPU so far: itself, its children, live or exited, and those reaped."""
    deadline = time.monotonic() + timeout_s
    while True:
        total = _reading(server)
        if total is not None:
            return total
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL's processes kept changing for {timeout_s:.0f} s")
