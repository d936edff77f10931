"""The partition names spread evenly over the workers Bytewax routes them to."""

from __future__ import annotations

import threading
from collections import Counter

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, cluster_main

from chirpflow.flows.steps.spread import PART_NAMES, spread_key


def _workers_of(names: tuple[str, ...], workers: int) -> Counter[int]:
    """How many of ``names`` each worker's state holds (workers told apart by thread)."""
    seen: dict[str, int] = {}

    def note(state: None, name: str) -> tuple[None, None]:
        seen[name] = threading.get_ident()
        return None, None

    flow = Dataflow("routing")
    keyed = op.input("in", flow, TestingSource([(n, n) for n in names]))
    op.inspect("done", op.stateful_map("state", keyed, note), lambda *_: None)
    cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return Counter(seen.values())


@pytest.mark.parametrize("workers", [2, 4])
def test_every_worker_holds_as_many_partitions(workers: int) -> None:
    counts = _workers_of(PART_NAMES, workers)
    assert sorted(counts.values()) == [len(PART_NAMES) // workers] * workers


def test_the_spread_key_is_stable_and_one_of_the_names() -> None:
    keys = [spread_key(f"author{i}") for i in range(200)]
    assert set(keys) == set(PART_NAMES)
    assert spread_key("author7") == spread_key("author7")
