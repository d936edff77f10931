"""Fit a recovery store to the configuration of this run before Bytewax resumes.

Bytewax 0.21.1 resumes each stateful step from rows of the ``snaps`` table
(``step_id, state_key, snap_epoch, ser_change``, pickled) in the recovery
partitions ``part-N.sqlite3``. It copes with a new worker count and with new
or vanished keys of stateful steps (an old chunk key's open buffer is
restored and flushed at its deadline), but not with:

- a source partition that is no longer listed: it panics ("Key ... is not in
  this worker's routing map"). Its saved position is dropped here, with one
  log line; the positions of the other sources are kept, new sources start
  from their beginning.
- a new ``pipeline.dedup_shards``: ids would be looked up in other shards than
  the ones that remember them. The remembered ids are moved into the new
  shards here, so the dedup window is kept.
- a new number of cluster processes: each process keeps one partition of a
  set of one per process, and the set cannot be re-cut from one process.
  That stops the run with one line saying what to do.
"""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bytewax.recovery import RecoveryConfig

from chirpflow.errors import ConfigError
from chirpflow.flows.cluster import ClusterPlace, cluster_place
from chirpflow.flows.runner import recovery_config
from chirpflow.operators.dedup_shards import SHARDS, id_count, is_placed, reshard
from chirpflow.operators.segment_store import DirSegmentStore

log = logging.getLogger(__name__)

RESET_HINT = (
    "or start once with --reset-recovery (sources are read from their start again"
    " and the dedup window starts empty; stored rows stay)"
)


def dedup_segments_dir(directory: Path) -> Path:
    """Where the dedup step of a flow recovering from ``directory`` keeps its id files."""
    return directory / "dedup"


@dataclass(frozen=True)
class FlowShape:
    """What of a flow's configuration its recovery state depends on."""

    flow_id: str
    sources: Sequence[str]  # partitions of the "read" step (reader stream names)
    dedup_shards: int | None = None  # None: no in-flow dedup step
    read_step: str = "read"
    dedup_step: str = "dedup"


def prepared_recovery(directory: Path, shape: FlowShape, *, reset: bool = False) -> RecoveryConfig:
    """The recovery store in ``directory``, fitted to ``shape`` (see module doc)."""
    config = recovery_config(directory, reset=reset)
    check_cluster_size(directory, cluster_place(os.environ))
    for part in sorted(directory.glob("part-*.sqlite3")):
        with _connect(part) as db:
            _drop_unlisted_sources(db, shape)
            if shape.dedup_shards is not None:
                store = DirSegmentStore(dedup_segments_dir(directory))
                _reshard_dedup(db, shape, shape.dedup_shards, store)
    return config


def check_cluster_size(directory: Path, place: ClusterPlace) -> None:
    """Refuse (one line) a store written by a cluster of another size."""
    for part in sorted(directory.glob("part-*.sqlite3")):
        with _connect(part) as db:
            row = db.execute("SELECT part_index, part_count FROM parts").fetchone()
        if row is None:
            continue
        index, count = int(row[0]), int(row[1])
        if count != place.size:
            raise ConfigError(
                f"the number of processes changed from {count} to {place.size}"
                f" (CHIRPFLOW_ADDRESSES / BYTEWAX_REPLICAS), which recovery cannot follow:"
                f" each process keeps one part of the recovery store in {directory}."
                f" Run {count} process{'es' if count > 1 else ''} again, {RESET_HINT}"
            )
        if place.process_id is not None and index != place.process_id:
            raise ConfigError(
                f"{part} belongs to process {index}, this is process {place.process_id}:"
                f" give each process its own recovery directory, {RESET_HINT}"
            )


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        yield db


def _drop_unlisted_sources(db: sqlite3.Connection, shape: FlowShape) -> None:
    step = f"{shape.flow_id}.{shape.read_step}"
    saved = {
        k for (k,) in db.execute("SELECT DISTINCT state_key FROM snaps WHERE step_id = ?", (step,))
    }
    dropped = sorted(saved - set(shape.sources))
    if not dropped:
        return
    db.executemany(
        "DELETE FROM snaps WHERE step_id = ? AND state_key = ?", [(step, k) for k in dropped]
    )
    log.warning(
        "configuration changed: dropped the saved read positions of %d source(s) no longer"
        " configured: %s (other sources keep theirs; new ones start from the beginning)",
        len(dropped),
        ", ".join(dropped),
    )


def _latest_states(db: sqlite3.Connection, step: str) -> tuple[dict[str, Any], int | None]:
    """The committed state of every key of ``step``, and the newest epoch among them."""
    (committed,) = db.execute("SELECT max(commit_epoch) FROM commits").fetchone()
    if committed is None:
        return {}, None
    rows = db.execute(
        "SELECT state_key, snap_epoch, ser_change FROM snaps s WHERE step_id = ?1"
        " AND snap_epoch = (SELECT max(snap_epoch) FROM snaps WHERE step_id = ?1"
        " AND state_key = s.state_key AND snap_epoch <= ?2)",
        (step, committed),
    ).fetchall()
    states = {key: pickle.loads(blob) for key, _, blob in rows if blob is not None}
    epoch = max((int(e) for _, e, _ in rows), default=None)
    return states, epoch


def _reshard_dedup(
    db: sqlite3.Connection, shape: FlowShape, shards: int, store: DirSegmentStore
) -> None:
    step = f"{shape.flow_id}.{shape.dedup_step}"
    states, epoch = _latest_states(db, step)
    shard_states: Mapping[str, dict[str, Any]] = {
        k: v for k, v in states.items() if k.isdigit() and isinstance(v, dict)
    }
    if epoch is None or is_placed(shard_states, shards, store):
        return
    if cluster_place(os.environ).addresses:
        # each process holds some shards: ids cannot be moved between processes
        before = sorted({s[SHARDS] for s in shard_states.values() if s.get(SHARDS) is not None})
        if any(b != shards for b in before):
            raise ConfigError(
                f"pipeline.dedup_shards changed from {before[0]} to {shards}, which a cluster"
                f" cannot follow (each process remembers the ids of its own shards):"
                f" set it back to {before[0]}, {RESET_HINT}"
            )
        log.warning(
            "dedup state from an older version does not record its shard count; if"
            " pipeline.dedup_shards changed, some repeats inside the window may pass once"
        )
        return
    moved = reshard(shard_states.values(), shards, store)
    db.executemany(
        "DELETE FROM snaps WHERE step_id = ? AND state_key = ?",
        [(step, k) for k in shard_states],
    )
    db.execute("DELETE FROM snaps WHERE step_id = ? AND snap_epoch > ?", (step, epoch))
    db.executemany(
        "INSERT OR REPLACE INTO snaps (step_id, state_key, snap_epoch, ser_change)"
        " VALUES (?, ?, ?, ?)",
        [(step, k, epoch, pickle.dumps(v)) for k, v in moved.items()],
    )
    log.warning(
        "configuration changed: pipeline.dedup_shards is now %d; moved %d remembered tweet"
        " ids from %d shard(s) into %d (the dedup window is kept)",
        shards,
        id_count(moved.values(), store),
        len(shard_states),
        len(moved),
    )
