"""Ingest output: normalized tweets to a topic, dead letters to a DLQ topic.

Key = what ``[ingest] key`` names (default the tweet id, which spreads
evenly and keeps every copy of one tweet in one partition), value = the Tweet
JSON that ``chirpflow.operators.normalize`` reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

from chirpflow.connectors.kafka.producer import SafeProducer
from chirpflow.model import DeadLetter, Tweet
from chirpflow.serialization import dumps, tweet_to_json

MessageKey = Callable[[Tweet], str]
MESSAGE_KEYS: dict[str, MessageKey] = {
    "tweet_id": lambda t: t.id,
    "conversation": lambda t: t.conversation_id or t.id,
    "author": lambda t: t.author_id,
    "watch": lambda t: t.watch or t.source,
}


class KafkaTweetWriter:
    def __init__(
        self, producer: SafeProducer, topic: str, dlq_topic: str, key: str = "tweet_id"
    ) -> None:
        self.producer = producer
        self.key_of = MESSAGE_KEYS[key]
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.tweets = 0
        self.dead = 0

    def write(self, items: Sequence[Tweet | DeadLetter]) -> None:
        for item in items:
            if isinstance(item, Tweet):
                self.producer.produce(self.topic, self.key_of(item), tweet_to_json(item))
                self.tweets += 1
            else:
                self.producer.produce(self.dlq_topic, item.origin, dumps(asdict(item)))
                self.dead += 1
        self.producer.flush()

    def close(self) -> None:
        self.producer.close()
