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
from chirpflow.model import Chunk, DeadLetter, Duplicate, Outcome, RawRecord, Tweet
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
    parsed = op.map("normalize", raw, _normalize)
    valid = op.branch("validate", parsed, _is_tweet)
    tweets: Any = valid.trues
    rejected: Any = valid.falses

    if shared_dedup is not None:
        checked: Any = op.flat_map_batch("dedup_shared", tweets, shared_dedup)
    else:
        window = pipeline.dedup_window
        shards = pipeline.dedup_shards
        sharded = op.key_on("dedup_shard", tweets, partial(shard_of, shards=shards))
        deduped = op.stateful_batch("dedup", sharded, lambda resume: DedupLogic(window, resume))
        checked = op.map("dedup_value", deduped, _value)
    firsts = op.branch("first_seen", checked, _is_tweet)
    unique: Any = firsts.trues
    duplicates: Any = firsts.falses

    key_of = chunk_key_fn(pipeline.chunk_key)
    size, wait = pipeline.chunk_size, pipeline.max_wait
    keyed = op.key_on("chunk_key", unique, key_of)
    chunks = op.stateful_batch(
        "chunk", keyed, lambda resume: ChunkLogic(key_of, size, wait, resume)
    )
    results = op.map("analyze", chunks, partial(_analyze, analyzer))
    outcomes = op.merge("outcomes", results, duplicates, rejected)
    keyed_out = op.key_on("sink_key", outcomes, _sink_key)
    for name, factory in writers:
        op.output(f"sink_{name}", keyed_out, FlushingSink(partial(_one_writer, factory)))
    return AnalysisFlow(flow=flow, source=source, stop=stop)


def _sink_key(item: Outcome) -> str:
    return "all"


def _one_writer(factory: WriterFactory, part: str) -> BatchWriter[Outcome]:
    return factory(int(part), 1)


def _normalize(record: RawRecord) -> Tweet | DeadLetter:
    return normalize(record)


def _is_tweet(item: object) -> bool:
    return isinstance(item, Tweet)


def _value(kv: tuple[str, Tweet | Duplicate]) -> Tweet | Duplicate:
    return kv[1]


def _analyze(analyzer: ChunkAnalyzer, kv: tuple[str, Chunk]) -> Outcome:
    started = time.perf_counter()
    result = analyzer.run(kv[1])
    name = analyzer.analyzer.name
    metrics.ANALYZER_LATENCY.labels(name).observe(time.perf_counter() - started)
    return result
