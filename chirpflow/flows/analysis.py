"""The analysis dataflow: read -> normalize -> dedup -> chunk -> analyze -> sinks.

Every arrival ends as exactly one outcome: a tweet inside a ChunkResult
(analysed, or dead-lettered by the analyzer), a Duplicate, or a DeadLetter.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from chirpflow import metrics
from chirpflow.connectors.bytewax_flushing_sink import FlushingSink
from chirpflow.connectors.bytewax_sink import BatchWriter
from chirpflow.connectors.bytewax_source import ReaderSource
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.flows.steps.analyze_now import AnalyzeNowLogic
from chirpflow.flows.steps.chunking import ChunkLogic, split_by_chunk_key
from chirpflow.flows.steps.dedup import DedupLogic, split_by_shard
from chirpflow.flows.steps.in_flight import InFlightLogic
from chirpflow.flows.steps.spread import PART_NAMES, spread_key
from chirpflow.model import (
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
from chirpflow.operators.normalize import normalize
from chirpflow.settings import PipelineSettings

WriterFactory = Callable[[int, int], BatchWriter[Outcome]]


def chunk_key_fn(kind: str) -> Callable[[Tweet], str]:
    """The chunk key of a tweet: its source, its watched item, or its author.

    Tweets of an on-demand job are always chunked by job.
    """
    if kind == "source":
        base: Callable[[Tweet], str] = lambda t: t.source  # noqa: E731
    elif kind == "watch":
        base = lambda t: t.watch or t.source  # noqa: E731
    elif kind == "author":
        base = lambda t: t.author_username or t.author_id  # noqa: E731
    else:
        raise ValueError(f"unknown chunk_key {kind!r}")
    return lambda t: t.watch if is_job_tweet(t) and t.watch else base(t)


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
) -> AnalysisFlow:
    """Wire the flow. ``shared_dedup`` (e.g. Redis) replaces the in-flow dedup state."""
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
    raw = op.input("read", flow, source)
    parsed = op.map("normalize", raw, _normalize_batch)
    key_of = chunk_key_fn(pipeline.chunk_key)
    if shared_dedup is not None:
        checked: Any = op.map("dedup_shared", parsed, partial(_shared, shared_dedup))
        keyed: Any = op.flat_map("chunk_key", checked, partial(split_by_chunk_key, key_of=key_of))
    else:
        window = pipeline.dedup_window
        sharded = op.flat_map(
            "dedup_shard", parsed, partial(split_by_shard, shards=pipeline.dedup_shards)
        )
        shards = pipeline.dedup_shards
        deduped = op.stateful_batch(
            "dedup", sharded, lambda resume: DedupLogic(window, resume, shards)
        )
        keyed = op.flat_map("chunk_key", deduped, lambda kv: split_by_chunk_key(kv[1], key_of))
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
    now = datetime.now(UTC)  # one clock read per batch, not per tweet
    return [normalize(r, now) for r in records]


def _shared(
    dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]],
    items: list[Tweet | DeadLetter],
) -> list[Tweet | Duplicate | DeadLetter]:
    tweets = [t for t in items if isinstance(t, Tweet) and not is_job_tweet(t)]
    others: list[Tweet | Duplicate | DeadLetter] = [
        d for d in items if not isinstance(d, Tweet) or is_job_tweet(d)
    ]
    return [*dedup(tweets), *others]


class _Flattening:
    """Hands a writer plain outcomes: pass-through lists are expanded."""

    def __init__(self, writer: BatchWriter[Outcome], name: str) -> None:
        self.writer = writer
        self.name = name

    def write(self, items: list[Outcome | list[Duplicate | DeadLetter]]) -> None:
        flat: list[Outcome] = []
        for item in items:
            if isinstance(item, list):
                flat.extend(item)
            else:
                flat.append(item)
        started = time.perf_counter()
        try:
            self.writer.write(flat)
        except Exception:
            metrics.SINK_ERRORS.labels(self.name).inc()
            raise
        metrics.SINK_LATENCY.labels(self.name).observe(time.perf_counter() - started)
        metrics.SINK_ROWS.labels(self.name).inc(len(flat))

    def close(self) -> None:
        self.writer.close()


def _one_writer(factory: WriterFactory, name: str, part: str) -> _Flattening:
    return _Flattening(factory(PART_NAMES.index(part), len(PART_NAMES)), name)
