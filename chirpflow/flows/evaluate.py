"""``chirpflow eval``: score the configured analyzer on a labelled set (TweetEval layout).

``DIR/val_text.txt`` holds one tweet per line, ``DIR/val_labels.txt`` the
label ids on the same lines. Sentiment is scored by macro recall, offensive
and hate by macro F1 (the tasks' official metrics), once per batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chirpflow.errors import ConfigError
from chirpflow.model import RiskFlag, Sentiment, Tweet, TweetAnalysis, make_origin
from chirpflow.operators.analyzer import Analyzer
from chirpflow.operators.offline.metrics import confusion, macro_f1, macro_recall

SENTIMENT_IDS = {Sentiment.NEGATIVE: 0, Sentiment.NEUTRAL: 1, Sentiment.POSITIVE: 2}


def _sentiment(a: TweetAnalysis) -> int:
    return SENTIMENT_IDS[a.sentiment]


def _abusive(a: TweetAnalysis) -> int:
    return int(RiskFlag.TOXICITY in a.flags)


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    classes: int
    label_of: Callable[[TweetAnalysis], int]
    metric_name: str
    metric: Callable[[Sequence[int], Sequence[int], int], float]


TASKS = {
    "sentiment": Task("sentiment", 3, _sentiment, "macro_recall", macro_recall),
    "offensive": Task("offensive", 2, _abusive, "macro_f1", macro_f1),
    "hate": Task("hate", 2, _abusive, "macro_f1", macro_f1),
}


def load_split(data: Path, task: str) -> tuple[list[str], list[int]]:
    """Texts and labels from ``data`` or ``data/<task>``."""
    folder = data / task if (data / task / "val_text.txt").exists() else data
    texts_file, labels_file = folder / "val_text.txt", folder / "val_labels.txt"
    if not texts_file.exists() or not labels_file.exists():
        raise ConfigError(f"--data {data}: expected val_text.txt and val_labels.txt in it")
    texts = texts_file.read_text(encoding="utf-8").splitlines()
    labels = [int(x) for x in labels_file.read_text(encoding="utf-8").split()]
    if len(texts) != len(labels):
        raise ConfigError(f"{folder}: {len(texts)} texts but {len(labels)} labels")
    return texts, labels


def as_tweets(texts: Sequence[str]) -> list[Tweet]:
    now = datetime.now(UTC)
    return [
        Tweet(
            id=str(i + 1),
            text=t,
            author_id="1",
            created_at=now,
            origin=make_origin("eval:0", i),
            source="eval",
            fetched_at=now,
        )
        for i, t in enumerate(texts)
    ]


def evaluate(
    analyzer: Analyzer,
    task_name: str,
    texts: Sequence[str],
    labels: Sequence[int],
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """One run over the set in batches of ``batch_size``; metric, confusion, tokens, cost."""
    task = TASKS[task_name]
    tweets = as_tweets(texts)
    pred: dict[str, int] = {}
    prompt = completion = requests = failed = 0
    cost = 0.0
    for start in range(0, len(tweets), batch_size):
        batch = tweets[start : start + batch_size]
        out = analyzer.analyze(batch)
        for a in out.analyses:
            pred[a.tweet_id] = task.label_of(a)
        failed += len(out.failures)
        prompt += out.prompt_tokens
        completion += out.completion_tokens
        requests += out.requests
        cost += out.cost_usd
        if progress:
            progress(len(batch))
    # an unanswered tweet counts as the most common class guess (0): it must not vanish
    predicted = [pred.get(t.id, 0) for t in tweets]
    n = len(tweets) or 1
    return {
        "task": task.name,
        "batch_size": batch_size,
        "tweets": len(tweets),
        "metric": task.metric_name,
        "score": task.metric(labels, predicted, task.classes),
        "confusion": confusion(labels, predicted, task.classes),
        "failed": failed,
        "requests": requests,
        "prompt_tokens_per_1k": 1000 * prompt / n,
        "completion_tokens_per_1k": 1000 * completion / n,
        "usd_per_1k": 1000 * cost / n,
    }
