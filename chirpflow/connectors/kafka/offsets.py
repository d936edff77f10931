"""Topic layout and offset lookups: partitions, watermarks, timestamp -> offset.

The normal path is what Apache Kafka documents: the high watermark is the
end of a partition, ``offsets_for_times`` gives the first offset at or after
a timestamp. Each answer is checked before it is used:

- the end: a correct broker answers "the first message at or after the far
  future" with -1 (none) or the high watermark itself. Only when it does not
  (Tansu reports a high watermark of 1 for partitions written by an
  idempotent producer and answers 0 to every timestamp) is the partition
  probed past the watermark;
- a timestamp's offset: checked against the timestamps of the message it
  names and of the one before it; only when that fails does a binary search
  over message timestamps run, which assumes timestamps grow with offsets
  within a partition (true for LogAppendTime and for producers stamping
  CreateTime as they send).

Each fallback is logged once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from confluent_kafka import Consumer, TopicPartition

from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.errors import ConfigError, ServiceError
from chirpflow.kafka_connection import KafkaConnection

TIMEOUT_S = 10.0
FAR_FUTURE_MS = 2**62  # later than any message's timestamp
log = logging.getLogger(__name__)
_logged: set[str] = set()


def _once(kind: str, message: str, *args: object) -> None:
    if kind not in _logged:
        _logged.add(kind)
        log.warning(message, *args)


def consumer(kafka: KafkaConnection | str) -> Consumer:
    return Consumer(
        client_config(
            kafka,
            **{
                "group.id": "chirpflow-offsets",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 10,
            },
        )
    )


def partitions(c: Consumer, topic: str) -> list[int]:
    meta = c.list_topics(topic, timeout=TIMEOUT_S)
    info = meta.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        raise ConfigError(f"kafka topic {topic!r} does not exist (or has no partitions)")
    return sorted(info.partitions)


def watermarks(c: Consumer, topic: str, partition: int) -> tuple[int, int]:
    """(low, high): the first offset still stored and the next offset to be written."""
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT_S)
    except Exception as err:
        raise ServiceError(f"kafka: watermarks of {topic}[{partition}]: {err}") from None
    return int(low), int(high)


def end_offset(c: Consumer, topic: str, partition: int, probe_s: float = 1.0) -> int:
    """The next offset to be written: the high watermark, once the broker's answers agree."""
    _, high = watermarks(c, topic, partition)
    far = c.offsets_for_times([TopicPartition(topic, partition, FAR_FUTURE_MS)], timeout=TIMEOUT_S)
    return checked_end(
        high,
        far[0].offset if far[0].error is None else None,
        lambda: _probe_end(c, topic, partition, high, probe_s),
        f"{topic}[{partition}]",
    )


def checked_end(high: int, far_answer: int | None, probe: Callable[[], int], where: str) -> int:
    """``high`` when the broker's answer for the far future agrees with it, else ``probe()``."""
    if far_answer is not None and far_answer in (-1, high):
        return high
    _once(
        "end",
        "kafka: the broker's offsets for %s disagree (high watermark %d, far future at %s): "
        "finding partition ends by reading past the watermark",
        where,
        high,
        far_answer,
    )
    return probe()


def _probe_end(c: Consumer, topic: str, partition: int, high: int, probe_s: float) -> int:
    """Read forward from ``high`` to the last message actually stored."""
    c.assign([TopicPartition(topic, partition, high)])
    try:
        end = high
        while True:
            msg = c.poll(probe_s)
            if msg is None or msg.error() is not None:
                return end
            offset = msg.offset()
            if offset is not None and offset >= end:
                end = offset + 1
    finally:
        c.unassign()


def timestamp_at(c: Consumer, topic: str, partition: int, offset: int) -> int | None:
    """Milliseconds timestamp of the message at ``offset`` (or the next one present)."""
    c.assign([TopicPartition(topic, partition, offset)])
    try:
        msg = c.poll(TIMEOUT_S)
        if msg is None or msg.error() is not None:
            return None
        return int(msg.timestamp()[1])
    finally:
        c.unassign()


def offset_for_time(c: Consumer, topic: str, partition: int, when: datetime) -> int:
    """The first offset whose message timestamp is >= ``when`` (high watermark if none)."""
    ms = int(when.timestamp() * 1000)
    low, _ = watermarks(c, topic, partition)
    high = end_offset(c, topic, partition)
    if low >= high:
        return high
    answer = c.offsets_for_times([TopicPartition(topic, partition, ms)], timeout=TIMEOUT_S)[0]
    if answer.error is None and _is_first_at_or_after(
        c, topic, partition, answer.offset, ms, low, high
    ):
        return high if answer.offset < 0 else int(answer.offset)
    _once(
        "times",
        "kafka: offsets_for_times gave %s for %s[%d], which its messages contradict: "
        "searching message timestamps instead",
        answer.offset,
        topic,
        partition,
    )
    return _search(c, topic, partition, ms, low, high)


def _is_first_at_or_after(
    c: Consumer, topic: str, partition: int, offset: int, ms: int, low: int, high: int
) -> bool:
    if offset < 0:  # the broker says: nothing at or after ``ms``
        last = timestamp_at(c, topic, partition, high - 1)
        return last is not None and last < ms
    if not low <= offset <= high:
        return False
    if offset < high:
        ts = timestamp_at(c, topic, partition, offset)
        if ts is None or ts < ms:
            return False
    if offset > low:
        before = timestamp_at(c, topic, partition, offset - 1)
        if before is None or before >= ms:
            return False
    return True


def _search(c: Consumer, topic: str, partition: int, ms: int, low: int, high: int) -> int:
    lo, hi = low, high  # invariant: answer in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        ts = timestamp_at(c, topic, partition, mid)
        if ts is None:
            raise ServiceError(f"kafka: no message at {topic}[{partition}]@{mid}")
        if ts < ms:
            lo = mid + 1
        else:
            hi = mid
    return lo


def parse_offsets(spec: str) -> dict[int, int]:
    """``"0:120,1:98"`` -> {0: 120, 1: 98}; errors name the bad part."""
    out: dict[int, int] = {}
    for part in spec.split(","):
        p, sep, o = part.strip().partition(":")
        if not sep or not p.isdigit() or not o.isdigit():
            raise ConfigError(f"--from-offset: expected PARTITION:OFFSET[,...], got {part!r}")
        out[int(p)] = int(o)
    return out
