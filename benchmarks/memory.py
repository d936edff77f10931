"""Peak memory of the offline path: synthetic source -> ... -> offline analyzer, sinks off.

No PostgreSQL, no console: what the job itself holds. The dedup window is the
default 7 days, so every id stays remembered. Besides the peak, the scenario
reports what is needed to judge whether the rest is flat:

* ``rss_at``: resident memory when 10%, 25%, 50%, 75% and 100% of the tweets
  were read, with the dedup state measured at the same moment
  (``dedup_state_at``, the bytes of every
  :class:`~chirpflow.operators.dedup.WindowedIdSet`'s arrays and unmerged tail)
  and the difference (``rss_minus_state_at``);
* ``growth_minus_state_mb``: growth from the 10% mark to the end, less the
  dedup state's growth over the same span: what the job keeps besides the
  dedup ids (flat is close to 0);
* ``dedup_state_mb`` / ``dedup_bytes_per_id``: the state at the end, as the id
  sets themselves hold it;
* ``result_cache_entries_at``: entries of the in-process result cache (LRU,
  at most ``analyzer.cache_size`` entries of at most ``ENTRY_BYTES`` each,
  ``result_cache_max_mb``), and ``growth_minus_state_and_cache_mb``: the
  growth less both, what nothing documented accounts for.
"""

from __future__ import annotations

import gc
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from chirpflow.operators.cached_analysis import ENTRY_BYTES
from chirpflow.settings import Environment, settings_from_dict

WINDOW = "7d"
MARKS = (0.1, 0.25, 0.5, 0.75, 1.0)
MB = 2**20


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / MB


def _state_objects() -> tuple[list[Any], list[Any]]:
    """Every live dedup id set (one per shard) and in-process result cache."""
    from chirpflow.operators.dedup import WindowedIdSet
    from chirpflow.operators.result_cache import LruResultCache

    # type(o), not isinstance: isinstance also asks an object for its
    # ``__class__``, and a lazy proxy (openai's) then imports what it stands for
    objects = [(o, type(o)) for o in gc.get_objects()]
    return (
        [o for o, t in objects if issubclass(t, WindowedIdSet)],
        [*_MADE, *(o for o, t in objects if issubclass(t, LruResultCache) and o not in _MADE)],
    )


_MADE: list[Any] = []  # result caches made by the measured run


@contextmanager
def _recording_caches() -> Iterator[None]:
    """Note every result cache made inside the block.

    The flow's GC policy (:mod:`chirpflow.gc_policy`) freezes what exists when
    it starts, the cache included, and ``gc.get_objects()`` does not list
    frozen objects, so the probe could not find it while the flow runs.
    """
    from chirpflow.operators.result_cache import LruResultCache

    init = LruResultCache.__init__

    def record(self: LruResultCache, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _MADE.append(self)

    LruResultCache.__init__ = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        LruResultCache.__init__ = init  # type: ignore[method-assign]
        _MADE.clear()


def _held_bytes(obj: Any) -> int:
    """Bytes an id set holds: its numpy arrays, and the Python ints of unmerged
    tails, found through its (slotted) attributes so a new layout is measured too."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, set | frozenset):
        return sys.getsizeof(obj) + sum(sys.getsizeof(i) for i in obj)
    if isinstance(obj, dict):
        return sum(_held_bytes(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_held_bytes(v) for v in obj)
    slots = [n for c in type(obj).__mro__ for n in getattr(c, "__slots__", ())]
    return sum(_held_bytes(getattr(obj, n, None)) for n in slots)


def _state_bytes(sets: Iterable[Any]) -> int:
    return sum(_held_bytes(s) for s in sets)


class _Probe:
    """RSS and dedup state at fractions of the tweets read, and the peak in between."""

    def __init__(self, n: int, interval: float = 0.05) -> None:
        self.n = n
        self.read = 0
        self.todo = list(MARKS)
        self.rss_at: dict[str, float] = {}
        self.state_at: dict[str, float] = {}
        self.sets: dict[int, Any] = {}
        self.caches: dict[int, Any] = {}
        self.cache_entries_at: dict[str, int] = {}
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)

    def __enter__(self) -> _Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, _rss_mb())

    def on_read(self, _stream: str, count: int) -> None:
        self.read += count
        while self.todo and self.read >= self.todo[0] * self.n:
            self.mark(f"{self.todo.pop(0):.0%}")

    def mark(self, name: str) -> None:
        sets, caches = _state_objects()
        for s in sets:  # kept, so the end state can be measured after the run
            self.sets[id(s)] = s
        for c in caches:
            self.caches[id(c)] = c
        self.state_at[name] = _state_bytes(self.sets.values()) / MB
        self.cache_entries_at[name] = sum(len(c) for c in self.caches.values())
        print(
            f"[memory] {name}: RSS {_rss_mb():,.0f} MB, dedup state {self.state_at[name]:,.1f} MB, "
            f"result cache {self.cache_entries_at[name]:,} entries",
            file=sys.stderr,
            flush=True,
        )
        self.rss_at[name] = _rss_mb()
        self.peak = max(self.peak, self.rss_at[name])


def offline_memory(n: int, _url: str | None = None) -> dict[str, Any]:
    from chirpflow.flows.job import run_job

    start_rss = _rss_mb()
    with tempfile.TemporaryDirectory() as home, _recording_caches(), _Probe(n) as probe:
        env = Environment(None, None, None, None, None, Path(home))
        cfg = settings_from_dict(
            {
                "pipeline": {"dedup_window": WINDOW},
                "analyzer": {"kind": "offline"},
                "sinks": {"console": False, "postgres": False},
                "sources": [{"name": "synthetic", "type": "synthetic", "rate": 0}],
            }
        )
        started = time.perf_counter()
        summary = run_job(cfg, env, limit=n, recovery=True, live=False, on_read=probe.on_read)
        elapsed = time.perf_counter() - started
        probe.mark("end")
    state = probe.state_at["end"]
    first, last = f"{MARKS[0]:.0%}", f"{MARKS[-1]:.0%}"
    rss_growth = probe.rss_at["end"] - probe.rss_at.get(first, start_rss)
    state_growth = state - probe.state_at.get(first, 0.0)
    entries = probe.cache_entries_at
    cache_growth = (entries.get(last, 0) - entries.get(first, 0)) * ENTRY_BYTES / MB
    return {
        "tweets": summary.arrivals,
        "analyzed": summary.analyzed,
        "dedup_window": WINDOW,
        "source_rate": "unpaced (rate = 0)",
        "seconds": elapsed,
        "tweets_per_s": summary.arrivals / elapsed,
        "rss_before_mb": start_rss,
        "expected_dedup_state_mb": summary.arrivals * 10 / MB,
        "dedup_state_mb": state,
        "dedup_bytes_per_id": state * MB / max(summary.arrivals - summary.duplicates, 1),
        "rss_at": probe.rss_at,
        "dedup_state_at": probe.state_at,
        "rss_minus_state_at": {k: v - probe.state_at[k] for k, v in probe.rss_at.items()},
        "sampled_peak_rss_mb": probe.peak,
        "growth_minus_state_mb": rss_growth - state_growth,
        "result_cache_entries_at": entries,
        "result_cache_max_mb": cfg.analyzer.cache_size * ENTRY_BYTES / MB,
        "growth_minus_state_and_cache_mb": rss_growth - state_growth - cache_growth,
    }


def offline_memory_10x(n: int, url: str | None = None) -> dict[str, Any]:
    return offline_memory(10 * n, url)
