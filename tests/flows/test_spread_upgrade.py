"""A recovery store written before the spread (every chunk in flight kept under
the one key "analysis") resumes: those chunks are analysed after the upgrade."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main

from chirpflow.connectors.bytewax_flushing_sink import FlushingSink
from chirpflow.connectors.postgres.stats import store_stats
from chirpflow.flows.job import run_job
from chirpflow.flows.runner import recovery_config
from chirpflow.flows.steps.spread import LEGACY_ANALYSIS_KEY
from chirpflow.model import Chunk
from chirpflow.settings import settings_from_dict
from tests.factories import T0, tweet
from tests.fakes.llm_server import FakeLLM, running
from tests.flows.helpers import env_for


class _HeldInFlight(op.StatefulBatchLogic[Chunk, Chunk, list[Chunk]]):
    """The old layout's ``analyze`` state: chunks still at the LLM when the snapshot
    was taken (the process then died), all under the key "analysis"."""

    def __init__(self, resume: list[Chunk] | None) -> None:
        self.held = list(resume or [])

    def on_batch(self, values: list[Chunk]) -> tuple[list[Chunk], bool]:
        self.held.extend(values)
        return [], op.StatefulBatchLogic.RETAIN

    def snapshot(self) -> list[Chunk]:
        return self.held


class _Nowhere:
    def write(self, items: list[Any]) -> None:
        return None

    def close(self) -> None:
        return None


def _write_old_store(directory: Path, chunks: list[Chunk]) -> None:
    flow = Dataflow("chirpflow")
    old = op.input("old_read", flow, TestingSource(chunks))
    keyed = op.map("to_analysis", old, lambda c: (LEGACY_ANALYSIS_KEY, c))
    held: Any = op.stateful_batch("analyze", keyed, _HeldInFlight)
    # the old sinks: one partition "0" each, fed under the key "all"
    outcomes = op.map("results", held, lambda kv: ("all", kv[1]))
    for name in ("postgres", "summary"):
        op.output(f"sink_{name}", outcomes, FlushingSink(lambda _part: _Nowhere()))
    run_main(flow, epoch_interval=timedelta(0), recovery_config=recovery_config(directory))


def test_chunks_in_flight_under_the_old_key_are_analysed_after_upgrade(
    tmp_path: Path, pg_url: str
) -> None:
    chunks = [
        Chunk(key=f"k{c}", seq=0, tweets=[tweet(10 * c + i) for i in range(10)], opened_at=T0)
        for c in range(3)
    ]
    env0 = env_for(tmp_path, pg_url)
    _write_old_store(env0.home / "recovery", chunks)
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    cfg = settings_from_dict(
        {
            "pipeline": {"snapshot_interval": "1s"},
            "analyzer": {"kind": "auto", "model": "gpt-test"},
            "sinks": {"console": False},
        }
    )
    with running(FakeLLM()) as (fake, url):
        env = dataclasses.replace(env0, openai_api_key="sk-test", openai_base_url=url)
        run_job(cfg, env, source_spec=f"jsonl:{empty}", recovery=True, live=False)
    assert len(fake.requests) == 3
    assert store_stats(pg_url)["analyzed"] == 30
