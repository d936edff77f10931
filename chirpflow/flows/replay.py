"""``chirpflow replay``: re-analyse exactly one range of a Kafka topic.

The range is resolved to (start, end) offsets per partition before the run
(``end`` exclusive), independent of the live job's recovery state (the replay
runs without recovery). Origins are the same as the live job's
(``kafka:TOPIC:PARTITION:OFFSET``) and rows are upserted, so a replay never
duplicates rows; cached analyses cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from chirpflow.connectors.kafka import offsets
from chirpflow.errors import ConfigError
from chirpflow.flows.build import kafka_readers
from chirpflow.flows.job import run_job
from chirpflow.flows.summary import RunSummary
from chirpflow.kafka_connection import KafkaConnection
from chirpflow.settings import Environment, Settings

SOURCE = "kafka"  # the same source name as `chirpflow run --source kafka`


@dataclass(frozen=True)
class ReplayRange:
    from_beginning: bool = False
    from_offsets: dict[int, int] | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None  # None: up to the end as it is when the replay starts

    def __post_init__(self) -> None:
        starts = sum(
            [self.from_beginning, self.from_offsets is not None, self.from_time is not None]
        )
        if starts != 1:
            raise ConfigError(
                "replay: give exactly one of --from-beginning, --from-offset, --from-timestamp"
            )
        if self.from_time and self.to_time and self.to_time <= self.from_time:
            raise ConfigError("replay: --to-timestamp must be after --from-timestamp")


def resolve(kafka: KafkaConnection | str, topic: str, r: ReplayRange) -> dict[int, tuple[int, int]]:
    """Partition -> (start, end) offsets, end exclusive; empty ranges are left out."""
    c = offsets.consumer(kafka)
    try:
        parts = offsets.partitions(c, topic)
        if r.from_offsets is not None:
            unknown = sorted(set(r.from_offsets) - set(parts))
            if unknown:
                raise ConfigError(
                    f"--from-offset: topic {topic!r} has no partition {unknown[0]}"
                    f" (partitions: {parts})"
                )
        out: dict[int, tuple[int, int]] = {}
        for p in parts:
            low, _ = offsets.watermarks(c, topic, p)
            high = offsets.end_offset(c, topic, p)
            if r.from_beginning:
                start = low
            elif r.from_offsets is not None:
                if p not in r.from_offsets:
                    continue
                start = max(low, r.from_offsets[p])
            else:
                assert r.from_time is not None
                start = offsets.offset_for_time(c, topic, p, r.from_time)
            end = high if r.to_time is None else offsets.offset_for_time(c, topic, p, r.to_time)
            if end > start:
                out[p] = (start, end)
        return out
    finally:
        c.close()


def run_replay(
    settings: Settings, env: Environment, topic: str, r: ReplayRange, *, live: bool = True
) -> tuple[RunSummary, dict[int, tuple[int, int]]]:
    kafka = env.with_kafka_settings(settings).kafka
    if kafka is None:
        raise ConfigError("chirpflow replay needs KAFKA_BOOTSTRAP_SERVERS")
    ranges = resolve(kafka, topic, r)
    if not ranges:
        return RunSummary(), ranges
    readers = kafka_readers(SOURCE, kafka, topic, {p: (s, e) for p, (s, e) in ranges.items()})
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not live,
    )
    tasks = {
        f"{SOURCE}:{topic}:{p}": progress.add_task(f"{topic}[{p}]", total=e - s)
        for p, (s, e) in ranges.items()
    }

    def advance(stream: str, n: int) -> None:
        if stream in tasks:
            progress.advance(tasks[stream], n)

    with progress:
        summary = run_job(
            settings, env, readers=readers, recovery=False, live=False, on_read=advance
        )
    return summary, ranges
