"""Classification metrics for evaluations: confusion matrix, macro recall, macro F1."""

from __future__ import annotations

from collections.abc import Sequence


def confusion(gold: Sequence[int], pred: Sequence[int], classes: int) -> list[list[int]]:
    """``m[g][p]``: how many items of gold class g were predicted as p."""
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    m = [[0] * classes for _ in range(classes)]
    for g, p in zip(gold, pred, strict=True):
        m[g][p] += 1
    return m


def macro_recall(gold: Sequence[int], pred: Sequence[int], classes: int) -> float:
    m = confusion(gold, pred, classes)
    recalls = [m[c][c] / sum(m[c]) for c in range(classes) if sum(m[c])]
    return sum(recalls) / len(recalls) if recalls else 0.0


def macro_f1(gold: Sequence[int], pred: Sequence[int], classes: int) -> float:
    m = confusion(gold, pred, classes)
    scores = []
    for c in range(classes):
        tp = m[c][c]
        predicted = sum(m[g][c] for g in range(classes))
        actual = sum(m[c])
        p = tp / predicted if predicted else 0.0
        r = tp / actual if actual else 0.0
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(scores) / classes
