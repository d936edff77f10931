"""``chirpflow ingest``: sources -> normalize -> Kafka, as its own recoverable job.

Source positions are in the recovery snapshot and the Kafka sink flushes
(every message acknowledged) before a snapshot completes, so a killed ingest
restarts where its last snapshot was: nothing lost; at most the tweets after
that snapshot are produced twice, and the analysis job's dedup drops them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import bytewax.operators as op
from bytewax.dataflow import Dataflow

from chirpflow import metrics
from chirpflow.connectors.bytewax_flushing_sink import FlushingSink
from chirpflow.connectors.bytewax_sink import BatchWriter
from chirpflow.connectors.bytewax_source import ReaderSource
from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.connectors.kafka.topics import ensure_topic
from chirpflow.connectors.kafka.tweet_writer import KafkaTweetWriter
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.errors import ConfigError
from chirpflow.flows.build import SourceHooks, configured_readers
from chirpflow.flows.checks import service_checks
from chirpflow.flows.ops_server import OpsServer
from chirpflow.flows.recovery_migration import FlowShape, prepared_recovery
from chirpflow.flows.runner import graceful_interrupt, run_dataflow
from chirpflow.flows.usage import UsageFlusher, UsageMeter
from chirpflow.kafka_connection import KafkaConnection
from chirpflow.model import DeadLetter, RawRecord, Tweet
from chirpflow.operators.normalize import normalize
from chirpflow.settings import Environment, Settings


def _normalize(records: list[RawRecord]) -> tuple[str, list[Tweet | DeadLetter]]:
    return ("all", [normalize(r) for r in records])


class _Batches:
    """The sink sees one list per source read; the producer wants items."""

    def __init__(self, writer: KafkaTweetWriter) -> None:
        self.writer = writer

    def write(self, batches: list[list[Tweet | DeadLetter]]) -> None:
        self.writer.write([item for batch in batches for item in batch])

    def close(self) -> None:
        self.writer.close()


def build_ingest_flow(
    readers: Sequence[RecordReader],
    kafka: KafkaConnection | str,
    topic: str,
    dlq_topic: str,
    *,
    limit: int | None = None,
    batch_size: int = 1000,
    key: str = "tweet_id",
) -> tuple[Dataflow, threading.Event]:
    stop = threading.Event()
    flow = Dataflow("chirpflow-ingest")
    raw = op.input("read", flow, ReaderSource(readers, batch_size, limit, stop))
    parsed = op.map("normalize", raw, _normalize)

    def writer(part: str) -> BatchWriter[list[Tweet | DeadLetter]]:
        return _Batches(KafkaTweetWriter(SafeProducer(kafka), topic, dlq_topic, key))

    sink: FlushingSink[list[Tweet | DeadLetter]] = FlushingSink(writer)
    op.output("kafka", parsed, sink)
    return flow, stop


def run_ingest(
    settings: Settings,
    env: Environment,
    *,
    source_spec: str | None = None,
    limit: int | None = None,
    rate: float | None = None,
    recovery: bool = True,
    reset_recovery: bool = False,
    metrics_port: int | None = None,
) -> None:
    env = env.with_kafka_settings(settings)
    kafka = env.kafka
    if kafka is None:
        raise ConfigError("chirpflow ingest needs KAFKA_BOOTSTRAP_SERVERS (the broker to write to)")
    cfg = settings.ingest
    for name in (cfg.topic, cfg.dlq_topic):
        ensure_topic(kafka, name, cfg.partitions if name == cfg.topic else 1)
    meter = UsageMeter(env.database_url, alert_channels=list(settings.alerts.channels))
    hooks = SourceHooks(meter.on_usage, meter.on_fatal, env.redis_url)
    readers = configured_readers(settings, env, hooks, source_spec=source_spec, rate=rate)
    flow, stop = build_ingest_flow(
        readers,
        kafka,
        cfg.topic,
        cfg.dlq_topic,
        limit=limit,
        batch_size=settings.pipeline.source_batch_size,
        key=cfg.key,
    )
    shape = FlowShape(flow.flow_id, [r.stream for r in readers])
    rec = (
        prepared_recovery(env.home / "recovery-ingest", shape, reset=reset_recovery)
        if recovery
        else None
    )
    flusher = UsageFlusher(meter)
    ops = OpsServer(metrics_port, checks=service_checks(env)) if metrics_port is not None else None
    metrics.UP.set(1)
    try:
        with graceful_interrupt(stop):
            run_dataflow(flow, snapshot_interval=settings.pipeline.snapshot_interval, recovery=rec)
    finally:
        metrics.UP.set(0)
        flusher.stop()
        if ops:
            ops.stop()
