"""The analysis dataflow: read -> normalize -> dedup -> chunk -> analyze -> sinks.

Every arrival ends as exactly one outcome: a tweet inside a ChunkResult
(analysed, or dead-lettered by the analyzer), a Duplicate, or a DeadLetter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from chirpflow import metrics
from chirpflow.model import Chunk, DeadLetter, Duplicate, Outcome, Tweet
from chirpflow.settings import PipelineSettings
from connectors.bytewax_flushing_sink import FlushingSink
from connectors.bytewax_sink import BatchWriter
from connectors.bytewax_source import ReaderSource
from connectors.sources.reader import RecordReader
from flows.steps.chunking import ChunkLogic
from flows.steps.dedup import DedupLogic, shard_of
from operators.chunk_analysis import ChunkAnalyzer
from operators.normalize import normalize

WriterFactory = Callable[[int, int], BatchWriter[Outcome]]


def chunk_key_fn(kind: str) -> Callable[[Tweet], str]:
    """The chunk key of a tweet: its source, its watched item, or its author."""
    if kind == "source":
        return lambda t: t.source
    if kind == "watch":
        return lambda t: t.watch or t.source
    if kind == "author":
        return lambda t: t.author_username or t.author_id
    raise ValueError(f"unknown chunk_key {kind!r}")


@dataclass
class AnalysisFlow:
    """A built dataflow and the handles a runner needs (limit budget, stop flag)."""

    flow: Dataflow
    source: ReaderSource
    stop: threading.Event = field(default_factory=threading.Event)


def _count_in(stream: str, n: int) -> None:
    metrics.TWEETS_IN.labels(stream.rsplit(":", 1)[0]).inc(n)


def build_analysis_flow(
    readers: Sequence[RecordReader],
    analyzer: ChunkAnalyzer,
    pipeline: PipelineSettings,
    writers: Sequence[tuple[str, WriterFactory]],
    *,
    limit: int | None = None,
    shared_dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]] | None = None,
    flow_id: str = "chirpflow",
) -> AnalysisFlow:
    """Wire the flow. ``shared_dedup`` (e.g. Redis) replaces the in-flow dedup state."""
    stop = threading.Event()
    source = ReaderSource(
        readers,
        batch_size=pipeline.source_batch_size,
        limit=limit,
        stop=stop,
        on_batch=_count_in,
    )
    flow = Dataflow(flow_id)
    raw = op.input("read", flow, source)
    # One stream all the way: dead letters and duplicates pass through the
    # stateful steps untouched, which keeps the per-tweet step count low.
    parsed = op.map("normalize", raw, normalize)
    key_of = chunk_key_fn(pipeline.chunk_key)
    rekey = partial(_chunk_key, key_of)
    if shared_dedup is not None:
        checked = op.flat_map_batch("dedup_shared", parsed, partial(_shared, shared_dedup))
        keyed: Any = op.map("chunk_key", checked, rekey)
    else:
        window = pipeline.dedup_window
        sharded = op.key_on("dedup_shard", parsed, partial(shard_of, shards=pipeline.dedup_shards))
        deduped = op.stateful_batch("dedup", sharded, lambda resume: DedupLogic(window, resume))
        keyed = op.map("chunk_key", deduped, lambda kv: rekey(kv[1]))
    size, wait = pipeline.chunk_size, pipeline.max_wait
    chunked = op.stateful_batch(
        "chunk", keyed, lambda resume: ChunkLogic(key_of, size, wait, resume)
    )
    outcomes: Any = op.map("analyze", chunked, partial(_analyze, analyzer))
    for name, factory in writers:
        op.output(f"sink_{name}", outcomes, FlushingSink(partial(_one_writer, factory)))
    return AnalysisFlow(flow=flow, source=source, stop=stop)


PASS = "~pass"  # chunk-step key of items that only pass through


def _chunk_key(
    key_of: Callable[[Tweet], str], item: Tweet | Duplicate | DeadLetter
) -> tuple[str, Tweet | Duplicate | DeadLetter]:
    return (key_of(item) if isinstance(item, Tweet) else PASS, item)


def _shared(
    dedup: Callable[[list[Tweet]], list[Tweet | Duplicate]],
    items: list[Tweet | DeadLetter],
) -> list[Tweet | Duplicate | DeadLetter]:
    tweets = [t for t in items if isinstance(t, Tweet)]
    others: list[Tweet | Duplicate | DeadLetter] = [d for d in items if not isinstance(d, Tweet)]
    return [*dedup(tweets), *others]


def _one_writer(factory: WriterFactory, part: str) -> BatchWriter[Outcome]:
    return factory(int(part), 1)


def _analyze(
    analyzer: ChunkAnalyzer, kv: tuple[str, Chunk | Duplicate | DeadLetter]
) -> tuple[str, Outcome]:
    """Analyse chunks; keyed ``("all", outcome)`` for the sink's single partition."""
    item = kv[1]
    if not isinstance(item, Chunk):
        return ("all", item)
    started = time.perf_counter()
    result = analyzer.run(item)
    name = analyzer.analyzer.name
    metrics.ANALYZER_LATENCY.labels(name).observe(time.perf_counter() - started)
    return ("all", result)
