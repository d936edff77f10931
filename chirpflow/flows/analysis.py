"""The analysis dataflow: read -> normalize -> dedup -> chunk -> analyze -> sinks.

Every arrival ends as exactly one outcome: a tweet inside a ChunkResult
(analysed, or dead-lettered by the analyzer), a Duplicate, or a DeadLetter.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from chirpflow import metrics
from chirpflow.connectors.bytewax_flushing_sink import FlushingSink, StagedWriter
from chirpflow.connectors.bytewax_sink import BatchWriter
from chirpflow.connectors.bytewax_source import ReaderSource
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.flows.steps.analyze_now import AnalyzeNowLogic
from chirpflow.flows.steps.chunking import ChunkLogic, group_by_chunk_key, split_by_chunk_key
from chirpflow.flows.steps.dedup import DedupLogic, split_by_shard
from chirpflow.flows.steps.in_flight import InFlightLogic
from chirpflow.flows.steps.sink_adapters import Flattening, StagedFlattening
from chirpflow.flows.steps.spread import PART_NAMES, spread_key
from chirpflow.model import (
    JOB_PREFIX,
    ChunkResult,
    DeadLetter,
    Duplicate,
    Outcome,
    RawRecord,
    Tweet,
    is_job_tweet,
)
from chirpflow.operators.alerts.rules import AlertRule, evaluate
from chirpflow.operators.chunk_analysis import ChunkAnalyzer
from chirpflow.operators.llm.loop import BackgroundLoop
from chirpflow.operators.normalize import normalize_batch
from chirpflow.operators.segment_store import DirSegmentStore
from chirpflow.settings import PipelineSettings

WriterFactory = Callable[[int, int], BatchWriter[Outcome]]


def chunk_key_fn(kind: str) -> Callable[[Tweet], str]:
    """The chunk key of a tweet: its source, its watched item, or its author.

    Tweets of an on-demand job are always chunked by job. One plain function
    per kind: it runs for every tweet.
    """
    if kind == "source":
        return _by_source
    if kind == "watch":
        return _by_watch
    if kind == "author":
        return _by_author
    raise ValueError(f"unknown chunk_key {kind!r}")


def _by_source(t: Tweet) -> str:
    w = t.watch
    return w if w is not None and w.startswith(JOB_PREFIX) else t.source


def _by_watch(t: Tweet) -> str:
    return t.watch or t.source  # a job's tweets carry the job as their watch


def _by_author(t: Tweet) -> str:
    w = t.watch
    if w is not None and w.startswith(JOB_PREFIX):
        return w
    return t.author_username or t.author_id


@dataclass
class AnalysisFlow:
    """A built dataflow and the handles a runner needs (limit budget, stop flag)."""

    flow: Dataflow
    source: ReaderSource
    stop: threading.Event = field(default_factory=threading.Event)


def _count_in(stream: str, n: int) -> None:
    metrics.TWEETS_IN.labels(stream.rsplit(":", 1)[0]).inc(n)


def _count_and_report(report: Callable[[str, int], None], stream: str, n: int) -> None:
    _count_in(stream, n)
    report(stream, n)


def build_analysis_flow(
    readers: Sequence[RecordReader],
    analyzer: ChunkAnalyzer,
    pipeline: PipelineSettings,
    writers: Sequence[tuple[str, WriterFactory]],
    *,
    limit: int | None = None,
    shared_dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]] | None = None,
    max_in_flight: int = 16,
    alert_rules: Sequence[AlertRule] = (),
    flow_id: str = "chirpflow",
    on_read: Callable[[str, int], None] | None = None,
    dedup_dir: Path | None = None,
) -> AnalysisFlow:
    """Wire the flow. ``shared_dedup`` (e.g. Redis) replaces the in-flow dedup state.

    ``dedup_dir`` (inside the recovery directory) holds the dedup id files its
    snapshots name; without it the dedup snapshots carry the whole window.
    """
    stop = threading.Event()
    source = ReaderSource(
        readers,
        batch_size=pipeline.source_batch_size,
        limit=limit,
        stop=stop,
        on_batch=_count_in if on_read is None else partial(_count_and_report, on_read),
    )
    flow = Dataflow(flow_id)
    # Stream items are whole source batches (and their per-key groups), so
    # Bytewax's per-item cost is paid once per batch, not once per tweet.
    # Stateless steps that follow each other are one step (normalize, then
    # shard or shared dedup): one Bytewax hop per batch less.
    raw = op.input("read", flow, source)
    key_of = chunk_key_fn(pipeline.chunk_key)
    if shared_dedup is not None:
        checked: Any = op.map("normalize", raw, partial(_normalize_shared, shared_dedup))
        keyed: Any = op.flat_map("chunk_key", checked, partial(split_by_chunk_key, key_of=key_of))
    else:
        window = pipeline.dedup_window
        sharded = op.flat_map(
            "normalize", raw, partial(_normalize_sharded, shards=pipeline.dedup_shards)
        )
        shards = pipeline.dedup_shards
        store = DirSegmentStore(dedup_dir) if dedup_dir is not None else None
        deduped = op.stateful_batch(
            "dedup", sharded, lambda resume: DedupLogic(window, resume, shards, store)
        )
        # all shards' outputs at hand in one call: one item per chunk key
        keyed = op.flat_map_batch("chunk_key", deduped, partial(group_by_chunk_key, key_of=key_of))
    size, wait = pipeline.chunk_size, pipeline.max_wait
    chunked = op.stateful_batch(
        "chunk", keyed, lambda resume: ChunkLogic(key_of, size, wait, resume)
    )
    if hasattr(analyzer.analyzer, "analyze_async"):
        # I/O-bound analyzers (LLM APIs): many chunks in flight on an event loop
        loop = BackgroundLoop()
        in_flight = max_in_flight
        gate = asyncio.Semaphore(max_in_flight)  # LLM calls of every partition here
        keyed_chunks = op.map("to_analysis", chunked, _to_analysis)
        done = op.stateful_batch(
            "analyze",
            keyed_chunks,
            lambda resume: InFlightLogic(analyzer, loop, in_flight, resume, gate),
        )
        outcomes: Any = op.map("results", done, partial(_to_sink, alert_rules))
    else:
        # keyed by chunk key (spread over workers); the step id is shared with
        # the async branch so chunks left in flight are analysed after a switch
        now = op.stateful_batch(
            "analyze", chunked, lambda resume: AnalyzeNowLogic(analyzer, resume)
        )
        outcomes = op.map("results", now, partial(_to_sink, alert_rules))
    for name, factory in writers:
        op.output(
            f"sink_{name}",
            outcomes,
            FlushingSink(partial(_one_writer, factory, name), parts=PART_NAMES),
        )
    return AnalysisFlow(flow=flow, source=source, stop=stop)


def _to_analysis(kv: tuple[str, Any]) -> tuple[str, Any]:
    return (spread_key(kv[0]), kv[1])


def _to_sink(rules: Sequence[AlertRule], kv: tuple[str, Any]) -> tuple[str, Any]:
    item = kv[1]
    if isinstance(item, ChunkResult) and rules:
        item.notifications = evaluate(rules, item)
    return (spread_key(kv[0]), item)


def _normalize_batch(records: list[RawRecord]) -> list[Tweet | DeadLetter]:
    return normalize_batch(records, datetime.now(UTC))  # one clock read per batch


def _normalize_sharded(
    records: list[RawRecord], shards: int
) -> list[tuple[str, list[Tweet | DeadLetter]]]:
    return split_by_shard(_normalize_batch(records), shards)


def _normalize_shared(
    dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]], records: list[RawRecord]
) -> list[Tweet | Duplicate | DeadLetter]:
    return _shared(dedup, _normalize_batch(records))


def _shared(
    dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]],
    items: list[Tweet | DeadLetter],
) -> list[Tweet | Duplicate | DeadLetter]:
    tweets = [t for t in items if isinstance(t, Tweet) and not is_job_tweet(t)]
    others: list[Tweet | Duplicate | DeadLetter] = [
        d for d in items if not isinstance(d, Tweet) or is_job_tweet(d)
    ]
    return [*dedup(tweets), *others]


def _one_writer(factory: WriterFactory, name: str, part: str) -> Flattening | StagedFlattening:
    writer = factory(PART_NAMES.index(part), len(PART_NAMES))
    if isinstance(writer, StagedWriter):  # prepares the next batch while one commits
        return StagedFlattening(writer, name)
    return Flattening(writer, name)
