"""Run a dataflow in this process, with Bytewax recovery and a clean Ctrl-C."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.run import cli_main

from chirpflow.flows.cluster import cluster_place
from chirpflow.gc_policy import throughput_gc
from chirpflow.shutdown import SHUTDOWN

log = logging.getLogger(__name__)


def recovery_config(directory: Path, partitions: int = 1, reset: bool = False) -> RecoveryConfig:
    """The recovery store in ``directory``, created (or reset) as needed.

    In a cluster every process keeps its own directory (a volume per pod) and
    holds one partition of a set of one per process: process ``i`` keeps
    ``part-i``. Bytewax finds the partitions across the cluster and refuses
    to resume from an incomplete or inconsistent set.
    """
    if reset and directory.exists():
        shutil.rmtree(directory)
    if not any(directory.glob("part-*.sqlite3")):
        directory.mkdir(parents=True, exist_ok=True)
        place = cluster_place(os.environ)
        if place.addresses and place.process_id is not None:
            with tempfile.TemporaryDirectory(dir=directory) as tmp:
                init_db_dir(Path(tmp), place.size)
                name = f"part-{place.process_id}.sqlite3"
                shutil.move(str(Path(tmp) / name), str(directory / name))
        else:
            init_db_dir(directory, partitions)
    return RecoveryConfig(str(directory))


@contextmanager
def graceful_interrupt(stop: threading.Event) -> Iterator[None]:
    """First signal: sources end, open chunks flush, sinks write, within the stop bound.

    At the bound, or at a second signal, the process ends without flushing
    (see :mod:`chirpflow.shutdown`): the recovery snapshot keeps the rest.
    """
    with SHUTDOWN.handling(), SHUTDOWN.draining(stop):
        yield


def run_dataflow(
    flow: Dataflow,
    *,
    workers: int = 1,
    snapshot_interval: timedelta = timedelta(seconds=10),
    recovery: RecoveryConfig | None = None,
) -> None:
    """Execute ``flow`` with ``workers`` threads until every source ends.

    In a cluster (see :mod:`chirpflow.flows.cluster`) this process joins its peers.
    """
    place = cluster_place(os.environ)
    if place.addresses:
        log.info("cluster process %s of %d", place.process_id, place.size)
    with throughput_gc():
        cli_main(
            flow,
            workers_per_process=workers,
            process_id=place.process_id if place.addresses else None,
            addresses=place.addresses,
            epoch_interval=snapshot_interval,
            recovery_config=recovery,
        )
