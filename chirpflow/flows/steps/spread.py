"""Spread analysis and sink work over every worker of a cluster.

Chunks and outcomes are keyed by a stable hash of their chunk key into
``PARTS`` partitions, so the ``analyze`` step and the sinks are not funnelled
through one worker. ``PARTS`` is fixed (changing it moves state between keys)
and should stay at least the number of workers.
"""

from __future__ import annotations

from zlib import crc32

PARTS = 8
LEGACY_ANALYSIS_KEY = "analysis"  # the single key used before; its state still resumes


def spread_key(chunk_key: str) -> str:
    """The partition key of a chunk key: the same in every process and run."""
    return f"p{crc32(chunk_key.encode()) % PARTS}"
