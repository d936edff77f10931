"""The fake LLM provider in its own process, as a real provider would be.

In-process, the fake's clock shares the benchmark's GIL: a busy flow delays
when the fake stamps a request's arrival by up to seconds, which a real
provider's clock never sees, and that showed up as 429s the client could not
have avoided. A child process keeps the two clocks independent.
"""

from __future__ import annotations

import collections
import multiprocessing as mp
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any


def _serve(conn: Connection, kwargs: dict[str, Any]) -> None:
    from tests.fakes.llm_server import FakeLLM, running

    with running(FakeLLM(**kwargs)) as (fake, url):
        conn.send(url)
        while (cmd := conn.recv()) != "stop":
            assert cmd == "stats"
            conn.send(
                {
                    "statuses": dict(fake.statuses),
                    "ok_requests": fake.ok_requests,
                    "prompt_tokens": fake.prompt_tokens,
                }
            )


class RemoteFake:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        out: dict[str, Any] = self._conn.recv()
        return out

    @property
    def statuses(self) -> collections.Counter[int]:
        return collections.Counter(self._stats()["statuses"])

    @property
    def ok_requests(self) -> int:
        return int(self._stats()["ok_requests"])

    @property
    def prompt_tokens(self) -> int:
        return int(self._stats()["prompt_tokens"])


@contextmanager
def remote_fake(**kwargs: Any) -> Iterator[tuple[RemoteFake, str]]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, kwargs), daemon=True)
    proc.start()
    try:
        url = parent.recv()
        yield RemoteFake(parent), url
    finally:
        parent.send("stop")
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
