"""A running flow tunes the garbage collector and gives the process its settings back."""

from __future__ import annotations

import gc
import threading

from chirpflow.gc_policy import THRESHOLDS, throughput_gc


def test_the_collector_settings_apply_while_a_flow_runs_and_are_restored_after() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with throughput_gc():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > frozen_before  # start-up objects are not walked
        with throughput_gc():  # a nested (or concurrent) flow shares the policy
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS  # still running: still applied
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_concurrent_flows_restore_the_settings_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_flow() -> None:
        with throughput_gc():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_flow)
    with throughput_gc():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold() == THRESHOLDS  # the other flow still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before
