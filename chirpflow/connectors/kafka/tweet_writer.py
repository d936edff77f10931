"""Ingest output: normalized tweets to a topic, dead letters to a DLQ topic.

Key = the tweet's source key (its watched item, else its source), value =
the Tweet JSON that ``chirpflow.operators.normalize`` reads back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.model import DeadLetter, Tweet
from chirpflow.serialization import dumps, tweet_to_json


class KafkaTweetWriter:
    def __init__(self, producer: SafeProducer, topic: str, dlq_topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.tweets = 0
        self.dead = 0

    def write(self, items: Sequence[Tweet | DeadLetter]) -> None:
        for item in items:
            if isinstance(item, Tweet):
                self.producer.produce(self.topic, item.watch or item.source, tweet_to_json(item))
                self.tweets += 1
            else:
                self.producer.produce(self.dlq_topic, item.origin, dumps(asdict(item)))
                self.dead += 1
        self.producer.flush()

    def close(self) -> None:
        self.producer.close()
