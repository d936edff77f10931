"""``chirpflow run``: wire settings, services and the dataflow together and run it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from chirpflow import metrics
from chirpflow.connectors.bytewax_sink import BatchWriter
from chirpflow.connectors.kafka.outcome_writer import KafkaOutcomeWriter
from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.connectors.postgres.jobs import JobStore
from chirpflow.connectors.postgres.writer import PostgresWriter
from chirpflow.connectors.redis.dedup import RedisDedup
from chirpflow.connectors.sources.job_reader import JobReader
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.errors import ConfigError
from chirpflow.flows.alert_sending import start_alerts as _start_alerts
from chirpflow.flows.analysis import WriterFactory, build_analysis_flow
from chirpflow.flows.build import (
    SourceHooks,
    configured_readers,
    job_provider,
    make_chunk_analyzer,
    make_rules,
)
from chirpflow.flows.checks import service_checks
from chirpflow.flows.ops_server import OpsServer
from chirpflow.flows.recovery_migration import FlowShape, dedup_segments_dir, prepared_recovery
from chirpflow.flows.runner import graceful_interrupt, run_dataflow
from chirpflow.flows.services import database
from chirpflow.flows.summary import RunSummary, SummaryPrinter, SummaryWriter
from chirpflow.flows.usage import UsageFlusher, UsageMeter
from chirpflow.model import Outcome
from chirpflow.operators.result_cache import close_cache
from chirpflow.settings import Environment, Settings
from chirpflow.shutdown import SHUTDOWN

log = logging.getLogger(__name__)


def run_job(
    settings: Settings,
    env: Environment,
    *,
    source_spec: str | None = None,
    limit: int | None = None,
    rate: float | None = None,
    workers: int = 1,
    recovery: bool = True,
    reset_recovery: bool = False,
    live: bool = True,
    readers: list[RecordReader] | None = None,
    on_read: Callable[[str, int], None] | None = None,
    metrics_port: int | None = None,
    jobs_until_idle: bool = False,
) -> RunSummary:
    """Run the analysis job to completion; returns the run's summary.

    ``readers`` replaces the configured sources (a replay's explicit ranges).
    """
    env = env.with_kafka_settings(settings)  # every Kafka client: the [kafka] table too
    meter = UsageMeter(None, alert_channels=list(settings.alerts.channels))
    if readers is None:
        hooks = SourceHooks(meter.on_usage, meter.on_fatal, env.redis_url)
        readers = configured_readers(
            settings,
            env,
            hooks,
            source_spec=source_spec,
            rate=rate,
            allow_none=settings.jobs.enabled,
        )
    summary = RunSummary()
    with database(env) if settings.sinks.postgres else _no_database() as url:
        meter.url = url
        flusher = UsageFlusher(meter)
        ops = (
            OpsServer(metrics_port, checks=service_checks(env, url))
            if metrics_port is not None
            else None
        )
        writers: list[tuple[str, WriterFactory]] = []
        if url is not None:
            db_url = url

            def pg_writer(worker: int, count: int) -> BatchWriter[Outcome]:
                return PostgresWriter(db_url)

            writers.append(("postgres", pg_writer))

        kafka = settings.sinks.kafka
        if kafka.enabled:
            connection = env.kafka
            if connection is None:
                raise ConfigError("sinks.kafka.enabled needs KAFKA_BOOTSTRAP_SERVERS")

            def kafka_writer(worker: int, count: int) -> BatchWriter[Outcome]:
                return KafkaOutcomeWriter(SafeProducer(connection), kafka.topic, kafka.dlq_topic)

            writers.append(("kafka", kafka_writer))

        if settings.jobs.enabled:
            if url is None:
                raise ConfigError("jobs.enabled needs the PostgreSQL sink (the queue lives there)")
            job_reader = JobReader(
                JobStore(url),
                job_provider(settings.jobs, os.environ),
                max_active=settings.jobs.max_active,
                stop_when_idle=jobs_until_idle,
            )
            readers = [*readers, job_reader]

        def summary_writer(worker: int, count: int) -> BatchWriter[Outcome]:
            return SummaryWriter(summary)

        writers.append(("summary", summary_writer))
        shared_dedup = (
            RedisDedup(env.redis_url, settings.pipeline.dedup_window) if env.redis_url else None
        )
        chunk_analyzer = make_chunk_analyzer(settings, env, url)
        built = build_analysis_flow(
            readers,
            chunk_analyzer,
            settings.pipeline,
            writers,
            limit=limit,
            shared_dedup=shared_dedup.check if shared_dedup else None,
            max_in_flight=settings.analyzer.max_in_flight,
            alert_rules=make_rules(settings.alerts),
            on_read=on_read,
            dedup_dir=dedup_segments_dir(env.home / "recovery") if recovery else None,
        )
        shape = FlowShape(
            built.flow.flow_id,
            built.source.list_parts(),
            None if shared_dedup else settings.pipeline.dedup_shards,
        )
        rec = (
            prepared_recovery(env.home / "recovery", shape, reset=reset_recovery)
            if recovery
            else None
        )
        alerts = _start_alerts(settings, url) if url is not None else None
        printer = SummaryPrinter(summary) if live else None
        if printer:
            printer.start()
        metrics.UP.set(1)
        try:
            with graceful_interrupt(built.stop):
                run_dataflow(
                    built.flow,
                    workers=workers,
                    snapshot_interval=settings.pipeline.snapshot_interval,
                    recovery=rec,
                )
        finally:
            metrics.UP.set(0)
            close_cache(chunk_analyzer.cache)
            if printer:
                printer.stop()
            flusher.stop()
            if ops:
                ops.stop()
            if alerts:
                # never past the job's own stop bound
                alerts.stop(SHUTDOWN.remaining(settings.alerts.stop_timeout.total_seconds()))
    return summary


class _no_database:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
