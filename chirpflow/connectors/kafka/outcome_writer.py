"""Optional Kafka output: analyses to a topic, dead letters to a DLQ topic.

Messages are keyed by tweet id (analyses) or origin (dead letters), so a
replay produces the same keys; consumers that compact or upsert see no
duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import orjson

from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.model import ChunkResult, DeadLetter, Outcome
from chirpflow.serialization import dumps, post_to_dict


class KafkaOutcomeWriter:
    def __init__(self, producer: SafeProducer, topic: str, dlq_topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.dlq_topic = dlq_topic

    def _dead(self, d: DeadLetter) -> None:
        self.producer.produce(self.dlq_topic, d.origin, dumps(asdict(d)))

    def write(self, items: Sequence[Outcome]) -> None:
        for item in items:
            if isinstance(item, ChunkResult):
                tweets = {t.id: t for t in item.chunk.tweets}
                for a in item.analyses:
                    doc = {
                        "tweet": post_to_dict(tweets[a.tweet_id]),
                        "analysis": asdict(a),
                        "chunk_id": item.analysis.chunk_id,
                    }
                    self.producer.produce(self.topic, a.tweet_id, orjson.dumps(doc))
                for d in item.dead_letters:
                    self._dead(d)
            elif isinstance(item, DeadLetter):
                self._dead(item)
        self.producer.flush()

    def close(self) -> None:
        self.producer.close()
