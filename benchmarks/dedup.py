"""Dedup state size: memory per remembered id and snapshot bytes per epoch.

Usage: ``python -m benchmarks.dedup [N]`` (default 10,000,000). Prints one JSON line.
Memory is the RSS growth while ``N`` ids go in over one window; the snapshot
figure is the pickled state of one shard after a further 100 ids (one epoch).
"""

from __future__ import annotations

import pickle
import resource
import sys
import time

import orjson

from chirpflow.operators.dedup import WindowedIdSet


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main(n: int) -> dict[str, float]:
    window_s = 7 * 86400.0
    rate = n / window_s
    s = WindowedIdSet(window_s=window_s)
    before = _rss_bytes()
    t0 = time.perf_counter()
    for i in range(n):
        s.add(1_800_000_000_000_000_000 + i * 7919, now=i / rate)
    secs = time.perf_counter() - t0
    used = _rss_bytes() - before
    for i in range(n, n + 100):
        s.add(1_800_000_000_000_000_000 + i * 7919, now=i / rate)
    snap = len(pickle.dumps(s.to_snapshot(), protocol=pickle.HIGHEST_PROTOCOL))
    return {
        "ids": n,
        "window_s": window_s,
        "ids_per_s": rate,
        "bytes_per_id": used / n,
        "add_us_per_id": secs / n * 1e6,
        "snapshot_bytes_per_epoch_100_ids": snap,
    }


if __name__ == "__main__":
    print(orjson.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)).decode())
