"""Spread analysis and sink work over every worker of a cluster.

Chunks and outcomes are keyed by a stable hash of their chunk key into
``PARTS`` partitions, so the ``analyze`` step and the sinks are not funnelled
through one worker. ``PARTS`` is fixed (changing it moves state between keys)
and should stay at least the number of workers.
"""

from __future__ import annotations

from zlib import crc32

# Bytewax sends a state key to worker ``hash(key) % workers``; these names
# give every worker of a 2- or 4-worker cluster the same number of them
# (tests/flows/test_spread.py checks it), where p0..p7 split 5/3 over two.
PART_NAMES = ("p0", "p1", "p2", "p3", "p5", "p6", "p7", "p13")
PARTS = len(PART_NAMES)
LEGACY_ANALYSIS_KEY = "analysis"  # the single key used before; its state still resumes


def spread_key(chunk_key: str) -> str:
    """The partition key of a chunk key: the same in every process and run."""
    return PART_NAMES[crc32(chunk_key.encode()) % PARTS]
