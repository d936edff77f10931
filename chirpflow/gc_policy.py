"""The garbage collector's settings while a dataflow runs.

Measured on the Kafka -> PostgreSQL path (100k tweets, py-spy and gc
callbacks): with CPython's defaults the cyclic collector ran 14 full
collections, each walking every object alive since start-up, and took about a
third of the process's CPU. Tweets, rows and analyses are freed by reference
counting; the collector only has to find the rare cycle. So while a flow runs:

* the objects alive at its start (modules, settings, clients) are frozen:
  collections no longer walk them (``gc.freeze``);
* the youngest generation is collected after 100,000 new container objects
  instead of 700 (at most a few MB of cyclic garbage waits for it;
  a collection walks every young object alive, the tweets in flight).

Both are undone when the flow ends, so a process that runs several flows (the
API, the tests) gets its own settings back. Nested or concurrent flows in one
process share one policy: the first one in applies it, the last one out
restores it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (100_000, 20, 100)

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def throughput_gc() -> Iterator[None]:
    """Collector settings for a long, allocation-heavy run (see the module doc)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*THRESHOLDS)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None
