from __future__ import annotations

import pytest

from chirpflow.operators.offline.metrics import confusion, macro_f1, macro_recall


def test_metrics_against_hand_computed_values() -> None:
    gold = [0, 0, 1, 1, 1, 2]
    pred = [0, 1, 1, 1, 0, 2]
    assert confusion(gold, pred, 3) == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert macro_recall(gold, pred, 3) == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    # class 0: p=1/2 r=1/2 f=.5; class 1: p=2/3 r=2/3; class 2: 1
    assert macro_f1(gold, pred, 3) == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert macro_f1([0, 1], [1, 0], 2) == 0.0
    with pytest.raises(ValueError):
        confusion([0], [0, 1], 2)
