"""Topic layout and offset lookups: partitions, watermarks, timestamp -> offset.

``offsets_for_times`` is asked first and its answer checked against the
messages' own timestamps; brokers that do not implement it (Tansu answers 0
for every timestamp) fall back to a binary search over message timestamps,
which assumes timestamps grow with offsets within a partition (true for
LogAppendTime and for producers stamping CreateTime as they send).
"""

from __future__ import annotations

from datetime import datetime

from confluent_kafka import Consumer, TopicPartition

from chirpflow.connectors.kafka.client_logs import client_config
from chirpflow.errors import ConfigError, ServiceError

TIMEOUT_S = 10.0


def consumer(bootstrap: str) -> Consumer:
    return Consumer(
        client_config(
            bootstrap,
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
    """The next offset to be written, checked against the log itself.

    The high watermark is trusted only if nothing is found at it: Tansu
    reports 1 for a partition written by an idempotent producer whatever it
    holds. When a message is found there, the partition is read forward to
    its real end.
    """
    _, high = watermarks(c, topic, partition)
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
