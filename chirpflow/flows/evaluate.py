"""``chirpflow eval``: score the configured analyzer on a labelled set (TweetEval layout).

``DIR/val_text.txt`` holds one tweet per line, ``DIR/val_labels.txt`` the
label ids on the same lines, ``DIR/mapping.txt`` (optional) ``id<TAB>name``
per label. A folder whose labels are not the task's is refused: scoring
sentiment on hate labels gives a meaningless number. Sentiment is scored by
macro recall, offensive and hate by macro F1 (the tasks' official metrics),
once per batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chirpflow.errors import ConfigError
from chirpflow.model import RiskFlag, Sentiment, Tweet, TweetAnalysis, make_origin
from chirpflow.operators.analyzer import Analyzer, produces_analyses
from chirpflow.operators.offline.metrics import confusion, macro_f1, macro_recall

SENTIMENT_IDS = {Sentiment.NEGATIVE: 0, Sentiment.NEUTRAL: 1, Sentiment.POSITIVE: 2}


def _sentiment(a: TweetAnalysis) -> int:
    return SENTIMENT_IDS[a.sentiment]


def _abusive(a: TweetAnalysis) -> int:
    return int(RiskFlag.TOXICITY in a.flags)


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    labels: tuple[str, ...]  # by label id, as in the folder's mapping.txt
    label_of: Callable[[TweetAnalysis], int]
    metric_name: str
    metric: Callable[[Sequence[int], Sequence[int], int], float]

    @property
    def classes(self) -> int:
        return len(self.labels)


TASKS = {
    "sentiment": Task(
        "sentiment", ("negative", "neutral", "positive"), _sentiment, "macro_recall", macro_recall
    ),
    "offensive": Task("offensive", ("not-offensive", "offensive"), _abusive, "macro_f1", macro_f1),
    "hate": Task("hate", ("not-hate", "hate"), _abusive, "macro_f1", macro_f1),
}


def load_split(data: Path, task: str) -> tuple[list[str], list[int]]:
    """Texts and labels from ``data`` or ``data/<task>``, checked against the task."""
    folder = data / task if (data / task / "val_text.txt").exists() else data
    texts_file, labels_file = folder / "val_text.txt", folder / "val_labels.txt"
    if not texts_file.exists() or not labels_file.exists():
        raise ConfigError(f"--data {data}: expected val_text.txt and val_labels.txt in it")
    check_labels_match(folder, TASKS[task])
    texts = texts_file.read_text(encoding="utf-8").splitlines()
    labels = _label_ids(labels_file, TASKS[task])
    if len(texts) != len(labels):
        raise ConfigError(f"{folder}: {len(texts)} texts but {len(labels)} labels")
    return texts, labels


def _names(labels: Sequence[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(labels))


def check_labels_match(folder: Path, task: Task) -> None:
    """Refuse a folder labelled for another task (by its mapping.txt, else its name)."""
    mapping = folder / "mapping.txt"
    if mapping.exists():
        rows = [line.split(None, 1) for line in mapping.read_text(encoding="utf-8").splitlines()]
        found = tuple(row[-1].strip() for row in rows if row)  # "0<TAB>negative" per line
        if found != task.labels:
            raise ConfigError(
                f"--data {folder}: its labels ({_names(found)}, from mapping.txt) are not "
                f"the {task.name} task's ({_names(task.labels)}); pick the {task.name} data"
            )
    elif folder.name in TASKS and folder.name != task.name:
        raise ConfigError(
            f"--data {folder}: this is {folder.name} data, not {task.name} "
            f"(labels {_names(task.labels)})"
        )


def _label_ids(path: Path, task: Task) -> list[int]:
    ids = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        value = line.strip()
        if not value.isdigit() or int(value) >= task.classes:
            raise ConfigError(
                f"{path}:{n}: {value!r} is not a {task.name} label id ({_names(task.labels)})"
            )
        ids.append(int(value))
    return ids


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
    if not produces_analyses(analyzer):
        raise ConfigError(f"the {analyzer.name} analyzer produces no analyses: nothing to score")
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
        "labels": list(task.labels),
        "score": task.metric(labels, predicted, task.classes),
        "confusion": confusion(labels, predicted, task.classes),
        "failed": failed,
        "requests": requests,
        "prompt_tokens_per_1k": 1000 * prompt / n,
        "completion_tokens_per_1k": 1000 * completion / n,
        "usd_per_1k": 1000 * cost / n,
    }
