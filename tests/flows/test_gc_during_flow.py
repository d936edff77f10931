"""A dataflow runs under the throughput GC policy, and the process gets its settings back."""

from __future__ import annotations

import gc

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource

from chirpflow.flows.runner import run_dataflow
from chirpflow.gc_policy import THRESHOLDS


def test_a_running_flow_uses_the_policy_and_restores_the_collector() -> None:
    seen: list[tuple[int, int, int]] = []
    flow = Dataflow("gc_policy")
    items = op.input("in", flow, TestingSource([1, 2, 3]))
    op.output("out", op.map("look", items, lambda _: gc.get_threshold()), TestingSink(seen))
    before = gc.get_threshold()
    run_dataflow(flow)
    assert seen == [THRESHOLDS] * 3
    assert gc.get_threshold() == before
